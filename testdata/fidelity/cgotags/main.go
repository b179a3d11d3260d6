// cgotags uses cgo (so gopack links it statically with -tags netgo,osusergo) and has a file
// built only with the `prod` tag, so a test can see that the user's tags survive.
package main

/*
static int answer(void) { return 42; }
*/
import "C"

import "fmt"

var (
	version = "unset"
	tag     = "none"
)

func main() {
	fmt.Printf("answer=%d version=%s tag=%s\n", int(C.answer()), version, tag)
}
