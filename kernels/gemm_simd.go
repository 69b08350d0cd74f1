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

// storeAt stores x at p (bounds checked by the caller).
func storeAt(p unsafe.Pointer, x f32x8) { x.Store((*[8]float32)(p)) }

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

// loadAcc loads 8 accumulators from s when acc is set, else returns zeros.
func loadAcc(s []float32, acc bool) f32x8 {
	if acc {
		return archsimd.LoadFloat32x8Slice(s)
	}
	return f32x8{}
}

func loadAccPart(s []float32, acc bool) f32x8 {
	if acc {
		return loadPart(s)
	}
	return f32x8{}
}

// gemmSIMD is the vector path of Gemm for A with element (i, p) at
// a[i*rsA + p*csA] (one of the strides is 1) and row-major B (k×n, stride
// ldb), without checks. It walks B in panels of 32 (with AVX-512), 16, 8
// and fewer columns and, inside a panel, A in blocks of 4 rows then single
// rows. Each element is a chain of fused multiply-adds over p in increasing
// order, whatever block computes it.
func gemmSIMD(c []float32, ldc int, acc bool, a []float32, rsA, csA int, b []float32, ldb int, m, n, k int) {
	m4 := m &^ 3
	for j := 0; j < n; {
		w := n - j
		switch {
		case w >= 32 && wide512:
			w = 32
		case w >= 16:
			w = 16
		case w >= 8:
			w = 8
		}
		// Every panel kernel reads b[p*ldb+j : p*ldb+j+w] for p < k; a panel
		// narrower than 8 is first copied into a zero-padded k×8 buffer.
		_ = b[(k-1)*ldb+j : (k-1)*ldb+j+w]
		bj, ldbj := b[j:], ldb
		var pb *[]float32
		if w < 8 {
			pb = f32Pool.get(k * 8)
			for p := 0; p < k; p++ {
				row := (*pb)[p*8 : p*8+8]
				n := copy(row, b[p*ldb+j:p*ldb+j+w])
				clear(row[n:])
			}
			bj, ldbj = *pb, 8
		}
		for i := 0; i < m4; i += 4 {
			// A's block: rows i…i+3, read as a[i*rsA + r*rsA + p*csA].
			ab := a[i*rsA : i*rsA+3*rsA+(k-1)*csA+1]
			cc := c[i*ldc+j : (i+3)*ldc+j+w]
			switch w {
			case 32:
				kern4x32(cc, ldc, acc, ab, rsA, csA, k, bj, ldbj)
			case 16:
				kern4x16(cc, ldc, acc, ab, rsA, csA, k, bj, ldbj)
			default:
				kern4x8(cc, ldc, acc, ab, rsA, csA, k, bj, ldbj, w)
			}
		}
		for i := m4; i < m; i++ {
			kern1(c[i*ldc+j:i*ldc+j+w], acc, a[i*rsA:i*rsA+(k-1)*csA+1], csA, bj, ldbj)
		}
		if pb != nil {
			f32Pool.put(pb)
		}
		j += w
	}
}

// aAt returns A's element at offset off of the block ab (checked by the
// caller's slicing of ab).
func aAt(ap unsafe.Pointer, off int) float32 { return *(*float32)(at(ap, off)) }

type f32x16 = archsimd.Float32x16

func loadAt16(p unsafe.Pointer) f32x16 { return archsimd.LoadFloat32x16((*[16]float32)(p)) }

func loadAcc16(s []float32, acc bool) f32x16 {
	if acc {
		return archsimd.LoadFloat32x16Slice(s)
	}
	return f32x16{}
}

// kern4x32 is the 16-lane (AVX-512) kernel of a 4×32 block. A's rows r < 4
// are read as ab[r*ra + p*sa], ab sliced by the caller to cover them all;
// the caller has checked that b holds rows 0…k−1 of 32 columns (stride ldb).
func kern4x32(c []float32, ldc int, acc bool, ab []float32, ra, sa, k int, b []float32, ldb int) {
	ap := base(ab)
	c00 := loadAcc16(c[0:], acc)
	c01 := loadAcc16(c[16:], acc)
	c10 := loadAcc16(c[ldc:], acc)
	c11 := loadAcc16(c[ldc+16:], acc)
	c20 := loadAcc16(c[2*ldc:], acc)
	c21 := loadAcc16(c[2*ldc+16:], acc)
	c30 := loadAcc16(c[3*ldc:], acc)
	c31 := loadAcc16(c[3*ldc+16:], acc)
	bp, off, ao := base(b), 0, 0
	for p := 0; p < k; p++ {
		q := at(bp, off) // row p: never past the end (checkptr)
		off += ldb
		b0 := loadAt16(q)
		b1 := loadAt16(at(q, 16))
		x := archsimd.BroadcastFloat32x16(aAt(ap, ao))
		c00 = x.MulAdd(b0, c00)
		c01 = x.MulAdd(b1, c01)
		x = archsimd.BroadcastFloat32x16(aAt(ap, ao+ra))
		c10 = x.MulAdd(b0, c10)
		c11 = x.MulAdd(b1, c11)
		x = archsimd.BroadcastFloat32x16(aAt(ap, ao+2*ra))
		c20 = x.MulAdd(b0, c20)
		c21 = x.MulAdd(b1, c21)
		x = archsimd.BroadcastFloat32x16(aAt(ap, ao+3*ra))
		ao += sa
		c30 = x.MulAdd(b0, c30)
		c31 = x.MulAdd(b1, c31)
	}
	c00.StoreSlice(c[0:])
	c01.StoreSlice(c[16:])
	c10.StoreSlice(c[ldc:])
	c11.StoreSlice(c[ldc+16:])
	c20.StoreSlice(c[2*ldc:])
	c21.StoreSlice(c[2*ldc+16:])
	c30.StoreSlice(c[3*ldc:])
	c31.StoreSlice(c[3*ldc+16:])
}

