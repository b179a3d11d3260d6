// hello is a small HTTP server used as gopack's bundled example and end-to-end test program.
// GET /healthz answers "ok"; GET /info reports what the program sees inside its image.
package main

import (
	"crypto/x509"
	"encoding/json"
	"log"
	"net/http"
	"os"
	"runtime"
)

func main() {
	addr := ":" + envOr("PORT", "8080")
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	http.HandleFunc("/info", func(w http.ResponseWriter, _ *http.Request) {
		roots := 0
		pool, err := x509.SystemCertPool()
		if err == nil {
			roots = len(pool.Subjects()) //nolint:staticcheck // counting roots is the point here
		}
		_, shellErr := os.Stat("/bin/sh")
		json.NewEncoder(w).Encode(map[string]any{
			"uid":       os.Getuid(),
			"gid":       os.Getgid(),
			"ca_roots":  roots,
			"has_shell": shellErr == nil,
			"go":        runtime.Version(),
		})
	})
	log.Printf("hello listening on %s", addr)
	log.Fatal(http.ListenAndServe(addr, nil))
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
