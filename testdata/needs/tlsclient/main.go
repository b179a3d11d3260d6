// Command tlsclient fetches an HTTPS URL, verifying the server certificate
// against the system roots: it needs a CA bundle at run time.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	url := "https://example.com/"
	if len(os.Args) > 1 {
		url = os.Args[1]
	}
	resp, err := http.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, resp.Body)
	fmt.Println(resp.Status, n)
}
