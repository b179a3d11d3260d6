// Package greet is a library package: not a command.
package greet

// Hello greets.
func Hello() string { return "hello" }
