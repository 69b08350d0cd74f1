package kernels

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// gemmGeneric is the portable path of Gemm for row-major A (m×k, stride lda)
// and B (k×n, stride ldb), without checks. It calls gonum's Sgemm (pure Go,
// with SSE assembly for its row updates on amd64) on tiles of at most 64×192
// elements, so that gonum stays on its serial path, which neither starts
// goroutines nor allocates. gonum adds opA(i, p)·opB(p, j) to each element
// for p in increasing order, rounding each product and each sum as Gemm's
// portable path states, and skips the products whose opA(i, p) is zero
// (which changes nothing unless opB holds an Inf or NaN). An element's value
// does not depend on the tiling.
func gemmGeneric(c []float32, ldc int, acc bool, a []float32, lda int, b []float32, ldb int, m, n, k int) {
	const tm, tn = 64, 192 // below gonum's 4-block (64×64) parallel threshold
	var beta float32
	if acc {
		beta = 1
	}
	impl := gonum.Implementation{}
	for i := 0; i < m; i += tm {
		mi := min(tm, m-i)
		for j := 0; j < n; j += tn {
			nj := min(tn, n-j)
			impl.Sgemm(blas.NoTrans, blas.NoTrans, mi, nj, k, 1, a[i*lda:], lda, b[j:], ldb, beta, c[i*ldc+j:], ldc)
		}
	}
}
