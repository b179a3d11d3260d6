module example.com/needs/tlsclient

go 1.22
