// runargs reports what `gopack run` gave it, for the run tests: its arguments, user, working
// directory and a few environment variables, as one JSON line on stdout; then it exits with the
// code after -exit, or, with -serve PORT, serves /healthz until a signal (-ignore-term makes it
// ignore SIGTERM and SIGINT, so only SIGKILL stops it).
package main

import (
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	exit := flag.Int("exit", 0, "exit code")
	serve := flag.String("serve", "", "port to serve /healthz on")
	ignore := flag.Bool("ignore-term", false, "ignore SIGTERM and SIGINT")
	flag.Parse()
	wd, _ := os.Getwd()
	json.NewEncoder(os.Stdout).Encode(map[string]any{
		"args":     os.Args[1:],
		"uid":      os.Getuid(),
		"gid":      os.Getgid(),
		"cwd":      wd,
		"foo":      os.Getenv("FOO"),
		"port":     os.Getenv("PORT"),
		"home":     os.Getenv("HOME"),
		"terminal": isCharDevice(os.Stdout),
	})
	if *ignore {
		signal.Ignore(syscall.SIGTERM, syscall.SIGINT)
	}
	if *serve != "" {
		http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
		go http.ListenAndServe(":"+*serve, nil)
		for {
			time.Sleep(time.Hour)
		}
	}
	os.Exit(*exit)
}

// isCharDevice: a terminal (a pty under `gopack run` in a terminal), not a pipe or a file.
func isCharDevice(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
