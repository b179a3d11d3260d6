module example.com/needs/compute

go 1.22
