module example.com/sizecgo

go 1.22
