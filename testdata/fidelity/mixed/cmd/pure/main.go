// pure uses no cgo.
package main

import "fmt"

func main() { fmt.Println("pure") }
