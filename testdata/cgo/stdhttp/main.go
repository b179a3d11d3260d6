// Command stdhttp is a standard-library HTTP server: net and os/user use cgo only inside the
// standard library, which never forces a cgo build.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os/user"
)

func main() {
	u, err := user.Current()
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s\n", u.Username)
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
