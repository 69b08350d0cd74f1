package kernels

import "fmt"

// SgemmOp names how the operands of a GEMM are stored (row-major):
//
//	SgemmNN: C (M×N) = A (M×K) · B (K×N)
//	SgemmNT: C = A (M×K) · Bᵀ, B stored (N×K)
//	SgemmTN: C = Aᵀ · B (K×N), A stored (K×M)
type SgemmOp int

// The GEMM layouts.
const (
	SgemmNN SgemmOp = iota
	SgemmNT
	SgemmTN
)

// String returns "NN", "NT" or "TN".
func (op SgemmOp) String() string {
	switch op {
	case SgemmNN:
		return "NN"
	case SgemmNT:
		return "NT"
	case SgemmTN:
		return "TN"
	}
	return fmt.Sprintf("SgemmOp(%d)", int(op))
}

// SgemmEpilogue names what a GEMM applies to each result before storing it.
type SgemmEpilogue int

// The GEMM epilogues; bias and aux are the extra operands of
// SgemmBatchedTwin.
const (
	SgemmEpiNone        SgemmEpilogue = iota // C = A·B
	SgemmEpiBiasCol                          // C[m,n] = (A·B)[m,n] + bias[n]
	SgemmEpiBiasColReLU                      // C[m,n] = max((A·B)[m,n] + bias[n], 0)
	SgemmEpiBiasRow                          // C[m,n] = (A·B)[m,n] + bias[m]
	SgemmEpiReLUMask                         // C[m,n] = aux[m,n] > 0 ? (A·B)[m,n] : 0
)

// String returns the epilogue's name.
func (e SgemmEpilogue) String() string {
	switch e {
	case SgemmEpiNone:
		return "none"
	case SgemmEpiBiasCol:
		return "bias-col"
	case SgemmEpiBiasColReLU:
		return "bias-col-relu"
	case SgemmEpiBiasRow:
		return "bias-row"
	case SgemmEpiReLUMask:
		return "relu-mask"
	}
	return fmt.Sprintf("SgemmEpilogue(%d)", int(e))
}

// SgemmTwin is SgemmBatchedTwin with one batch entry.
func SgemmTwin(op SgemmOp, c, a, b []float32, M, N, K int, epi SgemmEpilogue, bias, aux []float32) {
	SgemmBatchedTwin(op, 1, c, a, b, M, N, K, prod("SgemmTwin", M, K), prod("SgemmTwin", K, N), prod("SgemmTwin", M, N), epi, bias, aux)
}

// SgemmBatchedTwin is the plain-Go twin of the device GEMM (gemm.cu). For
// each z < batch, with A_z = a[z*strideA:], B_z = b[z*strideB:] and
// C_z = c[z*strideC:] (a stride of 0 shares one operand across the batch), it
// is equal to
//
//	for m, n:
//		s := Σ_k opA(A_z)[m,k] · opB(B_z)[k,n]   // float64, K = 0 gives 0
//		C_z[m*N+n] = float32(epilogue(s))
//
// with opA, opB as op says (see SgemmOp) and the epilogue as epi says (see
// SgemmEpilogue); for SgemmEpiReLUMask, aux is read at the same offsets as
// C (aux[z*strideC + m*N + n]). bias must hold N values for the column
// epilogues and M for SgemmEpiBiasRow; it and aux may be nil otherwise. c
// is overwritten and must not overlap a, b or aux. It panics if a size or
// stride is negative or a slice is too short.
func SgemmBatchedTwin(op SgemmOp, batch int, c, a, b []float32, M, N, K, strideA, strideB, strideC int, epi SgemmEpilogue, bias, aux []float32) {
	const name = "SgemmBatchedTwin"
	for _, n := range []int{batch, M, N, K, strideA, strideB, strideC} {
		prod(name, n) // panics if negative
	}
	if op < SgemmNN || op > SgemmTN {
		panic(fmt.Sprintf("kernels: %s: unknown %v", name, op))
	}
	need := func(what string, s []float32, stride, size int) {
		if batch == 0 || size == 0 {
			return
		}
		if n := prod(name, batch-1, stride) + size; len(s) < n {
			panic(fmt.Sprintf("kernels: %s: len(%s) = %d, want at least %d", name, what, len(s), n))
		}
	}
	need("a", a, strideA, M*K)
	need("b", b, strideB, K*N)
	need("c", c, strideC, M*N)
	switch epi {
	case SgemmEpiNone:
	case SgemmEpiBiasCol, SgemmEpiBiasColReLU:
		checkLen(name, "bias", bias, N)
	case SgemmEpiBiasRow:
		checkLen(name, "bias", bias, M)
	case SgemmEpiReLUMask:
		need("aux", aux, strideC, M*N)
	default:
		panic(fmt.Sprintf("kernels: %s: unknown %v", name, epi))
	}
	for z := 0; z < batch; z++ {
		A, B, C := a[z*strideA:], b[z*strideB:], c[z*strideC:]
		for m := 0; m < M; m++ {
			for n := 0; n < N; n++ {
				var s float64
				for k := 0; k < K; k++ {
					var x, y float32
					if op == SgemmTN {
						x = A[k*M+m]
					} else {
						x = A[m*K+k]
					}
					if op == SgemmNT {
						y = B[n*K+k]
					} else {
						y = B[k*N+n]
					}
					s += float64(x) * float64(y)
				}
				switch epi {
				case SgemmEpiBiasCol:
					s += float64(bias[n])
				case SgemmEpiBiasColReLU:
					s += float64(bias[n])
					if !(s > 0) {
						s = 0
					}
				case SgemmEpiBiasRow:
					s += float64(bias[m])
				case SgemmEpiReLUMask:
					if !(aux[z*strideC+m*N+n] > 0) {
						s = 0
					}
				}
				C[m*N+n] = float32(s)
			}
		}
	}
}
