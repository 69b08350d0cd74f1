package kernels

import (
	"fmt"
	"slices"
	"sync/atomic"
)

// The kernels of the cpu backend's step (Gemm, ConvPoolReLU and the pooled
// conv gradients, the row kernels and SGDMomentum) have two implementations
// each, chosen at run time:
//
//   - a portable one in plain Go (files *_generic.go, no build tag, always
//     compiled), scalar float32 arithmetic with one rounding per operation;
//   - a vector one (files *_simd.go, built with GOEXPERIMENT=simd on amd64)
//     written with the experimental simd/archsimd package of Go 1.26: AVX2
//     and FMA, 8 float32 lanes. It is compiled only when the toolchain runs
//     with GOEXPERIMENT=simd and is used only when the CPU has AVX2 and FMA.
//
// Both paths compute every output element in the same order; the vector path
// fuses each multiply-add (one rounding instead of two), so the two paths
// agree to float32 rounding, not bit for bit. Within one path the result of a
// kernel never depends on how the caller splits its work (row ranges, sample
// ranges), so a backend that splits work over goroutines by output element is
// bit-for-bit deterministic.

// FastPathBuilt reports whether this build contains the vector path
// (GOEXPERIMENT=simd on amd64).
const FastPathBuilt = simdBuilt

var fastOff atomic.Bool // set: use the portable path even where the vector one works

// FastPath reports whether the kernels currently run their vector path: it
// is built in, the CPU supports it, and UsePath has not selected the portable
// path.
func FastPath() bool { return simdBuilt && simdCPU && !fastOff.Load() }

// The kernel paths Paths lists and UsePath selects.
const (
	PathGeneric = "generic" // the portable path
	PathAVX2    = "avx2"    // the vector path, 8 lanes
	PathAVX512  = "avx512"  // the vector path, 16-lane micro-kernels where the CPU has AVX-512
)

// Paths lists the kernel paths this binary runs on this CPU, the portable
// one first and the default one last.
func Paths() []string {
	ps := []string{PathGeneric}
	if simdBuilt && simdCPU {
		ps = append(ps, PathAVX2)
		if wide512Default {
			ps = append(ps, PathAVX512)
		}
	}
	return ps
}

// UsePath makes the kernels run path p (one of Paths) and returns the
// function that restores the previous setting, for tests and benchmarks
// that compare the paths in one binary: defer kernels.UsePath(p)(). It
// must not be called while kernels run on other goroutines (their results
// would mix the paths), and it panics on a path this binary does not run.
func UsePath(p string) (restore func()) {
	if !slices.Contains(Paths(), p) {
		panic(fmt.Sprintf("kernels: path %q is not available (have %v)", p, Paths()))
	}
	off, wide := fastOff.Load(), wide512
	fastOff.Store(p == PathGeneric)
	wide512 = p == PathAVX512
	return func() {
		fastOff.Store(off)
		wide512 = wide
	}
}

// DisableFastPath makes the kernels run their portable path and returns
// the function that restores the previous setting:
// defer kernels.DisableFastPath()().
func DisableFastPath() (restore func()) { return UsePath(PathGeneric) }
