// Command twocgo uses three cgo modules: SQLite (mattn/go-sqlite3, bundled C sources),
// zstd (DataDog/zstd, bundled C sources) and ZeroMQ (pebbe/zmq4, libzmq via pkg-config).
package main

import (
	"database/sql"
	"fmt"

	"github.com/DataDog/zstd"
	_ "github.com/mattn/go-sqlite3"
	zmq "github.com/pebbe/zmq4"
)

func main() {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	packed, err := zstd.Compress(nil, []byte("gopack"))
	if err != nil {
		panic(err)
	}
	major, minor, patch := zmq.Version()
	fmt.Println(len(packed), major, minor, patch)
}
