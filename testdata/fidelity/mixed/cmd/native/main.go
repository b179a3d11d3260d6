// native uses cgo.
package main

/*
static int seven(void) { return 7; }
*/
import "C"

import "fmt"

func main() { fmt.Println("native", int(C.seven())) }
