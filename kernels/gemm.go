package kernels

import (
	"fmt"
)

// Gemm computes the matrix product dst = op(A)·op(B) (or dst += op(A)·op(B)
// when accumulate is set) for row-major matrices with leading dimensions
// (row strides) ldd, lda and ldb. With opA(i, p) = a[i*lda+p], or a[p*lda+i]
// when transA, and opB(p, j) = b[p*ldb+j], or b[j*ldb+p] when transB, it is
// equal to
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			s := float32(0)
//			if accumulate {
//				s = dst[i*ldd+j]
//			}
//			for p := 0; p < k; p++ {
//				s += opA(i, p) * opB(p, j)
//			}
//			dst[i*ldd+j] = s
//		}
//	}
//
// in float32: the sum runs over p in increasing order for every element. The
// portable path (gonum's serial Sgemm on tiles) rounds each product and each
// sum, and skips the products whose opA(i, p) is zero; the vector path (see
// FastPath) fuses each product and sum into one multiply-add with a single
// rounding. Either way an element's value does not depend on m, n or the
// other elements, so a caller may split a product into blocks of rows or
// columns (and run them on different goroutines) and get bit-identical
// results.
//
// op(A) is m×k and op(B) is k×n; the stored A is m×k (k×m when transA) and
// the stored B is k×n (n×k when transB). A transposed B (and, on the
// portable path, a transposed A) is first packed into a pooled buffer. dst must not overlap a or b. Gemm panics if a size is
// negative, a leading dimension is smaller than its row length (or < 1), or
// a slice is too short for its matrix. With m = 0 or n = 0 it does nothing;
// with k = 0 it sets dst to 0 (or leaves it when accumulate).
func Gemm(dst []float32, ldd int, accumulate bool, a []float32, lda int, transA bool, b []float32, ldb int, transB bool, m, n, k int) {
	const op = "Gemm"
	prod(op, m, n, k)
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMatrix(op, "dst", dst, m, n, ldd)
	checkMatrix(op, "a", a, ar, ac, lda)
	checkMatrix(op, "b", b, br, bc, ldb)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !accumulate {
			for i := 0; i < m; i++ {
				clear(dst[i*ldd : i*ldd+n])
			}
		}
		return
	}
	fast := FastPath()
	var pa, pb *[]float32
	rsA, csA := lda, 1 // opA(i, p) = a[i*rsA + p*csA]
	if transA {
		if fast {
			rsA, csA = 1, lda // the vector kernels read A in place
		} else {
			pa = f32Pool.get(m * k)
			transpose(*pa, k, a, lda, k, m) // stored k×m → m×k
			a, rsA = *pa, k
		}
	}
	if transB {
		pb = f32Pool.get(k * n)
		transpose(*pb, n, b, ldb, n, k) // stored n×k → k×n
		b, ldb = *pb, n
	}
	if fast {
		gemmAsm(dst, ldd, accumulate, a, rsA, csA, b, ldb, m, n, k)
	} else {
		gemmGeneric(dst, ldd, accumulate, a, rsA, b, ldb, m, n, k)
	}
	if pa != nil {
		f32Pool.put(pa)
	}
	if pb != nil {
		f32Pool.put(pb)
	}
}

// checkMatrix panics unless s holds a rows×cols row-major matrix with row
// stride ld: ld ≥ max(1, cols) and len(s) ≥ (rows−1)·ld + cols.
func checkMatrix(op, name string, s []float32, rows, cols, ld int) {
	if ld < 1 || ld < cols {
		panic(fmt.Sprintf("kernels: %s: leading dimension of %s is %d, want ≥ max(1, %d)", op, name, ld, cols))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if need := prod(op, rows-1, ld) + cols; len(s) < need {
		panic(fmt.Sprintf("kernels: %s: len(%s) = %d, want ≥ %d for a %d×%d matrix with stride %d", op, name, len(s), need, rows, cols, ld))
	}
}

// transpose writes the transpose of the rows×cols matrix src (stride lds)
// into dst (stride ldd): dst[j*ldd+i] = src[i*lds+j].
func transpose(dst []float32, ldd int, src []float32, lds, rows, cols int) {
	// Blocks of 8×8 keep both sides in cache lines.
	const bs = 8
	for i0 := 0; i0 < rows; i0 += bs {
		i1 := min(i0+bs, rows)
		for j0 := 0; j0 < cols; j0 += bs {
			j1 := min(j0+bs, cols)
			for i := i0; i < i1; i++ {
				row := src[i*lds+j0 : i*lds+j1]
				for jj, v := range row {
					dst[(j0+jj)*ldd+i] = v
				}
			}
		}
	}
}
