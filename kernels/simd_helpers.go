//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

type f32x8 = archsimd.Float32x8

func load8(s []float32) f32x8 { return archsimd.LoadFloat32x8Slice(s) }
func bcast8(x float32) f32x8  { return archsimd.BroadcastFloat32x8(x) }

// at returns the address of element off of the float32 array at p. The hot
// loops use it with loadAt and storeAt after checking, once per row or entry,
// that every lane they touch lies inside the slice p came from: the compiler
// cannot drop the per-load bounds checks there, and they cost more than the
// arithmetic.
func at(p unsafe.Pointer, off int) unsafe.Pointer { return unsafe.Add(p, off*4) }

// loadAt loads the 8 floats at p (bounds checked by the caller).
func loadAt(p unsafe.Pointer) f32x8 { return archsimd.LoadFloat32x8((*[8]float32)(p)) }

// loadPart loads the len(s) ≤ 8 elements of s into the low lanes of a
// vector, zeros above. It goes through a stack buffer rather than a masked
// load: archsimd's masked loads convert a short slice to a *[8]float32,
// which the race detector's pointer checks reject at the end of an
// allocation.
func loadPart(s []float32) f32x8 {
	if len(s) >= 8 {
		return load8(s)
	}
	var buf [8]float32
	copy(buf[:], s)
	return archsimd.LoadFloat32x8(&buf)
}

// storePart stores the low min(len(s), 8) lanes of x into s.
func storePart(x f32x8, s []float32) {
	if len(s) >= 8 {
		x.StoreSlice(s)
		return
	}
	var buf [8]float32
	x.Store(&buf)
	copy(s, buf[:])
}

// base returns the address of s's first element (s must not be empty).
func base(s []float32) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(s)) }
