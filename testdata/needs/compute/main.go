// Command compute sums primes: it needs no file at run time.
package main

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	limit := 10000
	if len(os.Args) > 1 {
		if n, err := strconv.Atoi(os.Args[1]); err == nil {
			limit = n
		}
	}
	sum := 0
	for n := 2; n < limit; n++ {
		prime := true
		for d := 2; d*d <= n; d++ {
			if n%d == 0 {
				prime = false
				break
			}
		}
		if prime {
			sum += n
		}
	}
	fmt.Println(sum)
}
