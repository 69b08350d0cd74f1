package kernels

import (
	"fmt"

	"golang.org/x/sys/cpu"
)

// asmBuilt reports whether the assembly kernels (asm_amd64.s) are built.
const asmBuilt = true

// The CPU's features, read once (x/sys/cpu also checks that the operating
// system saves the AVX and AVX-512 registers).
var (
	hasAVX2   = cpu.X86.HasAVX && cpu.X86.HasAVX2 && cpu.X86.HasFMA
	hasAVX512 = hasAVX2 && cpu.X86.HasAVX512F
)

// cpuFeatures describes the features the paths need, for error messages.
func cpuFeatures() string {
	return fmt.Sprintf("AVX2 %v, FMA %v, AVX-512F %v", cpu.X86.HasAVX2, cpu.X86.HasFMA, cpu.X86.HasAVX512F)
}

// gemmKern is a GEMM micro-kernel of asm_amd64.s: an r×w block of C,
// C[i][j] = Σ_p A(i, p)·B[p][j] (+ C[i][j] when acc) as a chain of fused
// multiply-adds over p = 0…k−1, with A(i, p) = a[i·rsA + p·csA] and B
// row-major (stride ldb), k ≥ 1.
type gemmKern func(k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, acc bool)

// The micro-kernels by row count r (index r; 0 unused): AVX2 6×8 and 6×16,
// AVX-512 8×32.
var (
	gemmAVX2W8    = [...]gemmKern{nil, gemmAVX2R1W8, gemmAVX2R2W8, gemmAVX2R3W8, gemmAVX2R4W8, gemmAVX2R5W8, gemmAVX2R6W8}
	gemmAVX2W16   = [...]gemmKern{nil, gemmAVX2R1W16, gemmAVX2R2W16, gemmAVX2R3W16, gemmAVX2R4W16, gemmAVX2R5W16, gemmAVX2R6W16}
	gemmAVX512W32 = [...]gemmKern{nil, gemmAVX512R1W32, gemmAVX512R2W32, gemmAVX512R3W32, gemmAVX512R4W32, gemmAVX512R5W32, gemmAVX512R6W32, gemmAVX512R7W32, gemmAVX512R8W32}
)

// gemmAsm is the vector path of Gemm for A with element (i, p) at
// a[i*rsA + p*csA] and row-major B (k×n, stride ldb), m, n, k ≥ 1, without
// checks of the caller's shapes (it checks the extreme indices once). It
// walks B in panels of columns, the widest first: with AVX-512 32 (8-row
// blocks), then with AVX2 16 and 8 (6-row blocks, on both paths), then the
// last columns through a zero-padded copy of 8; inside a panel,
// A in blocks of rows then the remaining rows. Each element is a chain of
// fused multiply-adds over p in increasing order, whatever kernel computes
// it, so both paths give identical results.
func gemmAsm(c []float32, ldc int, acc bool, a []float32, rsA, csA int, b []float32, ldb int, m, n, k int) {
	_ = a[(m-1)*rsA+(k-1)*csA]
	_ = b[(k-1)*ldb+n-1]
	_ = c[(m-1)*ldc+n-1]
	panel := func(ks []gemmKern, j int) {
		mr := len(ks) - 1
		for i := 0; i < m; i += mr {
			r := min(mr, m-i)
			ks[r](k, &a[i*rsA], rsA, csA, &b[j], ldb, &c[i*ldc+j], ldc, acc)
		}
	}
	j := 0
	if wide() {
		for ; j+32 <= n; j += 32 {
			panel(gemmAVX512W32[:], j)
		}
	}
	// 16 columns: the AVX2 6×16 kernel on both paths (measured faster than
	// an 8-row AVX-512 one on Zen 4: 12 multiply-adds per 8 loads).
	for ; j+16 <= n; j += 16 {
		panel(gemmAVX2W16[:], j)
	}
	if j+8 <= n {
		panel(gemmAVX2W8[:], j)
		j += 8
	}
	if j == n {
		return
	}
	// The last n−j < 8 columns: B's into a zero-padded k×8 copy, C's
	// through a tile of 6×8 after it (pooled: the kernels are called
	// through a table, so a tile on the stack would escape).
	const lanes, mr = 8, 6
	ks := &gemmAVX2W8
	nw := n - j
	pb := f32Pool.get(k*lanes + mr*lanes)
	bp, tile := (*pb)[:k*lanes], (*pb)[k*lanes:]
	for p := 0; p < k; p++ {
		row := bp[p*lanes : (p+1)*lanes]
		clear(row[copy(row, b[p*ldb+j:p*ldb+n]):])
	}
	for i := 0; i < m; i += mr {
		r := min(mr, m-i)
		if acc {
			for q := 0; q < r; q++ {
				copy(tile[q*lanes:q*lanes+nw], c[(i+q)*ldc+j:(i+q)*ldc+n])
			}
		}
		ks[r](k, &a[i*rsA], rsA, csA, &bp[0], lanes, &tile[0], lanes, acc)
		for q := 0; q < r; q++ {
			copy(c[(i+q)*ldc+j:(i+q)*ldc+n], tile[q*lanes:q*lanes+nw])
		}
	}
	f32Pool.put(pb)
}

