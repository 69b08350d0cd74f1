package kernels_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/sgds/sgds/kernels"
	kt "github.com/sgds/sgds/kernels/kerneltest"
	"github.com/sgds/sgds/kernels/ref"
)

func TestGemm(t *testing.T) {
	kt.ForEachPath(t, func(t *testing.T) {
		r := kt.Rand(1)
		sizes := []int{0, 1, 7, 31, 32, 33}
		type shape struct{ m, n, k int }
		var shapes []shape
		for _, m := range sizes {
			for _, n := range sizes {
				for _, k := range []int{0, 1, 33} {
					shapes = append(shapes, shape{m, n, k})
				}
			}
		}
		shapes = append(shapes, shape{64, 256, 784}, shape{77, 20, 250}, shape{5, 1000, 3}, shape{250, 50, 64})
		for _, s := range shapes {
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					for _, acc := range []bool{false, true} {
						name := kt.Name("m", s.m, "n", s.n, "k", s.k, "tA", tA, "tB", tB, "acc", acc)
						checkGemmCase(t, r.Uint64(), name, s.m, s.n, s.k, tA, tB, acc)
					}
				}
			}
		}
	})
}

// TestGemmBlocks covers every micro-kernel of the vector paths: every row
// count of a block (1 to 8 and past it) and every column tail (one vector,
// two, and the zero-padded rest, for 8 and 16 lanes).
func TestGemmBlocks(t *testing.T) {
	kt.ForEachPath(t, func(t *testing.T) {
		r := kt.Rand(11)
		for m := 1; m <= 17; m++ {
			for _, n := range []int{1, 5, 8, 9, 15, 16, 17, 24, 31, 32, 33, 40, 47, 48, 49, 63, 64, 65} {
				for _, k := range []int{1, 3} {
					for _, tA := range []bool{false, true} {
						for _, tB := range []bool{false, true} {
							for _, acc := range []bool{false, true} {
								name := kt.Name("m", m, "n", n, "k", k, "tA", tA, "tB", tB, "acc", acc)
								checkGemmCase(t, r.Uint64(), name, m, n, k, tA, tB, acc)
							}
						}
					}
				}
			}
		}
	})
}

