// Command cgoapp uses cgo, so gopack must pick the static-cgo recipe.
package main

/*
static int answer(void) { return 42; }
*/
import "C"

import "fmt"

func main() { fmt.Println(int(C.answer())) }