// sgdAsm is the vector path of SGDMomentum (len(v), len(g) ≥ len(w)).
func sgdAsm(w, v, g []float32, lr, mu float32) {
	n := len(w)
	if n == 0 {
		return
	}
	_, _ = v[n-1], g[n-1]
	if wide() {
		sgdMomentumAVX512(&w[0], &v[0], &g[0], n, -lr, mu)
	} else {
		sgdMomentumAVX2(&w[0], &v[0], &g[0], n, -lr, mu)
	}
}

// peakFlopsPerIter is the FLOP count of one iteration of fmaPeak at lanes
// (0 when the CPU lacks that width).
func peakFlopsPerIter(lanes int) int {
	switch {
	case lanes == 8 && hasAVX2:
		return 12 * 8 * 2
	case lanes == 16 && hasAVX512:
		return 24 * 16 * 2
	}
	return 0
}

// fmaPeak runs n iterations of the register-only multiply-add loop of lanes.
func fmaPeak(lanes, n int) {
	if lanes == 16 {
		fmaPeakAVX512(n)
	} else {
		fmaPeakAVX2(n)
	}
}

// readSum returns the sum of x (len(x) a multiple of 64), a streaming read.
func readSum(x []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	return readSumAVX2(&x[0], len(x))
}

// The vector paths of the row kernels (rows.go): 8-lane loops over the
// first multiple of 8 elements of each row, the rest in Go with the same
// single-rounding operations, so all paths agree bit for bit.

func addBiasReLUVec(x []float32, ld int, bias []float32, rows, cols int, relu bool) {
	c8 := cols &^ 7
	for i := 0; i < rows; i++ {
		row := x[i*ld : i*ld+cols]
		if c8 > 0 {
			addBiasReLUAVX2(&row[0], &bias[0], c8, relu)
		}
		for j := c8; j < cols; j++ {
			v := row[j] + bias[j]
			if relu && !(v > 0) {
				v = 0
			}
			row[j] = v
		}
	}
}

func reluMaskVec(dst, grad, out []float32) {
	n := len(dst)
	grad, out = grad[:n], out[:n]
	n8 := n &^ 7
	if n8 > 0 {
		reluMaskAVX2(&dst[0], &grad[0], &out[0], n8)
	}
	for j := n8; j < n; j++ {
		g := grad[j]
		if !(out[j] > 0) {
			g = 0
		}
		dst[j] = g
	}
}

func scaleRowsVec(dst, src []float32, s []float32, rows, cols int) {
	c8 := cols &^ 7
	for i, si := range s[:rows] {
		d, x := dst[i*cols:(i+1)*cols], src[i*cols:(i+1)*cols]
		if c8 > 0 {
			scaleAVX2(&d[0], &x[0], c8, si)
		}
		for j := c8; j < cols; j++ {
			d[j] = si * x[j]
		}
	}
}

func columnSumsVec(dst []float32, src []float32, ld, rows, cols int) {
	if rows == 0 || cols == 0 {
		return
	}
	_ = src[(rows-1)*ld+cols-1]
	c8 := cols &^ 7
	if c8 > 0 {
		colSumsAVX2(&dst[0], &src[0], ld, rows, c8)
	}
	if c8 < cols {
		for i := 0; i < rows; i++ {
			for j, v := range src[i*ld+c8 : i*ld+cols] {
				dst[c8+j] += v
			}
		}
	}
}
