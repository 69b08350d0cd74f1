package kernels_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sgds/sgds/kernels"
	kt "github.com/sgds/sgds/kernels/kerneltest"
	"github.com/sgds/sgds/kernels/ref"
)

type convShape struct {
	name    string
	T, K, C int
}

var convShapes = []convShape{
	{"tiny", 1, 1, 1},
	{"odd", 7, 3, 5},
	{"noT", 0, 4, 3},
	{"noK", 5, 0, 3},
	{"noC", 5, 4, 0},
	{"wide", 9, 40, 2},
	{"mid", 36, 50, 8},
	{"fewT", 4, 60, 24}, // the one where AddConvGradNormSq picks gram
	{"conv1", 576, 25, 10},
	{"conv2", 64, 250, 20},
}

// convDelta returns a (B, C, T) output gradient in one of three patterns:
// "dense" (random everywhere), "pooled" (as behind a 2×2 max-pool and a ReLU:
// at most one position in four non-zero per channel, many channels zero),
// and "mixed" (dense, plus whole zero samples and zero positions).
func convDelta(r *rand.Rand, pattern string, B, T, C int) []float32 {
	d := kt.Normal(r, B*C*T, 0.05)
	switch pattern {
	case "pooled":
		for j := range d {
			if j%4 != r.IntN(4) || r.IntN(2) == 0 {
				d[j] = 0
			}
		}
	case "mixed":
		for i := 0; i < B; i += 3 {
			clear(d[i*C*T : (i+1)*C*T])
		}
		for i := 1; i < B; i += 3 {
			for t := 0; t < T; t += 2 {
				for c := range C {
					d[(i*C+c)*T+t] = 0
				}
			}
		}
	}
	return d
}

type convFunc func(dst []float32, patches, delta []float32, B, T, K, C int, bias bool, scratch []float64)

var convFuncs = []struct {
	name string
	f    convFunc
}{
	{"direct", kernels.AddConvGradNormSqDirect},
	{"gram", kernels.AddConvGradNormSqGram},
	{"auto", kernels.AddConvGradNormSq},
}

func TestAddConvGradNormSq(t *testing.T) {
	for _, sh := range convShapes {
		for _, B := range kt.Sizes {
			work := float64(B) * (kernels.ConvNormDirect.Cost(sh.T, sh.K, sh.C) + kernels.ConvNormGram.Cost(sh.T, sh.K, sh.C))
			if work > 3e6 && B > 1 {
				continue // keep the test quick: the CNN shapes run at B = 0 and 1 only
			}
			big := work > 1e6 // the CNN shapes: two of the six variants
			for _, pattern := range []string{"dense", "pooled", "mixed"} {
				for _, bias := range []bool{false, true} {
					if big && (pattern == "mixed" || bias != (pattern == "pooled")) {
						continue
					}
					r := kt.Rand(uint64(B*1009 + sh.T*31 + sh.K*7 + sh.C))
					a := kt.Normal(r, B*sh.T*sh.K, 1)
					d := convDelta(r, pattern, B, sh.T, sh.C)
					start := kt.Start(r, B)
					want := ref.ConvGradNormSq(a, d, B, sh.T, sh.K, sh.C, bias)
					for i := range want {
						want[i] += float64(start[i])
					}
					var got [3][]float32
					for m, cf := range convFuncs {
						{
							// Caller scratch without bias, the internal pool with it.
							pooled := bias
							var scratch []float64
							if !pooled {
								scratch = make([]float64, kernels.ConvNormScratchLen(sh.T, sh.K, sh.C)+3)
								for j := range scratch {
									scratch[j] = math.NaN() // contents on entry must not matter
								}
							}
							dst := append([]float32(nil), start...)
							cf.f(dst, a, d, B, sh.T, sh.K, sh.C, bias, scratch)
							name := kt.Name("layer", sh.name, "B", B, "delta", pattern, "bias", bias, "method", cf.name, "pool", pooled)
							kt.Check(t, name, dst, want, kt.Tol{Abs: 0, Rel: 1e-5})
							got[m] = dst
						}
					}
					// The methods agree with each other to float32 rounding.
					for j := range got[0] {
						if !kt.Near(got[1][j], float64(got[0][j]), 1e-7*float64(got[0][j])) {
							t.Errorf("%s B=%d: gram %g, direct %g", sh.name, B, got[1][j], got[0][j])
						}
					}
				}
			}
		}
	}
}

