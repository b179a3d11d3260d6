// tzinit embeds time/tzdata, yet prints UTC when TZ is set and /usr/share/zoneinfo is missing:
// package early reads time.Local before time/tzdata is initialised.
package main

import (
	"fmt"
	"time"
	_ "time/tzdata"

	"example.com/tzinit/early"
)

func main() {
	fmt.Println(early.Zone, time.Unix(1767268800, 0).Local().Format("MST"))
}
