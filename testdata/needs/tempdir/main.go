// Command tempdir creates a temporary directory in os.TempDir (/tmp unless $TMPDIR is set).
package main

import (
	"fmt"
	"os"
)

func main() {
	dir, err := os.MkdirTemp("", "gopack-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	fmt.Println(dir)
}