func checkGemmCase(t *testing.T, seed uint64, name string, m, n, k int, tA, tB, acc bool) {
	t.Helper()
	r := kt.Rand(seed)
	ar, ac := m, k
	if tA {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB {
		br, bc = n, k
	}
	// Strides with a gap of 3 that must stay untouched (and poisoned).
	lda, ldb, ldc := ac+3, bc+3, n+3
	a := kt.Normal(r, ar*lda, 1)
	b := kt.Normal(r, br*ldb, 1)
	c := kt.Poison(m * ldc)
	if acc {
		c = kt.Normal(r, m*ldc, 1)
	}
	for i := 0; i < m; i++ {
		for j := n; j < ldc; j++ {
			c[i*ldc+j] = 12345
		}
	}
	c0 := append([]float32(nil), c...)
	ref, mag := ref.Gemm(c0, ldc, acc, a, lda, tA, b, ldb, tB, m, n, k)
	kernels.Gemm(c, ldc, acc, a, lda, tA, b, ldb, tB, m, n, k)
	bad := 0
	for i := 0; i < m; i++ {
		for j := 0; j < ldc; j++ {
			got := c[i*ldc+j]
			if j >= n {
				if got != 12345 {
					t.Fatalf("%s: gap element (%d,%d) overwritten: %v", name, i, j, got)
				}
				continue
			}
			want := ref[i*n+j]
			if math.IsNaN(float64(got)) || math.Abs(float64(got)-want) > kt.SumTol(k+1, mag[i*n+j]) {
				if bad < 3 {
					t.Errorf("%s: (%d,%d) = %v, want %v (Σ|terms| %v)", name, i, j, got, want, mag[i*n+j])
				}
				bad++
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d mismatches", name, bad)
	}
}

// TestGemmSplitInvariance checks that computing a product by blocks of rows
// and of columns gives bit-identical elements.
func TestGemmSplitInvariance(t *testing.T) {
	kt.ForEachPath(t, func(t *testing.T) {
		r := kt.Rand(2)
		m, n, k := 45, 37, 29
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				a := kt.Normal(r, m*k, 1)
				b := kt.Normal(r, k*n, 1)
				lda, ldb := k, n
				if tA {
					lda = m
				}
				if tB {
					ldb = k
				}
				whole := make([]float32, m*n)
				kernels.Gemm(whole, n, false, a, lda, tA, b, ldb, tB, m, n, k)
				parts := kt.Poison(m * n)
				for _, rows := range [][2]int{{0, 5}, {5, 6}, {6, 40}, {40, 45}} {
					for _, cols := range [][2]int{{0, 3}, {3, 20}, {20, 37}} {
						i0, i1, j0, j1 := rows[0], rows[1], cols[0], cols[1]
						var as, bs []float32
						if tA {
							as = a[i0:]
						} else {
							as = a[i0*lda:]
						}
						if tB {
							bs = b[j0*ldb:]
						} else {
							bs = b[j0:]
						}
						kernels.Gemm(parts[i0*n+j0:], n, false, as, lda, tA, bs, ldb, tB, i1-i0, j1-j0, k)
					}
				}
				for i := range whole {
					if math.Float32bits(whole[i]) != math.Float32bits(parts[i]) {
						t.Fatalf("tA=%v tB=%v: element %d: whole %v, by blocks %v", tA, tB, i, whole[i], parts[i])
					}
				}
			}
		}
	})
}

func TestGemmPanics(t *testing.T) {
	s := make([]float32, 100)
	kt.MustPanic(t, "negative m", func() { kernels.Gemm(s, 4, false, s, 4, false, s, 4, false, -1, 4, 4) })
	kt.MustPanic(t, "short dst", func() { kernels.Gemm(s[:10], 4, false, s, 4, false, s, 4, false, 4, 4, 4) })
	kt.MustPanic(t, "short a", func() { kernels.Gemm(s, 4, false, s[:10], 4, false, s, 4, false, 4, 4, 4) })
	kt.MustPanic(t, "short b", func() { kernels.Gemm(s, 4, false, s, 4, false, s[:10], 4, false, 4, 4, 4) })
	kt.MustPanic(t, "small lda", func() { kernels.Gemm(s, 4, false, s, 3, false, s, 4, false, 4, 4, 4) })
	kt.MustPanic(t, "small ldb transposed", func() { kernels.Gemm(s, 4, false, s, 4, false, s, 4, true, 4, 4, 5) })
	kt.MustPanic(t, "zero ldd", func() { kernels.Gemm(s, 0, false, s, 4, false, s, 4, false, 0, 0, 0) })
}

func BenchmarkGemm(b *testing.B) {
	for _, s := range []struct {
		m, n, k int
		tA, tB  bool
	}{{64, 256, 784, false, false}, {784, 256, 64, true, false}, {4096, 20, 250, false, false}, {64, 256, 10, false, true}} {
		kt.ForEachPath(b, func(b *testing.B) {
			b.Run(fmt.Sprintf("m=%d/n=%d/k=%d/tA=%v/tB=%v", s.m, s.n, s.k, s.tA, s.tB), func(b *testing.B) {
				r := kt.Rand(3)
				a := kt.Normal(r, s.m*s.k, 1)
				bb := kt.Normal(r, s.k*s.n, 1)
				c := make([]float32, s.m*s.n)
				lda, ldb := s.k, s.n
				if s.tA {
					lda = s.m
				}
				if s.tB {
					ldb = s.k
				}
				kt.LoopCPU(b, func() {
					kernels.Gemm(c, s.n, false, a, lda, s.tA, bb, ldb, s.tB, s.m, s.n, s.k)
				})
				kt.ReportGFLOPS(b, 2*float64(s.m*s.n*s.k), 1)
			})
		})
	}
}

// TestGemmVectorPathsAgree checks that the vector paths compute every
// element with the same chain of fused multiply-adds: avx2 and avx512 give
// bit-identical products, whatever panels and blocks they use.
func TestGemmVectorPathsAgree(t *testing.T) {
	var vec []string
	for _, p := range kernels.Paths() {
		if p != kernels.PathPortable {
			vec = append(vec, p)
		}
	}
	if len(vec) < 2 {
		t.Skipf("one vector path or none here: %v", kernels.Paths())
	}
	r := kt.Rand(5)
	for _, s := range [][3]int{{64, 256, 784}, {13, 61, 37}, {9, 20, 250}, {33, 47, 5}} {
		m, n, k := s[0], s[1], s[2]
		a, b := kt.Normal(r, m*k, 1), kt.Normal(r, k*n, 1)
		c0 := kt.Normal(r, m*n, 1)
		var want []float32
		for _, p := range vec {
			restore := kernels.UsePath(p)
			c := append([]float32(nil), c0...)
			kernels.Gemm(c, n, true, a, k, false, b, n, false, m, n, k)
			restore()
			if want == nil {
				want = c
				continue
			}
			kt.CheckF32(t, kt.Name("path", p, "m", m, "n", n, "k", k), c, want, kt.Tol{})
		}
	}
}
