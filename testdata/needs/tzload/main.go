// Command tzload loads a named time zone from the system zoneinfo database.
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	name := "Europe/Paris"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).In(loc))
}
