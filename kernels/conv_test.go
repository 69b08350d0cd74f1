package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sgds/sgds/kernels"
	kt "github.com/sgds/sgds/kernels/kerneltest"
	"github.com/sgds/sgds/kernels/ref"
)

type poolConvShape struct{ B, C, H, W, F, KH, KW int }

func (s poolConvShape) String() string {
	return fmt.Sprintf("B=%d/C=%d/H=%d/W=%d/F=%d/K=%dx%d", s.B, s.C, s.H, s.W, s.F, s.KH, s.KW)
}

func (s poolConvShape) out() (OH, OW, PQ int) {
	OH, OW = s.H-s.KH+1, s.W-s.KW+1
	return OH, OW, (OH / 2) * (OW / 2)
}

// poolConvShapes covers the seed CNN's two layers, batches 0, 1, 31, 32, 33,
// filter counts around the vector kernel's groups of 5, a 1×1 kernel, a
// kernel wider than 8 (portable fallback) and odd image sizes.
func poolConvShapes() []poolConvShape {
	var s []poolConvShape
	for _, B := range []int{0, 1, 31, 32, 33} {
		s = append(s, poolConvShape{B, 2, 9, 11, 6, 3, 4})
	}
	return append(s,
		poolConvShape{64, 1, 28, 28, 10, 5, 5},  // conv1
		poolConvShape{64, 10, 12, 12, 20, 5, 5}, // conv2
		poolConvShape{3, 3, 9, 11, 7, 3, 4},
		poolConvShape{2, 2, 6, 5, 11, 1, 1},
		poolConvShape{2, 1, 12, 20, 2, 2, 9},
		poolConvShape{1, 4, 7, 7, 5, 6, 6},
		poolConvShape{5, 3, 13, 17, 1, 4, 3},
	)
}

func TestConvPoolReLU(t *testing.T) {
	kt.ForEachPath(t, func(t *testing.T) {
		r := kt.Rand(10)
		for _, s := range poolConvShapes() {
			OH, OW, PQ := s.out()
			src := kt.Normal(r, s.B*s.C*s.H*s.W, 1)
			w := kt.Normal(r, s.F*s.C*s.KH*s.KW, 0.3)
			bias := kt.Normal(r, s.F, 0.5)
			out := kt.Poison(s.B * s.F * PQ)
			arg := make([]int32, len(out))
			for j := range arg {
				arg[j] = -7
			}
			kernels.ConvPoolReLU(out, arg, src, w, bias, s.B, s.C, s.H, s.W, s.F, s.KH, s.KW)
			z, mag := ref.Conv(src, w, s.B, s.C, s.H, s.W, s.F, s.KH, s.KW)
			PW := OW / 2
			for i := 0; i < s.B; i++ {
				for f := 0; f < s.F; f++ {
					for q := 0; q < PQ; q++ {
						py, px := q/PW, q%PW
						plane := (i*s.F + f) * OH * OW
						best, tol := math.Inf(-1), 0.0
						for _, d := range [4]int{0, 1, OW, OW + 1} {
							p := plane + 2*py*OW + 2*px + d
							best = math.Max(best, z[p])
							tol = math.Max(tol, kt.SumTol(s.C*s.KH*s.KW, mag[p]))
						}
						want := math.Max(0, best+float64(bias[f]))
						j := (i*s.F+f)*PQ + q
						got := out[j]
						if math.IsNaN(float64(got)) || math.Abs(float64(got)-want) > tol+4e-7*math.Abs(want)+1e-6 {
							t.Fatalf("%v: out[%d] = %v, want %v", s, j, got, want)
						}
						a := int(arg[j])
						oy, ox := a/s.W, a%s.W
						if a < 0 || oy/2 != py || ox/2 != px || oy >= 2*(OH/2) || ox >= 2*PW {
							t.Fatalf("%v: arg[%d] = %d is not in window (%d,%d)", s, j, a, py, px)
						}
						if v := z[plane+oy*OW+ox]; v < best-2*tol {
							t.Fatalf("%v: arg[%d] = %d holds %v, window max %v", s, j, a, v, best)
						}
					}
				}
			}
		}
	})
}

