// Package greet is a library package: `gopack build ./internal/greet` must refuse it.
package greet

func Hello() string { return "hello" }
