package kernels

import (
	"fmt"
	"math"
	"sync"
)

// prod returns the product of non-negative sizes, panicking with a message
// naming op if any size is negative or the product overflows an int.
func prod(op string, sizes ...int) int {
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

// checkLen panics unless len(s) == want.
func checkLen[T any](op, name string, s []T, want int) {
	if len(s) != want {
		panic(fmt.Sprintf("kernels: %s: len(%s) = %d, want %d", op, name, len(s), want))
	}
}

// f64Pool recycles float64 work buffers so that kernels called with a nil
// scratch slice do not allocate in the steady state.
var f64Pool sync.Pool // of *[]float64

// getF64 returns a pooled buffer of length n. Return it with putF64.
func getF64(n int) *[]float64 {
	if p, ok := f64Pool.Get().(*[]float64); ok {
		if cap(*p) >= n {
			*p = (*p)[:n]
			return p
		}
	}
	s := make([]float64, n)
	return &s
}

func putF64(p *[]float64) { f64Pool.Put(p) }
