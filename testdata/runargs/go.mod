module example.com/runargs

go 1.22
