// Command api is a test program for gopack dockerfile.
package main

import "fmt"

func main() { fmt.Println("api") }
