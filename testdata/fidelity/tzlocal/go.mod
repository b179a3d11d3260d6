module example.com/tzlocal

go 1.22
