package kernels

import (
	"math"
	"testing"
)

// twGemmRef multiplies explicit float64 copies of op(A) and op(B) and
// applies the epilogue: an independent reference for SgemmBatchedTwin.
func twGemmRef(op SgemmOp, A, B []float32, M, N, K int, epi SgemmEpilogue, bias, aux []float32) []float64 {
	a := make([]float64, M*K) // op(A), M×K
	b := make([]float64, K*N) // op(B), K×N
	for m := 0; m < M; m++ {
		for k := 0; k < K; k++ {
			if op == SgemmTN {
				a[m*K+k] = float64(A[k*M+m])
			} else {
				a[m*K+k] = float64(A[m*K+k])
			}
		}
	}
	for k := 0; k < K; k++ {
		for n := 0; n < N; n++ {
			if op == SgemmNT {
				b[k*N+n] = float64(B[n*K+k])
			} else {
				b[k*N+n] = float64(B[k*N+n])
			}
		}
	}
	c := make([]float64, M*N)
	for m := 0; m < M; m++ {
		for n := 0; n < N; n++ {
			var s float64
			for k := 0; k < K; k++ {
				s += a[m*K+k] * b[k*N+n]
			}
			switch epi {
			case SgemmEpiBiasCol:
				s += float64(bias[n])
			case SgemmEpiBiasColReLU:
				s = math.Max(s+float64(bias[n]), 0)
			case SgemmEpiBiasRow:
				s += float64(bias[m])
			case SgemmEpiReLUMask:
				if aux[m*N+n] <= 0 {
					s = 0
				}
			}
			c[m*N+n] = s
		}
	}
	return c
}

// twGemmSizes are (M, N, K) triples: empty, one, around a warp, odd, large.
var twGemmSizes = [][3]int{
	{0, 5, 3}, {4, 0, 3}, {3, 4, 0}, {1, 1, 1}, {31, 32, 33}, {32, 33, 31}, {33, 31, 32},
	{77, 13, 50}, {10, 576, 25}, {64, 50, 320}, {129, 67, 200},
}

func TestSgemmBatchedTwin(t *testing.T) {
	r := newRand(11)
	for _, sz := range twGemmSizes {
		M, N, K := sz[0], sz[1], sz[2]
		if testing.Short() && M*N*K > 100_000 {
			continue
		}
		for _, op := range []SgemmOp{SgemmNN, SgemmNT, SgemmTN} {
			for _, epi := range []SgemmEpilogue{SgemmEpiNone, SgemmEpiBiasCol, SgemmEpiBiasColReLU, SgemmEpiBiasRow, SgemmEpiReLUMask} {
				for _, batch := range []int{1, 3} {
					// A is shared across the batch (stride 0) in every other
					// case; C has a gap of 2 between entries that must stay
					// untouched.
					sA := M * K
					if batch > 1 && (M+N+K)%2 == 0 {
						sA = 0
					}
					sB, sC := K*N, M*N+2
					a := randNormal32(r, max(1, batch)*max(sA, 1)+M*K, 1)
					b := randNormal32(r, batch*sB+1, 1)
					bias := randNormal32(r, max(M, N), 1)
					aux := randNormal32(r, batch*sC, 1)
					c := nanSlice(batch * sC)
					var bv []float32
					switch epi {
					case SgemmEpiBiasCol, SgemmEpiBiasColReLU:
						bv = bias[:N]
					case SgemmEpiBiasRow:
						bv = bias[:M]
					}
					SgemmBatchedTwin(op, batch, c, a, b, M, N, K, sA, sB, sC, epi, bv, aux)
					for z := 0; z < batch; z++ {
						want := twGemmRef(op, a[z*sA:], b[z*sB:], M, N, K, epi, bv, aux[z*sC:])
						checkClose(t, bname("op", op, "epi", epi, "M", M, "N", N, "K", K, "z", z), c[z*sC:z*sC+M*N], want, 1e-30)
						for g := z*sC + M*N; g < (z+1)*sC; g++ {
							if c[g] == c[g] {
								t.Fatalf("%v M=%d N=%d K=%d: gap element %d written", op, M, N, K, g)
							}
						}
					}
				}
			}
		}
	}
}

func TestSgemmTwinMisuse(t *testing.T) {
	c, a, b := make([]float32, 6), make([]float32, 6), make([]float32, 9)
	SgemmTwin(SgemmNN, c, a, b, 2, 3, 3, SgemmEpiNone, nil, nil)
	mustPanic(t, "short c", func() { SgemmTwin(SgemmNN, c[:5], a, b, 2, 3, 3, SgemmEpiNone, nil, nil) })
	mustPanic(t, "short b", func() { SgemmTwin(SgemmNN, c, a, b[:8], 2, 3, 3, SgemmEpiNone, nil, nil) })
	mustPanic(t, "bias length", func() { SgemmTwin(SgemmNN, c, a, b, 2, 3, 3, SgemmEpiBiasCol, make([]float32, 2), nil) })
	mustPanic(t, "negative", func() { SgemmTwin(SgemmNN, c, a, b, -1, 3, 3, SgemmEpiNone, nil, nil) })
	mustPanic(t, "op", func() { SgemmTwin(SgemmOp(7), c, a, b, 2, 3, 3, SgemmEpiNone, nil, nil) })
	mustPanic(t, "epilogue", func() { SgemmTwin(SgemmNN, c, a, b, 2, 3, 3, SgemmEpilogue(9), nil, nil) })
	if SgemmNT.String() != "NT" || SgemmEpiReLUMask.String() != "relu-mask" {
		t.Error("String")
	}
}
