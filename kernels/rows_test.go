package kernels_test

import (
	"math"
	"testing"

	"github.com/sgds/sgds/kernels"
	kt "github.com/sgds/sgds/kernels/kerneltest"
)

var rowSizes = []int{0, 1, 7, 31, 32, 33, 1000}

func TestAddBiasReLU(t *testing.T) {
	kt.ForEachPath(t, func(t *testing.T) {
		r := kt.Rand(20)
		for _, rows := range rowSizes[:6] {
			for _, cols := range rowSizes {
				for _, relu := range []bool{false, true} {
					ld := cols + 2
					x := kt.Normal(r, rows*ld, 1)
					if rows*cols > 0 {
						x[0] = float32(math.NaN())
					}
					x0 := append([]float32(nil), x...)
					bias := kt.Normal(r, cols, 1)
					kernels.AddBiasReLU(x, ld, bias, rows, cols, relu)
					for i := 0; i < rows; i++ {
						for j := 0; j < ld; j++ {
							got := x[i*ld+j]
							if j >= cols {
								if math.Float32bits(got) != math.Float32bits(x0[i*ld+j]) {
									t.Fatalf("gap (%d,%d) changed", i, j)
								}
								continue
							}
							want := x0[i*ld+j] + bias[j]
							if relu && !(want > 0) {
								want = 0
							}
							if math.Float32bits(got) != math.Float32bits(want) && !(math.IsNaN(float64(got)) && math.IsNaN(float64(want))) {
								t.Fatalf("rows=%d cols=%d relu=%v (%d,%d): %v, want %v", rows, cols, relu, i, j, got, want)
							}
						}
					}
				}
			}
		}
	})
}

func TestReLUMaskAndScaleRows(t *testing.T) {
	kt.ForEachPath(t, func(t *testing.T) {
		r := kt.Rand(21)
		for _, rows := range rowSizes[:6] {
			for _, cols := range rowSizes {
				n := rows * cols
				g := kt.Normal(r, n, 1)
				out := kt.Normal(r, n, 1)
				if n > 2 {
					out[1] = float32(math.NaN())
					out[2] = 0
				}
				dst := kt.Poison(n)
				kernels.ReLUMask(dst, g, out)
				for j := range dst {
					want := g[j]
					if !(out[j] > 0) {
						want = 0
					}
					if dst[j] != want {
						t.Fatalf("ReLUMask n=%d [%d] = %v, want %v", n, j, dst[j], want)
					}
				}
				s := kt.Normal(r, rows, 1)
				sc := kt.Poison(n)
				kernels.ScaleRows(sc, g, s, rows, cols)
				for j := range sc {
					if want := s[j/cols] * g[j]; sc[j] != want {
						t.Fatalf("ScaleRows rows=%d cols=%d [%d] = %v, want %v", rows, cols, j, sc[j], want)
					}
				}
				kernels.ScaleRows(g, g, s, rows, cols) // in place
				for j := range sc {
					if g[j] != sc[j] {
						t.Fatalf("ScaleRows in place differs at %d", j)
					}
				}
			}
		}
	})
}

func TestColumnSums(t *testing.T) {
	kt.ForEachPath(t, func(t *testing.T) {
		r := kt.Rand(22)
		for _, rows := range rowSizes {
			for _, cols := range rowSizes[:6] {
				for _, acc := range []bool{false, true} {
					ld := cols + 1
					src := kt.Normal(r, rows*ld, 1)
					dst := kt.Poison(cols)
					if acc {
						dst = kt.Normal(r, cols, 1)
					}
					d0 := append([]float32(nil), dst...)
					kernels.ColumnSums(dst, acc, src, ld, rows, cols)
					for j := range dst {
						var want, mag float64
						if acc {
							want, mag = float64(d0[j]), math.Abs(float64(d0[j]))
						}
						for i := 0; i < rows; i++ {
							want += float64(src[i*ld+j])
							mag += math.Abs(float64(src[i*ld+j]))
						}
						if math.Abs(float64(dst[j])-want) > kt.SumTol(rows+1, mag) {
							t.Fatalf("rows=%d cols=%d acc=%v [%d] = %v, want %v", rows, cols, acc, j, dst[j], want)
						}
					}
				}
			}
		}
	})
}

func TestRowKernelPanics(t *testing.T) {
	s := make([]float32, 10)
	kt.MustPanic(t, "AddBiasReLU short bias", func() { kernels.AddBiasReLU(s, 5, s[:4], 2, 5, true) })
	kt.MustPanic(t, "AddBiasReLU small ld", func() { kernels.AddBiasReLU(s, 4, s[:5], 2, 5, true) })
	kt.MustPanic(t, "ReLUMask lengths", func() { kernels.ReLUMask(s, s[:9], s) })
	kt.MustPanic(t, "ScaleRows lengths", func() { kernels.ScaleRows(s, s, s[:3], 2, 5) })
	kt.MustPanic(t, "ColumnSums short src", func() { kernels.ColumnSums(s[:5], false, s[:9], 5, 2, 5) })
}
