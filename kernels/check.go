package kernels

import (
	"sync"

	"github.com/sgds/sgds/kernels/internal/check"
)

// prod returns the product of non-negative sizes, panicking with a message
// naming op if any size is negative or the product overflows an int.
func prod(op string, sizes ...int) int { return check.Size(op, sizes...) }

// checkLen panics unless len(s) == want.
func checkLen[T any](op, name string, s []T, want int) { check.Len(op, name, s, want) }

// pool recycles work buffers of T so that kernels called without scratch
// space do not allocate in the steady state.
type pool[T any] struct{ p sync.Pool } // of *[]T

// get returns a buffer of length n (contents undefined); give it back with
// put.
func (q *pool[T]) get(n int) *[]T {
	if p, ok := q.p.Get().(*[]T); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	s := make([]T, n)
	return &s
}

func (q *pool[T]) put(p *[]T) { q.p.Put(p) }

var (
	f64Pool pool[float64] // float64 accumulators
	f32Pool pool[float32] // packed GEMM operands
	intPool pool[int]     // offsets
)
