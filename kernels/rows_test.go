package kernels

import (
	"math"
	"testing"
)

var rowSizes = []int{0, 1, 7, 31, 32, 33, 1000}

func TestAddBiasReLU(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := newRand(20)
		for _, rows := range rowSizes[:6] {
			for _, cols := range rowSizes {
				for _, relu := range []bool{false, true} {
					ld := cols + 2
					x := randNormal32(r, rows*ld, 1)
					if rows*cols > 0 {
						x[0] = float32(math.NaN())
					}
					x0 := append([]float32(nil), x...)
					bias := randNormal32(r, cols, 1)
					AddBiasReLU(x, ld, bias, rows, cols, relu)
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
	forEachPath(t, func(t *testing.T) {
		r := newRand(21)
		for _, rows := range rowSizes[:6] {
			for _, cols := range rowSizes {
				n := rows * cols
				g := randNormal32(r, n, 1)
				out := randNormal32(r, n, 1)
				if n > 2 {
					out[1] = float32(math.NaN())
					out[2] = 0
				}
				dst := nanSlice(n)
				ReLUMask(dst, g, out)
				for j := range dst {
					want := g[j]
					if !(out[j] > 0) {
						want = 0
					}
					if dst[j] != want {
						t.Fatalf("ReLUMask n=%d [%d] = %v, want %v", n, j, dst[j], want)
					}
				}
				s := randNormal32(r, rows, 1)
				sc := nanSlice(n)
				ScaleRows(sc, g, s, rows, cols)
				for j := range sc {
					if want := s[j/cols] * g[j]; sc[j] != want {
						t.Fatalf("ScaleRows rows=%d cols=%d [%d] = %v, want %v", rows, cols, j, sc[j], want)
					}
				}
				ScaleRows(g, g, s, rows, cols) // in place
				for j := range sc {
					if g[j] != sc[j] {
						t.Fatalf("ScaleRows in place differs at %d", j)
					}
				}
			}
		}
	})
}

func TestSumRows(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := newRand(22)
		for _, rows := range rowSizes {
			for _, cols := range rowSizes[:6] {
				for _, acc := range []bool{false, true} {
					ld := cols + 1
					src := randNormal32(r, rows*ld, 1)
					dst := nanSlice(cols)
					if acc {
						dst = randNormal32(r, cols, 1)
					}
					d0 := append([]float32(nil), dst...)
					SumRows(dst, acc, src, ld, rows, cols)
					for j := range dst {
						var want, mag float64
						if acc {
							want, mag = float64(d0[j]), math.Abs(float64(d0[j]))
						}
						for i := 0; i < rows; i++ {
							want += float64(src[i*ld+j])
							mag += math.Abs(float64(src[i*ld+j]))
						}
						if math.Abs(float64(dst[j])-want) > sumAbsTol(rows+1, mag) {
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
	mustPanic(t, "AddBiasReLU short bias", func() { AddBiasReLU(s, 5, s[:4], 2, 5, true) })
	mustPanic(t, "AddBiasReLU small ld", func() { AddBiasReLU(s, 4, s[:5], 2, 5, true) })
	mustPanic(t, "ReLUMask lengths", func() { ReLUMask(s, s[:9], s) })
	mustPanic(t, "ScaleRows lengths", func() { ScaleRows(s, s, s[:3], 2, 5) })
	mustPanic(t, "SumRows short src", func() { SumRows(s[:5], false, s[:9], 5, 2, 5) })
}
