// withdep uses one third-party module from the Go module proxy.
package main

import (
	"fmt"

	"github.com/google/uuid"
)

func main() {
	fmt.Println(uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://example.com")).String())
}
