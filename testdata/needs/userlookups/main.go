// Command userlookups uses every os/user lookup: users by name and id, groups by name and id,
// and a user's group list. All read /etc/passwd or /etc/group.
package main

import (
	"fmt"
	"os"
	"os/user"
)

func main() {
	name := "root"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	u, err := user.Lookup(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	byID, err := user.LookupId(u.Uid)
	fmt.Println(byID, err)
	g, err := user.LookupGroup(name)
	fmt.Println(g, err)
	g, err = user.LookupGroupId(u.Gid)
	fmt.Println(g, err)
	ids, err := u.GroupIds()
	fmt.Println(ids, err)
}
