module example.com/needs/tzembed

go 1.22