// randPooled draws a pooled gradient (about half zeros) and window argmaxes.
func randPooled(r *rand.Rand, s poolConvShape) (delta []float32, arg []int32) {
	OH, OW, PQ := s.out()
	_ = OH
	PW := OW / 2
	delta = kt.Normal(r, s.B*s.F*PQ, 1)
	arg = make([]int32, len(delta))
	for j := range delta {
		if r.IntN(2) == 0 {
			delta[j] = 0
		}
		q := j % PQ
		py, px := q/PW, q%PW
		arg[j] = int32((2*py+r.IntN(2))*s.W + 2*px + r.IntN(2))
	}
	return delta, arg
}

func TestAddConvPoolWeightGrad(t *testing.T) {
	kt.ForEachPath(t, func(t *testing.T) {
		r := kt.Rand(11)
		for _, s := range poolConvShapes() {
			_, _, PQ := s.out()
			K := s.C * s.KH * s.KW
			src := kt.Normal(r, s.B*s.C*s.H*s.W, 1)
			delta, arg := randPooled(r, s)
			for _, c := range [][2]bool{{false, true}, {true, true}, {false, false}, {true, false}} {
				weighted, norms := c[0], c[1]
				var rw []float32
				if weighted {
					rw = kt.Normal(r, s.B, 1)
				}
				f0, f1 := 0, s.F
				if s.F > 2 {
					f0, f1 = 1, s.F-1
				}
				dw := kt.Start(r, s.F*K)
				db := kt.Start(r, s.F)
				sq := make([]float64, s.B)
				for i := range sq {
					sq[i] = float64(i) // accumulated into
				}
				dw0, db0 := append([]float32(nil), dw...), append([]float32(nil), db...)
				// Without norms (sq nil) the vector paths run one call over
				// the samples.
				sqArg := sq
				if !norms {
					sqArg = nil
				}
				kernels.AddConvPoolWeightGrad(dw, db, sqArg, src, delta, arg, rw, s.B, s.C, s.H, s.W, s.F, s.KH, s.KW, PQ, f0, f1)
				// float64 reference: per sample G_i, g_i, then weighted sums.
				want, mag := make([]float64, s.F*K), make([]float64, s.F*K)
				wantB, magB := make([]float64, s.F), make([]float64, s.F)
				wantSq := make([]float64, s.B)
				for j := range want {
					want[j], mag[j] = float64(dw0[j]), math.Abs(float64(dw0[j]))
				}
				for f := range wantB {
					wantB[f], magB[f] = float64(db0[f]), math.Abs(float64(db0[f]))
				}
				for f := f0; f < f1; f++ {
					for i := 0; i < s.B; i++ {
						g := make([]float64, K)
						gm := make([]float64, K)
						var gb, gbm float64
						for q := 0; q < PQ; q++ {
							d := float64(delta[(i*s.F+f)*PQ+q])
							a := int(arg[(i*s.F+f)*PQ+q])
							oy, ox := a/s.W, a%s.W
							gb += d
							gbm += math.Abs(d)
							for k := 0; k < K; k++ {
								c, ky, kx := k/(s.KH*s.KW), k/s.KW%s.KH, k%s.KW
								x := d * float64(src[((i*s.C+c)*s.H+oy+ky)*s.W+ox+kx])
								g[k] += x
								gm[k] += math.Abs(x)
							}
						}
						w := 1.0
						if rw != nil {
							w = float64(rw[i])
						}
						for k := range g {
							want[f*K+k] += w * g[k]
							mag[f*K+k] += math.Abs(w) * gm[k]
							wantSq[i] += g[k] * g[k]
						}
						wantB[f] += w * gb
						magB[f] += math.Abs(w) * gbm
						wantSq[i] += gb * gb
					}
				}
				n := s.B * PQ
				for j := range dw {
					if got := dw[j]; math.Abs(float64(got)-want[j]) > 2*kt.SumTol(n, mag[j]) {
						t.Fatalf("%v weighted=%v: dw[%d] = %v, want %v", s, weighted, j, got, want[j])
					}
				}
				for f := range db {
					if got := db[f]; math.Abs(float64(got)-wantB[f]) > 2*kt.SumTol(n, magB[f]) {
						t.Fatalf("%v weighted=%v: db[%d] = %v, want %v", s, weighted, f, got, wantB[f])
					}
				}
				for i := range sqArg {
					if got, w := sq[i]-float64(i), wantSq[i]; math.Abs(got-w) > 1e-5*w+1e-9 {
						t.Fatalf("%v weighted=%v: sq[%d] = %v, want %v", s, weighted, i, got, w)
					}
				}
			}
		}
	})
}

