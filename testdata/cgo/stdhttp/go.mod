module example.com/cgo/stdhttp

go 1.22