// kern4x16 is the 8-lane kernel of a 4×16 block (A and b as for kern4x32).
func kern4x16(c []float32, ldc int, acc bool, ab []float32, ra, sa, k int, b []float32, ldb int) {
	ap := base(ab)
	c00 := loadAcc(c[0:], acc)
	c01 := loadAcc(c[8:], acc)
	c10 := loadAcc(c[ldc:], acc)
	c11 := loadAcc(c[ldc+8:], acc)
	c20 := loadAcc(c[2*ldc:], acc)
	c21 := loadAcc(c[2*ldc+8:], acc)
	c30 := loadAcc(c[3*ldc:], acc)
	c31 := loadAcc(c[3*ldc+8:], acc)
	bp, off, ao := base(b), 0, 0
	for p := 0; p < k; p++ {
		q := at(bp, off)
		off += ldb
		b0 := loadAt(q)
		b1 := loadAt(at(q, 8))
		x := bcast8(aAt(ap, ao))
		c00 = x.MulAdd(b0, c00)
		c01 = x.MulAdd(b1, c01)
		x = bcast8(aAt(ap, ao+ra))
		c10 = x.MulAdd(b0, c10)
		c11 = x.MulAdd(b1, c11)
		x = bcast8(aAt(ap, ao+2*ra))
		c20 = x.MulAdd(b0, c20)
		c21 = x.MulAdd(b1, c21)
		x = bcast8(aAt(ap, ao+3*ra))
		ao += sa
		c30 = x.MulAdd(b0, c30)
		c31 = x.MulAdd(b1, c31)
	}
	c00.StoreSlice(c[0:])
	c01.StoreSlice(c[8:])
	c10.StoreSlice(c[ldc:])
	c11.StoreSlice(c[ldc+8:])
	c20.StoreSlice(c[2*ldc:])
	c21.StoreSlice(c[2*ldc+8:])
	c30.StoreSlice(c[3*ldc:])
	c31.StoreSlice(c[3*ldc+8:])
}

// kern4x8 computes a 4×w block, w ≤ 8, from 8 full columns of b (the
// caller pads a narrower panel); only w columns of c are read and written.
func kern4x8(c []float32, ldc int, acc bool, ab []float32, ra, sa, k int, b []float32, ldb int, w int) {
	ap := base(ab)
	c0 := loadAccPart(c[0:w], acc)
	c1 := loadAccPart(c[ldc:ldc+w], acc)
	c2 := loadAccPart(c[2*ldc:2*ldc+w], acc)
	c3 := loadAccPart(c[3*ldc:3*ldc+w], acc)
	bp, off, ao := base(b), 0, 0
	for p := 0; p < k; p++ {
		b0 := loadAt(at(bp, off))
		off += ldb
		c0 = bcast8(aAt(ap, ao)).MulAdd(b0, c0)
		c1 = bcast8(aAt(ap, ao+ra)).MulAdd(b0, c1)
		c2 = bcast8(aAt(ap, ao+2*ra)).MulAdd(b0, c2)
		c3 = bcast8(aAt(ap, ao+3*ra)).MulAdd(b0, c3)
		ao += sa
	}
	storePart(c0, c[0:w])
	storePart(c1, c[ldc:ldc+w])
	storePart(c2, c[2*ldc:2*ldc+w])
	storePart(c3, c[3*ldc:3*ldc+w])
}

// kern1 computes one row of a panel of len(c) ≤ 32 columns; b holds at
// least 8 columns per row (a narrower panel is padded by the caller).
// A's row is a[p*sa] for p < k (k = len(a)/sa rounded up).
func kern1(c []float32, acc bool, a []float32, sa int, b []float32, ldb int) {
	for j := 0; j < len(c); j += 8 {
		w := min(8, len(c)-j)
		s := loadAccPart(c[j:j+w], acc)
		off := j
		for ao := 0; ao < len(a); ao += sa {
			s = bcast8(a[ao]).MulAdd(load8(b[off:off+8]), s)
			off += ldb
		}
		storePart(s, c[j:j+w])
	}
}