// TestAddConvPoolWeightGradSplit checks that splitting the filters gives
// bit-identical gradients, and per-range norms that add up.
func TestAddConvPoolWeightGradSplit(t *testing.T) {
	kt.ForEachPath(t, func(t *testing.T) {
		r := kt.Rand(12)
		s := poolConvShape{9, 10, 12, 12, 20, 5, 5}
		_, _, PQ := s.out()
		K := s.C * s.KH * s.KW
		src := kt.Normal(r, s.B*s.C*s.H*s.W, 1)
		delta, arg := randPooled(r, s)
		rw := kt.Normal(r, s.B, 1)
		whole, wb, wsq := make([]float32, s.F*K), make([]float32, s.F), make([]float64, s.B)
		kernels.AddConvPoolWeightGrad(whole, wb, wsq, src, delta, arg, rw, s.B, s.C, s.H, s.W, s.F, s.KH, s.KW, PQ, 0, s.F)
		parts, pb, psq := make([]float32, s.F*K), make([]float32, s.F), make([]float64, s.B)
		for _, fr := range [][2]int{{0, 3}, {3, 4}, {4, 17}, {17, 20}} {
			sq := make([]float64, s.B)
			kernels.AddConvPoolWeightGrad(parts, pb, sq, src, delta, arg, rw, s.B, s.C, s.H, s.W, s.F, s.KH, s.KW, PQ, fr[0], fr[1])
			for i := range sq {
				psq[i] += sq[i]
			}
		}
		for j := range whole {
			if math.Float32bits(whole[j]) != math.Float32bits(parts[j]) {
				t.Fatalf("dw[%d]: %v whole, %v by parts", j, whole[j], parts[j])
			}
		}
		for j := range wb {
			if math.Float32bits(wb[j]) != math.Float32bits(pb[j]) {
				t.Fatalf("db[%d]: %v whole, %v by parts", j, wb[j], pb[j])
			}
		}
		for i := range wsq {
			if math.Abs(wsq[i]-psq[i]) > 1e-12*wsq[i] {
				t.Fatalf("sq[%d]: %v whole, %v by parts", i, wsq[i], psq[i])
			}
		}
		// The norms agree with the standalone kernel.
		alone := make([]float32, s.B)
		kernels.AddConvPoolGradNormSq(alone, src, delta, arg, s.B, s.C, s.H, s.W, s.F, s.KH, s.KW, PQ, true)
		for i := range alone {
			if math.Abs(float64(alone[i])-wsq[i]) > 1e-6*wsq[i] {
				t.Fatalf("sq[%d] = %v, AddConvPoolGradNormSq %v", i, wsq[i], alone[i])
			}
		}
	})
}

func TestAddConvPoolGradNormSq(t *testing.T) {
	kt.ForEachPath(t, func(t *testing.T) {
		r := kt.Rand(13)
		for _, s := range poolConvShapes() {
			OH, OW, PQ := s.out()
			T, K := OH*OW, s.C*s.KH*s.KW
			src := kt.Normal(r, s.B*s.C*s.H*s.W, 1)
			delta, arg := randPooled(r, s)
			for _, bias := range []bool{false, true} {
				dst := kt.Start(r, s.B)
				dst0 := append([]float32(nil), dst...)
				kernels.AddConvPoolGradNormSq(dst, src, delta, arg, s.B, s.C, s.H, s.W, s.F, s.KH, s.KW, PQ, bias)
				// Cross-check: the existing kernel on unfolded patches and the
				// dense (unpooled) output gradient.
				patches := make([]float32, s.B*T*K)
				kernels.Im2Col(patches, src, s.B, s.C, s.H, s.W, s.KH, s.KW)
				dense := make([]float32, s.B*s.F*T)
				for j, d := range delta {
					i, f := j/(s.F*PQ), j/PQ%s.F
					a := int(arg[j])
					dense[(i*s.F+f)*T+a/s.W*OW+a%s.W] += d
				}
				want := append([]float32(nil), dst0...)
				kernels.AddConvGradNormSqDirect(want, patches, dense, s.B, T, K, s.F, bias, nil)
				for i := range dst {
					if !kt.Near(dst[i], float64(want[i]), 1e-6) || math.Abs(float64(dst[i])-float64(want[i])) > 1e-5*math.Abs(float64(want[i]))+1e-6 {
						t.Fatalf("%v bias=%v: dst[%d] = %v, AddConvGradNormSqDirect %v", s, bias, i, dst[i], want[i])
					}
				}
			}
		}
	})
}

