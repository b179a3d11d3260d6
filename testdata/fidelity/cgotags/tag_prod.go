//go:build prod

package main

func init() { tag = "prod" }
