module example.com/tzinit

go 1.22
