// Command tzload loads a named time zone from the system zoneinfo database.
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).In(loc))
}
