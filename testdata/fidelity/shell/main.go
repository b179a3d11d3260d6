// shell runs /bin/sh by its absolute path, as cron runners and git wrappers do.
package main

import (
	"fmt"
	"os"
	"os/exec"
)

func main() {
	out, err := exec.Command("/bin/sh", "-c", "echo hi from sh").CombinedOutput()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	fmt.Print(string(out))
}
