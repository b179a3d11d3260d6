module example.com/needs/userdb

go 1.22
