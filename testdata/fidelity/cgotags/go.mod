module example.com/cgotags

go 1.22
