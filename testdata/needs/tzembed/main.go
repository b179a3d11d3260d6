// Command tzembed loads a named time zone from the zoneinfo database embedded by time/tzdata.
package main

import (
	"fmt"
	"os"
	"time"
	_ "time/tzdata"
)

func main() {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).In(loc))
}
