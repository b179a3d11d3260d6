module example.com/cgo/twocgo

go 1.22

require (
	github.com/DataDog/zstd v1.5.7
	github.com/mattn/go-sqlite3 v1.14.53
	github.com/pebbe/zmq4 v1.4.0
)
