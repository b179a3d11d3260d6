// sizecgo links a little C code through cgo, so gopack size can check that C functions are
// attributed (from .symtab and the C compile units of the DWARF).
package main

/*
#include <stdint.h>

uint64_t gopack_size_checksum(const unsigned char *p, int n) {
	uint64_t h = 1469598103934665603ULL;
	for (int i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

func main() {
	b := []byte("gopack")
	fmt.Println(uint64(C.gopack_size_checksum((*C.uchar)(unsafe.Pointer(&b[0])), C.int(len(b)))))
}
