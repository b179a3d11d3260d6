// Command sqlite runs a query with mattn/go-sqlite3 (cgo) on an in-memory database: it needs
// cgo, linked statically so the image stays on scratch.
package main

import (
	"database/sql"
	"fmt"
	"os"

	_ "github.com/mattn/go-sqlite3"
)

func main() {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer db.Close()
	var version string
	var sum int
	err = db.QueryRow(`WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < 10)
		SELECT sqlite_version(), (SELECT sum(x) FROM n)`).Scan(&version, &sum)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("sqlite %s sum=%d\n", version, sum)
}