func TestConvPoolInputGrad(t *testing.T) {
	kt.ForEachPath(t, func(t *testing.T) {
		r := kt.Rand(14)
		for _, s := range poolConvShapes() {
			_, _, PQ := s.out()
			K := s.C * s.KH * s.KW
			w := kt.Normal(r, s.F*K, 1)
			delta, arg := randPooled(r, s)
			dsrc := kt.Poison(s.B * s.C * s.H * s.W)
			kernels.ConvPoolInputGrad(dsrc, delta, arg, w, s.B, s.C, s.H, s.W, s.F, s.KH, s.KW, PQ)
			want := make([]float64, len(dsrc))
			mag := make([]float64, len(dsrc))
			cnt := make([]int, len(dsrc))
			for i := 0; i < s.B; i++ {
				for f := 0; f < s.F; f++ {
					for q := 0; q < PQ; q++ {
						d := float64(delta[(i*s.F+f)*PQ+q])
						if d == 0 {
							continue
						}
						a := int(arg[(i*s.F+f)*PQ+q])
						oy, ox := a/s.W, a%s.W
						for k := 0; k < K; k++ {
							c, ky, kx := k/(s.KH*s.KW), k/s.KW%s.KH, k%s.KW
							p := ((i*s.C+c)*s.H+oy+ky)*s.W + ox + kx
							v := d * float64(w[f*K+k])
							want[p] += v
							mag[p] += math.Abs(v)
							cnt[p]++
						}
					}
				}
			}
			for p, got := range dsrc {
				if math.IsNaN(float64(got)) || math.Abs(float64(got)-want[p]) > 2*kt.SumTol(cnt[p], mag[p]) {
					t.Fatalf("%v: dsrc[%d] = %v, want %v", s, p, got, want[p])
				}
			}
		}
	})
}

func TestConvPanics(t *testing.T) {
	s := make([]float32, 4000)
	a := make([]int32, 4000)
	kt.MustPanic(t, "kernel larger than image", func() { kernels.ConvPoolReLU(s[:0], a[:0], s[:9], s[:16], s[:1], 1, 1, 3, 3, 1, 4, 4) })
	kt.MustPanic(t, "short out", func() { kernels.ConvPoolReLU(s[:3], a[:4], s[:36], s[:9], s[:1], 1, 1, 6, 6, 1, 3, 3) })
	kt.MustPanic(t, "tiny output", func() { kernels.ConvPoolReLU(s[:0], a[:0], s[:9], s[:9], s[:1], 1, 1, 3, 3, 1, 3, 3) })
	kt.MustPanic(t, "short sq", func() {
		kernels.AddConvPoolWeightGrad(s[:9], s[:1], make([]float64, 2), s[:36], s[:4], a[:4], nil, 1, 1, 6, 6, 1, 3, 3, 4, 0, 1)
	})
	kt.MustPanic(t, "negative B", func() { kernels.ConvPoolInputGrad(s, s, a, s, -1, 1, 6, 6, 1, 3, 3, 4) })
	kt.MustPanic(t, "bad filter range", func() {
		kernels.AddConvPoolWeightGrad(s[:9], s[:1], nil, s[:36], s[:4], a[:4], nil, 1, 1, 6, 6, 1, 3, 3, 4, 0, 2)
	})
	bad := []int32{0, 1, 22, 3} // offsets must be < (OH−1)·W+OW = 3·6+4
	kt.MustPanic(t, "arg out of range", func() {
		kernels.AddConvPoolWeightGrad(s[:9], s[:1], nil, s[:36], []float32{1, 1, 1, 1}, bad, nil, 1, 1, 6, 6, 1, 3, 3, 4, 0, 1)
	})
	kt.MustPanic(t, "negative arg", func() {
		kernels.ConvPoolInputGrad(s[:36], []float32{1, 1, 1, 1}, []int32{0, -1, 0, 0}, s[:9], 1, 1, 6, 6, 1, 3, 3, 4)
	})
}

