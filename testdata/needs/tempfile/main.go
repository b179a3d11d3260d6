// Command tempfile writes a temporary file in os.TempDir (/tmp unless $TMPDIR is set).
package main

import (
	"fmt"
	"os"
)

func main() {
	f, err := os.CreateTemp("", "gopack-*.txt")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.Remove(f.Name())
	fmt.Fprintln(f, "hello")
	fmt.Println(f.Name())
	f.Close()
}
