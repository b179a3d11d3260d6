module example.com/needs/userlookups

go 1.22