func BenchmarkConv(b *testing.B) {
	for _, s := range []poolConvShape{{64, 1, 28, 28, 10, 5, 5}, {64, 10, 12, 12, 20, 5, 5}} {
		r := kt.Rand(15)
		_, _, PQ := s.out()
		K := s.C * s.KH * s.KW
		src := kt.Normal(r, s.B*s.C*s.H*s.W, 1)
		w := kt.Normal(r, s.F*K, 0.3)
		bias := kt.Normal(r, s.F, 0.3)
		out := make([]float32, s.B*s.F*PQ)
		arg := make([]int32, len(out))
		dw, db := make([]float32, s.F*K), make([]float32, s.F)
		dsrc := make([]float32, len(src))
		norms := make([]float32, s.B)
		kernels.ConvPoolReLU(out, arg, src, w, bias, s.B, s.C, s.H, s.W, s.F, s.KH, s.KW)
		delta := make([]float32, len(out))
		for j := range delta {
			if out[j] > 0 {
				delta[j] = float32(r.NormFloat64())
			}
		}
		kt.ForEachPath(b, func(b *testing.B) {
			b.Run("op=forward/"+s.String(), func(b *testing.B) {
				kt.LoopCPU(b, func() {
					kernels.ConvPoolReLU(out, arg, src, w, bias, s.B, s.C, s.H, s.W, s.F, s.KH, s.KW)
				})
			})
			b.Run("op=weightgrad/"+s.String(), func(b *testing.B) {
				kt.LoopCPU(b, func() {
					kernels.AddConvPoolWeightGrad(dw, db, nil, src, delta, arg, nil, s.B, s.C, s.H, s.W, s.F, s.KH, s.KW, PQ, 0, s.F)
				})
			})
			b.Run("op=weightgrad+norms/"+s.String(), func(b *testing.B) {
				sq := make([]float64, s.B)
				kt.LoopCPU(b, func() {
					kernels.AddConvPoolWeightGrad(dw, db, sq, src, delta, arg, nil, s.B, s.C, s.H, s.W, s.F, s.KH, s.KW, PQ, 0, s.F)
				})
			})
			b.Run("op=inputgrad/"+s.String(), func(b *testing.B) {
				kt.LoopCPU(b, func() {
					kernels.ConvPoolInputGrad(dsrc, delta, arg, w, s.B, s.C, s.H, s.W, s.F, s.KH, s.KW, PQ)
				})
			})
			b.Run("op=normsq/"+s.String(), func(b *testing.B) {
				kt.LoopCPU(b, func() {
					kernels.AddConvPoolGradNormSq(norms, src, delta, arg, s.B, s.C, s.H, s.W, s.F, s.KH, s.KW, PQ, true)
				})
			})
		})
	}
}

// TestConvPoolReLUTies checks that every path breaks pooling ties as the
// portable one does (the first maximum of a window wins) and clamps alike:
// with small integer inputs and weights every conv output is exact, so the
// paths must agree bit for bit, ties included.
func TestConvPoolReLUTies(t *testing.T) {
	for _, s := range []poolConvShape{{3, 1, 28, 28, 3, 5, 5}, {2, 2, 20, 37, 3, 3, 2}} {
		r := kt.Rand(77)
		_, _, PQ := s.out()
		src := make([]float32, s.B*s.C*s.H*s.W)
		for i := range src {
			src[i] = float32(r.IntN(3) - 1)
		}
		w := make([]float32, s.F*s.C*s.KH*s.KW)
		for i := range w {
			w[i] = float32(r.IntN(3) - 1)
		}
		bias := []float32{0, -1, 0.5}
		run := func() ([]float32, []int32) {
			out, arg := kt.Poison(s.B*s.F*PQ), kt.PoisonInts(s.B*s.F*PQ)
			kernels.ConvPoolReLU(out, arg, src, w, bias, s.B, s.C, s.H, s.W, s.F, s.KH, s.KW)
			return out, arg
		}
		restore := kernels.UsePath(kernels.PathPortable)
		wantOut, wantArg := run()
		restore()
		kt.ForEachPath(t, func(t *testing.T) {
			out, arg := run()
			kt.CheckF32(t, "out", out, wantOut, kt.Tol{})
			kt.CheckInts(t, "arg", arg, wantArg)
		})
	}
}
