// Command userdb prints the current user, looked up in /etc/passwd.
package main

import (
	"fmt"
	"os"
	"os/user"
)

func main() {
	u, err := user.Current()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(u.Uid, u.Username, u.HomeDir)
}
