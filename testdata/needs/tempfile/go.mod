module example.com/needs/tempfile

go 1.22
