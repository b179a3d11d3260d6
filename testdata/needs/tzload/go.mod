module example.com/needs/tzload

go 1.22