func TestConvNormMethod(t *testing.T) {
	for _, c := range []struct {
		T, K, C int
		want    kernels.ConvNormMethod
	}{
		{576, 25, 10, kernels.ConvNormDirect}, // conv1: 144,000 against 5,558,400
		{64, 250, 20, kernels.ConvNormDirect}, // conv2: 320,000 against 561,600
		{16, 250, 20, kernels.ConvNormGram},   // few positions: 80,000 against 36,720
		{1, 1, 1, kernels.ConvNormDirect},
		{0, 5, 5, kernels.ConvNormDirect},
		{4, 60, 24, kernels.ConvNormGram},
	} {
		if got := kernels.ChooseConvNormMethod(c.T, c.K, c.C); got != c.want {
			t.Errorf("ChooseConvNormMethod(%d, %d, %d) = %v, want %v", c.T, c.K, c.C, got, c.want)
		}
	}
	if kernels.ConvNormDirect.String() != "direct" || kernels.ConvNormGram.String() != "gram" {
		t.Errorf("String: %q, %q", kernels.ConvNormDirect, kernels.ConvNormGram)
	}
	if got := kernels.ConvNormDirect.Cost(64, 250, 20); got != 320000 {
		t.Errorf("direct cost = %g", got)
	}
	if got := kernels.ConvNormGram.Cost(64, 250, 20); got != 64*65/2*270 {
		t.Errorf("gram cost = %g", got)
	}
}

func TestAddConvGradNormSqPanics(t *testing.T) {
	const B, T, K, C = 2, 3, 4, 5
	dst, a, d := make([]float32, B), make([]float32, B*T*K), make([]float32, B*C*T)
	n := kernels.ConvNormScratchLen(T, K, C)
	for _, cf := range convFuncs {
		cf.f(dst, a, d, B, T, K, C, true, nil)
		cf.f(dst, a, d, B, T, K, C, true, make([]float64, n))
		cf.f(nil, nil, nil, 0, T, K, C, true, nil)
		kt.MustPanic(t, cf.name+" short dst", func() { cf.f(dst[:1], a, d, B, T, K, C, true, nil) })
		kt.MustPanic(t, cf.name+" short patches", func() { cf.f(dst, a[1:], d, B, T, K, C, true, nil) })
		kt.MustPanic(t, cf.name+" short delta", func() { cf.f(dst, a, d[1:], B, T, K, C, true, nil) })
		kt.MustPanic(t, cf.name+" short scratch", func() { cf.f(dst, a, d, B, T, K, C, true, make([]float64, n-1)) })
		kt.MustPanic(t, cf.name+" negative T", func() { cf.f(nil, nil, nil, 0, -1, K, C, true, nil) })
		kt.MustPanic(t, cf.name+" negative B", func() { cf.f(nil, nil, nil, -1, T, K, C, true, nil) })
	}
}

// TestConvGradNormSqRealConv checks the layouts against an actual
// convolution: y[co,oh,ow] = b[co] + Σ_{ci,ki,kj} W[co,ci,ki,kj]·x[ci,oh+ki,ow+kj]
// (stride 1, no padding). With a random upstream gradient g, the loss
// L = Σ g⊙y is linear in (W, b), so central differences give its exact
// gradient; the squared norm of that gradient must equal what the kernels
// compute from the im2col patches of x and δ = g.
func TestConvGradNormSqRealConv(t *testing.T) {
	const (
		B            = 5
		Cin, H, W    = 3, 9, 8
		Cout, KH, KW = 4, 3, 2
		OH, OW       = H - KH + 1, W - KW + 1
		T, K         = OH * OW, Cin * KH * KW
		nW           = Cout * Cin * KH * KW
	)
	r := kt.Rand(2024)
	x := kt.Normal(r, B*Cin*H*W, 1)
	g := kt.Normal(r, B*Cout*T, 1) // upstream gradient, (B, Cout, OH·OW)
	w0 := make([]float64, nW+Cout) // weights, then biases
	for j := range w0 {
		w0[j] = r.NormFloat64()
	}
	// loss of sample i as a function of the parameters, in float64.
	lossAt := func(i int, w []float64) float64 {
		var L float64
		for co := range Cout {
			for oh := range OH {
				for ow := range OW {
					y := w[nW+co]
					for ci := range Cin {
						for ki := range KH {
							for kj := range KW {
								y += w[((co*Cin+ci)*KH+ki)*KW+kj] *
									float64(x[((i*Cin+ci)*H+oh+ki)*W+ow+kj])
							}
						}
					}
					L += float64(g[(i*Cout+co)*T+oh*OW+ow]) * y
				}
			}
		}
		return L
	}
	want := make([][2]float64, B) // without and with bias
	w := make([]float64, len(w0))
	for i := range B {
		for j := range w0 {
			copy(w, w0)
			w[j] = w0[j] + 0.5
			lp := lossAt(i, w)
			w[j] = w0[j] - 0.5
			dj := lp - lossAt(i, w) // step 1: exact for a linear loss up to rounding
			if j < nW {
				want[i][0] += dj * dj
			}
			want[i][1] += dj * dj
		}
	}
	// im2col: patch of position (oh, ow), entry (ci, ki, kj).
	patches := make([]float32, B*T*K)
	for i := range B {
		for oh := range OH {
			for ow := range OW {
				tt := oh*OW + ow
				for ci := range Cin {
					for ki := range KH {
						for kj := range KW {
							k := (ci*KH+ki)*KW + kj
							patches[(i*T+tt)*K+k] = x[((i*Cin+ci)*H+oh+ki)*W+ow+kj]
						}
					}
				}
			}
		}
	}
	for _, cf := range convFuncs {
		for b, bias := range []bool{false, true} {
			dst := make([]float32, B)
			cf.f(dst, patches, g, B, T, K, Cout, bias, nil)
			for i := range B {
				if !kt.Near(dst[i], want[i][b], 0) {
					t.Errorf("%s bias=%v sample %d: %g, finite differences give %g", cf.name, bias, i, dst[i], want[i][b])
				}
			}
		}
	}
}

