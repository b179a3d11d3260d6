module example.com/msg

go 1.22
