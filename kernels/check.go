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

// freeList is a bounded, mutex-guarded list of recycled objects. Unlike a
// sync.Pool, the garbage collector never empties it, so a kernel that takes
// its scratch from one allocates nothing in the steady state, even across
// collections (the cpu backend asserts 0 allocations per step).
type freeList[T any] struct {
	mu   sync.Mutex
	free []*T
}

// maxFree bounds what a free list keeps: more than any worker pool holds at
// once.
const maxFree = 256

// take removes and returns the most recently given object for which fits
// returns true (nil fits anything), or nil when there is none.
func (l *freeList[T]) take(fits func(*T) bool) *T {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.free) - 1; i >= 0; i-- {
		if x := l.free[i]; fits == nil || fits(x) {
			last := len(l.free) - 1
			l.free[i] = l.free[last]
			l.free = l.free[:last]
			return x
		}
	}
	return nil
}

func (l *freeList[T]) give(x *T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.free) < maxFree {
		l.free = append(l.free, x)
	}
}

// pool recycles work buffers of T so that kernels called without scratch
// space do not allocate in the steady state.
type pool[T any] struct{ l freeList[[]T] }

// get returns a buffer of length n (contents undefined); give it back with
// put.
func (q *pool[T]) get(n int) *[]T {
	if p := q.l.take(func(p *[]T) bool { return cap(*p) >= n }); p != nil {
		*p = (*p)[:n]
		return p
	}
	s := make([]T, n)
	return &s
}

func (q *pool[T]) put(p *[]T) { q.l.give(p) }

var (
	f64Pool pool[float64] // float64 accumulators
	f32Pool pool[float32] // packed GEMM operands
	intPool pool[int]     // offsets
)
