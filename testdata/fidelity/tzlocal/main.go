// tzlocal prints the abbreviation of the local time zone (from TZ) at a fixed instant:
// "CET" with TZ=Europe/Berlin and the zone database present, "UTC" otherwise.
package main

import (
	"fmt"
	"time"
)

func main() {
	fmt.Println(time.Unix(1767268800, 0).Local().Format("MST"))
}
