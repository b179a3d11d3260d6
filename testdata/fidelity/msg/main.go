// msg prints values set at link time (-X) and by build tags, so a test can see which flags
// reached the binary.
package main

import "fmt"

var (
	msg     = "unset"
	version = "unset"
	other   = "unset"
	tag     = "none"
)

func main() {
	fmt.Printf("msg=%s version=%s other=%s tag=%s\n", msg, version, other, tag)
}
