module example.com/cgoonly

go 1.22
