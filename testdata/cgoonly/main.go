// cgoonly is made only of cgo code: with CGO_ENABLED=0 Go excludes every file.
package main

/*
static int answer(void) { return 42; }
*/
import "C"

import "fmt"

func main() { fmt.Println(int(C.answer())) }