var cnnLayers = []convShape{{"conv1", 576, 25, 10}, {"conv2", 64, 250, 20}}

// convBench is one input of the conv-norm benchmarks: B = 64 samples at a
// layer of cnnLayers, named layer (convN for a dense random output
// gradient d, convN+pool for one shaped like a gradient behind 2×2
// max-pool and ReLU), with activations a, scratch and an output dst.
type convBench struct {
	layer     string
	sh        convShape
	B         int
	a, d, dst []float32
	scratch   []float64
}

// forCNNLayers calls f with each benchmark input, made afresh for it.
func forCNNLayers(f func(convBench)) {
	const B = 64
	for _, sh := range cnnLayers {
		for _, pattern := range []string{"dense", "pooled"} {
			layer := sh.name
			if pattern == "pooled" {
				layer += "+pool"
			}
			r := kt.Rand(1)
			a := kt.Normal(r, B*sh.T*sh.K, 1)
			d := convDelta(r, pattern, B, sh.T, sh.C)
			f(convBench{layer: layer, sh: sh, B: B, a: a, d: d, dst: make([]float32, B),
				scratch: make([]float64, kernels.ConvNormScratchLen(sh.T, sh.K, sh.C))})
		}
	}
}

// BenchmarkConvGradNormSq times both methods and the per-sample chooser at the
// seed CNN's conv layers with B = 64: layer=convN is a dense random output
// gradient, layer=convN+pool one shaped like a gradient behind 2×2 max-pool
// and ReLU (at most a quarter of the positions non-zero).
func BenchmarkConvGradNormSq(b *testing.B) {
	forCNNLayers(func(in convBench) {
		sh, B := in.sh, in.B
		for _, cf := range convFuncs {
			b.Run(kt.Name("layer", in.layer, "method", cf.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					cf.f(in.dst, in.a, in.d, B, sh.T, sh.K, sh.C, true, in.scratch)
				}
				b.ReportMetric(float64(B)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
			})
		}
	})
}

// BenchmarkConvNormSpeedup runs the two methods alternately on the same
// inputs and reports how many times faster the direct method is than the
// Gram one ("speedup" = gram time / direct time; below 1 means gram wins).
// Alternating keeps the ratio fair on a loaded machine.
func BenchmarkConvNormSpeedup(b *testing.B) {
	forCNNLayers(func(in convBench) {
		sh, B := in.sh, in.B
		b.Run(kt.Name("layer", in.layer), func(b *testing.B) {
			var td, tg time.Duration
			for b.Loop() {
				t0 := time.Now()
				kernels.AddConvGradNormSqDirect(in.dst, in.a, in.d, B, sh.T, sh.K, sh.C, true, in.scratch)
				t1 := time.Now()
				kernels.AddConvGradNormSqGram(in.dst, in.a, in.d, B, sh.T, sh.K, sh.C, true, in.scratch)
				td += t1.Sub(t0)
				tg += time.Since(t1)
			}
			b.ReportMetric(float64(tg)/float64(td), "speedup")
			b.ReportMetric(float64(td.Nanoseconds())/float64(b.N), "direct-ns/op")
			b.ReportMetric(float64(tg.Nanoseconds())/float64(b.N), "gram-ns/op")
		})
	})
}
