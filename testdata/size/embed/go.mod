module example.com/sizeembed

go 1.22
