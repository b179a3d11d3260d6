module example.com/needs/tempdir

go 1.22
