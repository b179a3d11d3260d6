// sizeembed embeds a text file as a string and a directory as an embed.FS, so gopack size can
// check that go:embed data is attributed to the embedding package.
package main

import (
	"embed"
	"fmt"
)

//go:embed notice.txt
var notice string

//go:embed static
var static embed.FS

func main() {
	entries, _ := static.ReadDir("static")
	fmt.Println(len(notice), len(entries))
}
