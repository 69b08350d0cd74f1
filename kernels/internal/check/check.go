// Package check holds the argument checks shared by the CPU kernels
// (package kernels) and their float64 references (package kernels/ref):
// both panic on programmer misuse with a message naming the operation.
package check

import (
	"fmt"
	"math"
)

// Size returns the product of non-negative sizes, panicking with a message
// naming op if any size is negative or the product overflows an int.
func Size(op string, sizes ...int) int {
	n := 1
	for _, s := range sizes {
		if s < 0 {
			panic(fmt.Sprintf("kernels: %s: negative size %d", op, s))
		}
		if s != 0 && n > math.MaxInt/s {
			panic(fmt.Sprintf("kernels: %s: size product overflows int", op))
		}
		n *= s
	}
	return n
}

// Len panics unless len(s) == want.
func Len[T any](op, name string, s []T, want int) {
	if len(s) != want {
		panic(fmt.Sprintf("kernels: %s: len(%s) = %d, want %d", op, name, len(s), want))
	}
}

// AtLeast panics unless len(s) ≥ want.
func AtLeast[T any](op, name string, s []T, want int) {
	if len(s) < want {
		panic(fmt.Sprintf("kernels: %s: len(%s) = %d, want at least %d", op, name, len(s), want))
	}
}
