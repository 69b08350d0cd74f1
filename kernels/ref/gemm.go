package ref

import (
	"fmt"
	"math"

	"github.com/sgds/sgds/kernels/internal/check"
)

// Op names how the operands of a GEMM are stored (row-major):
//
//	NN: C (M×N) = A (M×K) · B (K×N)
//	NT: C = A (M×K) · Bᵀ, B stored (N×K)
//	TN: C = Aᵀ · B (K×N), A stored (K×M)
type Op int

// The GEMM layouts.
const (
	NN Op = iota
	NT
	TN
)

var opNames = [...]string{NN: "NN", NT: "NT", TN: "TN"}

// String returns "NN", "NT" or "TN".
func (op Op) String() string {
	if op >= 0 && int(op) < len(opNames) {
		return opNames[op]
	}
	return fmt.Sprintf("Op(%d)", int(op))
}

// Epilogue names what a GEMM applies to each result before storing it.
type Epilogue int

// The GEMM epilogues; bias and aux are the extra operands of SgemmBatched.
const (
	EpiNone        Epilogue = iota // C = A·B
	EpiBiasCol                     // C[m,n] = (A·B)[m,n] + bias[n]
	EpiBiasColReLU                 // C[m,n] = max((A·B)[m,n] + bias[n], 0)
	EpiBiasRow                     // C[m,n] = (A·B)[m,n] + bias[m]
	EpiReLUMask                    // C[m,n] = aux[m,n] > 0 ? (A·B)[m,n] : 0
)

var epiNames = [...]string{EpiNone: "none", EpiBiasCol: "bias-col", EpiBiasColReLU: "bias-col-relu",
	EpiBiasRow: "bias-row", EpiReLUMask: "relu-mask"}

// String returns the epilogue's name.
func (e Epilogue) String() string {
	if e >= 0 && int(e) < len(epiNames) {
		return epiNames[e]
	}
	return fmt.Sprintf("Epilogue(%d)", int(e))
}

// Sgemm is SgemmBatched with one batch entry.
func Sgemm(op Op, c, a, b []float32, M, N, K int, epi Epilogue, bias, aux []float32) {
	const name = "ref.Sgemm"
	SgemmBatched(op, 1, c, a, b, M, N, K, check.Size(name, M, K), check.Size(name, K, N), check.Size(name, M, N), epi, bias, aux)
}

// SgemmBatched is the reference of the device GEMM (kernels/device, gemm.cu). For
// each z < batch, with A_z = a[z*strideA:], B_z = b[z*strideB:] and
// C_z = c[z*strideC:] (a stride of 0 shares one operand across the batch), it
// is equal to
//
//	for m, n:
//		s := Σ_k opA(A_z)[m,k] · opB(B_z)[k,n]   // float64, K = 0 gives 0
//		C_z[m*N+n] = float32(epilogue(s))
//
// with opA, opB as op says (see Op) and the epilogue as epi says (see
// Epilogue); for EpiReLUMask, aux is read at the same offsets as
// C (aux[z*strideC + m*N + n]). bias must hold N values for the column
// epilogues and M for EpiBiasRow; it and aux may be nil otherwise. c
// is overwritten and must not overlap a, b or aux. It panics if a size or
// stride is negative or a slice is too short.
func SgemmBatched(op Op, batch int, c, a, b []float32, M, N, K, strideA, strideB, strideC int, epi Epilogue, bias, aux []float32) {
	const name = "ref.SgemmBatched"
	for _, n := range []int{batch, M, N, K, strideA, strideB, strideC} {
		check.Size(name, n) // panics if negative
	}
	if op < NN || op > TN {
		panic(fmt.Sprintf("kernels: %s: unknown %v", name, op))
	}
	need := func(what string, s []float32, stride, size int) {
		if batch > 0 && size > 0 {
			check.AtLeast(name, what, s, check.Size(name, batch-1, stride)+size)
		}
	}
	need("a", a, strideA, M*K)
	need("b", b, strideB, K*N)
	need("c", c, strideC, M*N)
	switch epi {
	case EpiNone:
	case EpiBiasCol, EpiBiasColReLU:
		check.Len(name, "bias", bias, N)
	case EpiBiasRow:
		check.Len(name, "bias", bias, M)
	case EpiReLUMask:
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
					if op == TN {
						x = A[k*M+m]
					} else {
						x = A[m*K+k]
					}
					if op == NT {
						y = B[n*K+k]
					} else {
						y = B[k*N+n]
					}
					s += float64(x) * float64(y)
				}
				switch epi {
				case EpiBiasCol:
					s += float64(bias[n])
				case EpiBiasColReLU:
					s += float64(bias[n])
					if !(s > 0) {
						s = 0
					}
				case EpiBiasRow:
					s += float64(bias[m])
				case EpiReLUMask:
					if !(aux[z*strideC+m*N+n] > 0) {
						s = 0
					}
				}
				C[m*N+n] = float32(s)
			}
		}
	}
}

// Gemm is the reference of the CPU kernel kernels.Gemm: for the m×n result
// it returns, in float64,
//
//	ref[i*n+j] = (acc ? c0[i*ldc+j] : 0) + Σ_p opA[i,p]·opB[p,j]
//	mag[i*n+j] = (acc ? |c0[i*ldc+j]| : 0) + Σ_p |opA[i,p]·opB[p,j]|
//
// with opA[i,p] = a[p*lda+i] when tA, else a[i*lda+p], and opB[p,j] =
// b[j*ldb+p] when tB, else b[p*ldb+j]. mag is the scale of the rounding
// error of a float32 evaluation.
func Gemm(c0 []float32, ldc int, acc bool, a []float32, lda int, tA bool, b []float32, ldb int, tB bool, m, n, k int) (ref, mag []float64) {
	ref = make([]float64, check.Size("ref.Gemm", m, n))
	mag = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, g float64
			if acc {
				s = float64(c0[i*ldc+j])
				g = math.Abs(s)
			}
			for p := 0; p < k; p++ {
				var x, y float32
				if tA {
					x = a[p*lda+i]
				} else {
					x = a[i*lda+p]
				}
				if tB {
					y = b[j*ldb+p]
				} else {
					y = b[p*ldb+j]
				}
				t := float64(x) * float64(y)
				s += t
				g += math.Abs(t)
			}
			ref[i*n+j], mag[i*n+j] = s, g
		}
	}
	return ref, mag
}
