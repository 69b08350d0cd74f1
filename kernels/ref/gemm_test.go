package ref_test

import (
	"math"
	"testing"

	kt "github.com/sgds/sgds/kernels/kerneltest"
	"github.com/sgds/sgds/kernels/ref"
)

// gemmByMatrices multiplies explicit float64 copies of op(A) and op(B) and
// applies the epilogue: an independent check of SgemmBatched.
func gemmByMatrices(op ref.Op, A, B []float32, M, N, K int, epi ref.Epilogue, bias, aux []float32) []float64 {
	a := make([]float64, M*K) // op(A), M×K
	b := make([]float64, K*N) // op(B), K×N
	for m := 0; m < M; m++ {
		for k := 0; k < K; k++ {
			if op == ref.TN {
				a[m*K+k] = float64(A[k*M+m])
			} else {
				a[m*K+k] = float64(A[m*K+k])
			}
		}
	}
	for k := 0; k < K; k++ {
		for n := 0; n < N; n++ {
			if op == ref.NT {
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
			case ref.EpiBiasCol:
				s += float64(bias[n])
			case ref.EpiBiasColReLU:
				s = math.Max(s+float64(bias[n]), 0)
			case ref.EpiBiasRow:
				s += float64(bias[m])
			case ref.EpiReLUMask:
				if aux[m*N+n] <= 0 {
					s = 0
				}
			}
			c[m*N+n] = s
		}
	}
	return c
}

// gemmSizes are (M, N, K) triples: empty, one, around a warp, odd, large.
var gemmSizes = [][3]int{
	{0, 5, 3}, {4, 0, 3}, {3, 4, 0}, {1, 1, 1}, {31, 32, 33}, {32, 33, 31}, {33, 31, 32},
	{77, 13, 50}, {10, 576, 25}, {64, 50, 320}, {129, 67, 200},
}

func TestSgemmBatched(t *testing.T) {
	r := kt.Rand(11)
	for _, sz := range gemmSizes {
		M, N, K := sz[0], sz[1], sz[2]
		if testing.Short() && M*N*K > 100_000 {
			continue
		}
		for _, op := range []ref.Op{ref.NN, ref.NT, ref.TN} {
			for _, epi := range []ref.Epilogue{ref.EpiNone, ref.EpiBiasCol, ref.EpiBiasColReLU, ref.EpiBiasRow, ref.EpiReLUMask} {
				for _, batch := range []int{1, 3} {
					// A is shared across the batch (stride 0) in every other
					// case; C has a gap of 2 between entries that must stay
					// untouched.
					sA := M * K
					if batch > 1 && (M+N+K)%2 == 0 {
						sA = 0
					}
					sB, sC := K*N, M*N+2
					a := kt.Normal(r, max(1, batch)*max(sA, 1)+M*K, 1)
					b := kt.Normal(r, batch*sB+1, 1)
					bias := kt.Normal(r, max(M, N), 1)
					aux := kt.Normal(r, batch*sC, 1)
					c := kt.Poison(batch * sC)
					var bv []float32
					switch epi {
					case ref.EpiBiasCol, ref.EpiBiasColReLU:
						bv = bias[:N]
					case ref.EpiBiasRow:
						bv = bias[:M]
					}
					ref.SgemmBatched(op, batch, c, a, b, M, N, K, sA, sB, sC, epi, bv, aux)
					for z := 0; z < batch; z++ {
						want := gemmByMatrices(op, a[z*sA:], b[z*sB:], M, N, K, epi, bv, aux[z*sC:])
						kt.Check(t, kt.Name("op", op, "epi", epi, "M", M, "N", N, "K", K, "z", z), c[z*sC:z*sC+M*N], want, kt.Tol{Abs: 1e-30, Rel: 1e-5})
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

func TestSgemmMisuse(t *testing.T) {
	c, a, b := make([]float32, 6), make([]float32, 6), make([]float32, 9)
	ref.Sgemm(ref.NN, c, a, b, 2, 3, 3, ref.EpiNone, nil, nil)
	kt.MustPanic(t, "short c", func() { ref.Sgemm(ref.NN, c[:5], a, b, 2, 3, 3, ref.EpiNone, nil, nil) })
	kt.MustPanic(t, "short b", func() { ref.Sgemm(ref.NN, c, a, b[:8], 2, 3, 3, ref.EpiNone, nil, nil) })
	kt.MustPanic(t, "bias length", func() { ref.Sgemm(ref.NN, c, a, b, 2, 3, 3, ref.EpiBiasCol, make([]float32, 2), nil) })
	kt.MustPanic(t, "negative", func() { ref.Sgemm(ref.NN, c, a, b, -1, 3, 3, ref.EpiNone, nil, nil) })
	kt.MustPanic(t, "op", func() { ref.Sgemm(ref.Op(7), c, a, b, 2, 3, 3, ref.EpiNone, nil, nil) })
	kt.MustPanic(t, "epilogue", func() { ref.Sgemm(ref.NN, c, a, b, 2, 3, 3, ref.Epilogue(9), nil, nil) })
	if ref.NT.String() != "NT" || ref.EpiReLUMask.String() != "relu-mask" {
		t.Error("String")
	}
}
