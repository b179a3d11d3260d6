// sbomapp links two modules, one of which imports a third (cobra → pflag), so an SBOM has
// module-to-module edges; `version` is set with -ldflags -X by the tests.
package main

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
)

var version = "dev"

func main() {
	cmd := &cobra.Command{
		Use: "sbomapp",
		Run: func(*cobra.Command, []string) {
			fmt.Println(version, uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://example.com")))
		},
	}
	_ = cmd.Execute()
}
