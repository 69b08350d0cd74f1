package device

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/sgds/sgds/cuda"
	"github.com/sgds/sgds/kernels"
	kt "github.com/sgds/sgds/kernels/kerneltest"
	"github.com/sgds/sgds/kernels/ref"
)

// The kernel benchmarks: every kernel at a large size (the loss at its target
// size, the CNN's shapes at batch 1024), after checking its result against
// the reference on the same fresh random inputs. Each reports
//
//	GB/s     the bytes the kernel must read and write once, per second
//	GFLOP/s  for the GEMMs
//	maxrel-ppm  the largest |device − reference| / magnitude of the check,
//	            in millionths
//	%copy    (the loss kernel) its GB/s as a percentage of copy_f32's,
//	         measured in the same run: the target is ≥ 70 at B=65,536, C=1,000
//
// Launches are enqueued back to back and the device is synchronised before
// the timer stops (measure; TestMeasureWaitsForTheDevice checks it on the
// asynchronous host driver). On the host drivers the sizes shrink 64-fold: a
// dry run of the plumbing whose timings mean nothing.

// scaled returns n, or n/64 (at least 1) on the host drivers.
func scaled(l *Lib, n int) int {
	if l.Context().Driver() != "cuda" {
		return max(1, n/64)
	}
	return n
}

// measure times run, after one checked call, and reports the metrics. The
// device's work is inside the timed region: launches only enqueue work, so
// the clock stops after the context is synchronised, not when b.Loop ends
// (b.Loop stops the timer at its last call; the timer is restarted for
// the wait). Run with a count (-benchtime 20x): with a duration, b.Loop
// scales its count on the launch times of each round, which a GPU's
// launch queue keeps far below the device's until it fills.
func measure(b *testing.B, l *Lib, bytes, flops, maxrel float64, run func() error) (gbs float64) {
	b.Helper()
	ctx := l.Context()
	must(b, ctx.Synchronize()) // nothing of the check enters the timing
	for b.Loop() {
		if err := run(); err != nil {
			b.Fatal(err)
		}
	}
	b.StartTimer()
	must(b, ctx.Synchronize())
	b.StopTimer()
	sec := b.Elapsed().Seconds() / float64(b.N)
	gbs = bytes / sec / 1e9
	b.ReportMetric(gbs, "GB/s")
	if flops > 0 {
		b.ReportMetric(flops/sec/1e9, "GFLOP/s")
	}
	b.ReportMetric(maxrel*1e6, "maxrel-ppm")
	return gbs
}

// throughput returns the bytes per second of run, timed apart from the
// benchmark's own loop: one warm-up call, then repetitions doubling until
// they take 0.1 s.
func throughput(b *testing.B, l *Lib, bytes float64, run func() error) float64 {
	must(b, run())
	must(b, l.Context().Synchronize())
	for k := 1; ; k *= 2 {
		start := time.Now()
		for range k {
			must(b, run())
		}
		must(b, l.Context().Synchronize())
		if d := time.Since(start); d > 100*time.Millisecond || k >= 1<<16 {
			return bytes * float64(k) / d.Seconds()
		}
	}
}

// copyGBs measures copy_f32 on n floats and returns its GB/s.
func copyGBs(b *testing.B, l *Lib, n int) float64 {
	src := kt.Normal(kt.Rand(98), n, 1)
	dSrc, dst := up(b, l, src), poisoned(b, l, n)
	run := func() error { return l.Copy(nil, dst, dSrc, n) }
	must(b, run())
	m := kt.CheckF32(b, "copy", down(b, dst, n), src, kt.Tol{})
	return measure(b, l, 8*float64(n), 0, m, run)
}

func BenchmarkCopy(b *testing.B) {
	l := testLib(b)
	b.Run("n=64Mi", func(b *testing.B) { copyGBs(b, l, scaled(l, 64<<20)) })
}

// BenchmarkSoftmaxNLL times the loss at its target size, with its
// bandwidth as a share of a copy's measured in the same benchmark.
func BenchmarkSoftmaxNLL(b *testing.B) {
	l := testLib(b)
	b.Run("B=65536/C=1000", func(b *testing.B) {
		B, C := scaled(l, 65536), 1000
		r := kt.Rand(99)
		logits, labels := kt.Normal(r, B*C, 3), kt.Labels(r, B, C)
		weights := make([]float32, B)
		for i := range weights {
			weights[i] = 1 / float32(B)
		}
		wl, wd, wn := ref.SoftmaxNLL(logits, labels, B, C)
		for j := range wd {
			wd[j] *= float64(weights[j/C])
		}
		dLg, dLb, dW := up(b, l, logits), up(b, l, labels), up(b, l, weights)
		loss, dl, nrm := poisoned(b, l, B), poisoned(b, l, B*C), poisoned(b, l, B)
		run := func() error { return l.SoftmaxNLL(nil, loss, dl, nrm, dLg, dLb, dW, B, C) }
		must(b, run())
		m := max(kt.Check(b, "loss", down(b, loss, B), wl, kt.Tol{Abs: 1e-14, Rel: 1e-5}),
			kt.Check(b, "dlogits", down(b, dl, B*C), wd, kt.Tol{Abs: 1e-37, Rel: 1e-5}),
			kt.Check(b, "lastnorm", down(b, nrm, B), wn, kt.Tol{Abs: 1e-14, Rel: 1e-5}))
		b.StopTimer()
		src, dst := up(b, l, kt.Normal(r, B*C, 1)), poisoned(b, l, B*C)
		copyBps := throughput(b, l, 8*float64(B*C), func() error { return l.Copy(nil, dst, src, B*C) })
		b.StartTimer()
		gbs := measure(b, l, 4*(2*float64(B*C)+4*float64(B)), 0, m, run)
		b.ReportMetric(100*gbs*1e9/copyBps, "%copy")
	})
}

func BenchmarkDenseNorm(b *testing.B) {
	l := testLib(b)
	b.Run("B=65536/K=256/C=10", func(b *testing.B) {
		B, K, C := scaled(l, 65536), 256, 10
		r := kt.Rand(100)
		a, d, start := kt.Normal(r, B*K, 1), kt.Normal(r, B*C, 0.1), kt.Start(r, B)
		da, dd, sq := up(b, l, a), up(b, l, d), up(b, l, start)
		run := func() error { return l.AddDenseGradNormSq(nil, sq, da, dd, B, K, C, true) }
		must(b, run())
		m := kt.Check(b, "dense", down(b, sq, B), plusStart(start, ref.DenseGradNormSq(a, d, B, K, C, true)), kt.Tol{Rel: 1e-6})
		measure(b, l, 4*float64(B*(K+C+2)), 0, m, run)
	})
}

// BenchmarkConvNorm times conv2's per-sample norms of the CNN at batch
// 1024: the per-sample GEMM and the sums.
func BenchmarkConvNorm(b *testing.B) {
	l := testLib(b)
	b.Run("B=1024/T=64/K=250/C=20", func(b *testing.B) {
		B, T, K, C := scaled(l, 1024), 64, 250, 20
		r := kt.Rand(101)
		p, d, start := kt.Normal(r, B*T*K, 1), kt.Normal(r, B*C*T, 0.1), kt.Start(r, B)
		dp, dd, sq := up(b, l, p), up(b, l, d), up(b, l, start)
		g, sums := poisoned(b, l, B*C*K), poisoned(b, l, B*C)
		run := func() error { return l.AddConvGradNormSq(nil, sq, dp, dd, B, T, K, C, true, g, sums) }
		must(b, run())
		m := kt.Check(b, "conv", down(b, sq, B), plusStart(start, ref.ConvGradNormSq(p, d, B, T, K, C, true)), kt.Tol{Rel: 2e-5})
		measure(b, l, 4*float64(B*(T*K+C*T+2*C*K)), 2*float64(B*C*K*T), m, run)
	})
}

func BenchmarkReductions(b *testing.B) {
	l := testLib(b)
	R, N := scaled(l, 1024), 5000
	in := kt.Normal(kt.Rand(102), R*N, 1)
	dIn := up(b, l, in)
	for _, k := range []struct {
		name     string
		outLen   int
		launch   func(out *cuda.Float32s) error
		want     func(out []float32)
		startOut bool
	}{
		{"column_sums", N, func(o *cuda.Float32s) error { return l.ColumnSums(nil, o, dIn, R, N) },
			func(o []float32) { ref.ColumnSums(o, in, R, N) }, false},
		{"row_sums", R, func(o *cuda.Float32s) error { return l.RowSums(nil, o, dIn, R, N) },
			func(o []float32) { ref.RowSums(o, in, R, N) }, false},
		{"add_row_sum_sq", R, func(o *cuda.Float32s) error { return l.AddRowSumSq(nil, o, dIn, R, N) },
			func(o []float32) { ref.AddRowSumSq(o, in, R, N) }, true},
	} {
		b.Run(fmt.Sprintf("kernel=%s/R=1024/N=5000", k.name), func(b *testing.B) {
			want := make([]float32, k.outLen)
			if k.startOut {
				want = kt.Start(kt.Rand(103), k.outLen)
			}
			out := up(b, l, want)
			k.want(want)
			must(b, k.launch(out))
			m := kt.CheckF32(b, k.name, down(b, out, k.outLen), want, kt.Tol{Abs: 1e-9, Rel: 1e-6})
			measure(b, l, 4*float64(R*N+k.outLen), 0, m, func() error { return k.launch(out) })
		})
	}
}

// BenchmarkSgemm times a square GEMM per layout (checked on sampled
// entries) and the CNN's GEMMs at batch 1024 (checked in full), with the
// tile SgemmTile picks.
func BenchmarkSgemm(b *testing.B) {
	l := testLib(b)
	for _, op := range []Op{NN, NT, TN} {
		M := scaled(l, 2048)
		if M < 2048 {
			M = 64 // host driver: the float64 reference of 2048^3 takes minutes
		}
		b.Run(fmt.Sprintf("layer=square/op=%v/batch=1/M=%d/N=%d/K=%d/tile=%v", op, M, M, M, l.SgemmTile(M, M, 1)), func(b *testing.B) {
			benchSquare(b, l, op, M)
		})
	}
	B := scaled(l, 1024)
	for _, s := range []struct {
		name           string
		op             Op
		batch, M, N, K int
		sA, sB, sC     int
		epi            Epilogue
		biasLen        int
	}{
		{"conv1_fwd", NT, B, 10, 576, 25, 0, 576 * 25, 10 * 576, EpiBiasRow, 10},
		{"conv2_fwd", NT, B, 20, 64, 250, 0, 64 * 250, 20 * 64, EpiBiasRow, 20},
		{"conv1_wgrad_per_sample", NN, B, 10, 25, 576, 10 * 576, 576 * 25, 10 * 25, EpiNone, 0},
		{"conv2_wgrad_per_sample", NN, B, 20, 250, 64, 20 * 64, 64 * 250, 20 * 250, EpiNone, 0},
		{"conv2_dgrad", TN, B, 64, 250, 20, 20 * 64, 0, 64 * 250, EpiNone, 0},
		{"fc1_fwd_bias_relu", NN, 1, B, 50, 320, 0, 0, 0, EpiBiasColReLU, 50},
		{"fc1_wgrad", TN, 1, 320, 50, B, 0, 0, 0, EpiNone, 0},
	} {
		if s.batch == 1 {
			s.sA, s.sB, s.sC = s.M*s.K, s.K*s.N, s.M*s.N
		}
		name := fmt.Sprintf("layer=%s/op=%v/batch=%d/M=%d/N=%d/K=%d/tile=%v", s.name, s.op, s.batch, s.M, s.N, s.K, l.SgemmTile(s.M, s.N, s.batch))
		b.Run(name, func(b *testing.B) {
			r := kt.Rand(104)
			a := kt.Normal(r, (s.batch-1)*s.sA+s.M*s.K, 1)
			bb := kt.Normal(r, (s.batch-1)*s.sB+s.K*s.N, 1)
			var bias []float32
			var dBias *cuda.Float32s
			if s.biasLen > 0 {
				bias = kt.Normal(r, s.biasLen, 1)
				dBias = up(b, l, bias)
			}
			n := (s.batch-1)*s.sC + s.M*s.N
			want := make([]float32, n)
			ref.SgemmBatched(s.op, s.batch, want, a, bb, s.M, s.N, s.K, s.sA, s.sB, s.sC, s.epi, bias, nil)
			scale := kt.GemmScale(s.op, s.batch, a, bb, s.M, s.N, s.K, s.sA, s.sB, s.sC, s.epi, bias)
			da, db, c := up(b, l, a), up(b, l, bb), poisoned(b, l, n)
			run := func() error {
				return l.SgemmBatched(nil, s.op, s.batch, c, da, db, s.M, s.N, s.K, s.sA, s.sB, s.sC, s.epi, dBias, nil)
			}
			must(b, run())
			m := kt.CheckF32(b, s.name, down(b, c, n), want, kt.Tol{Abs: 1e-30, Rel: 1e-5, Scale: scale})
			measure(b, l, 4*float64(len(a)+len(bb)+n), 2*float64(s.batch)*float64(s.M*s.N*s.K), m, run)
		})
	}
}

// benchSquare times an M×M×M GEMM, checking 512 sampled entries.
func benchSquare(b *testing.B, l *Lib, op Op, M int) {
	r := kt.Rand(105)
	a, bb := kt.Normal(r, M*M, 1), kt.Normal(r, M*M, 1)
	da, db, c := up(b, l, a), up(b, l, bb), poisoned(b, l, M*M)
	run := func() error { return l.Sgemm(nil, op, c, da, db, M, M, M, EpiNone, nil, nil) }
	must(b, run())
	got := down(b, c, M*M)
	var worst float64
	for range 512 {
		i, j := r.IntN(M), r.IntN(M)
		var sum, mag float64
		for k := 0; k < M; k++ {
			x, y := float64(a[i*M+k]), float64(bb[k*M+j])
			if op == TN {
				x = float64(a[k*M+i])
			}
			if op == NT {
				y = float64(bb[j*M+k])
			}
			sum += x * y
			mag += math.Abs(x * y)
		}
		d := math.Abs(float64(got[i*M+j]) - sum)
		if d > 1e-5*mag {
			b.Errorf("%v [%d,%d] = %g, want %g", op, i, j, got[i*M+j], sum)
		}
		worst = math.Max(worst, d/mag)
	}
	measure(b, l, 12*float64(M*M), 2*float64(M)*float64(M)*float64(M), worst, run)
}

func BenchmarkIm2Col(b *testing.B) {
	l := testLib(b)
	b.Run("B=1024/C=1/H=28/W=28/KH=5/KW=5", func(b *testing.B) {
		B, C, H, W, KH, KW, T, K := scaled(l, 1024), 1, 28, 28, 5, 5, 576, 25
		x := kt.Normal(kt.Rand(106), B*C*H*W, 1)
		want := make([]float32, B*T*K)
		kernels.Im2Col(want, x, B, C, H, W, KH, KW)
		dx, p := up(b, l, x), poisoned(b, l, B*T*K)
		run := func() error { return l.Im2Col(nil, p, dx, B, C, H, W, KH, KW) }
		must(b, run())
		m := kt.CheckF32(b, "im2col", down(b, p, B*T*K), want, kt.Tol{})
		measure(b, l, 4*float64(B*C*H*W+B*T*K), 0, m, run)
	})
}

func BenchmarkCol2Im(b *testing.B) {
	l := testLib(b)
	b.Run("B=1024/C=10/H=12/W=12/KH=5/KW=5", func(b *testing.B) {
		B, C, H, W, KH, KW, T, K := scaled(l, 1024), 10, 12, 12, 5, 5, 64, 250
		src := kt.Normal(kt.Rand(107), B*T*K, 1)
		want, scale := make([]float32, B*C*H*W), make([]float32, B*C*H*W)
		ref.Col2Im(want, src, B, C, H, W, KH, KW)
		ref.Col2Im(scale, kt.Abs(src), B, C, H, W, KH, KW)
		dsrc, dst := up(b, l, src), poisoned(b, l, B*C*H*W)
		run := func() error { return l.Col2Im(nil, dst, dsrc, B, C, H, W, KH, KW) }
		must(b, run())
		m := kt.CheckF32(b, "col2im", down(b, dst, len(want)), want, kt.Tol{Abs: 1e-30, Rel: 3e-6, Scale: kt.To64(scale)})
		measure(b, l, 4*float64(B*C*H*W+B*T*K), 0, m, run)
	})
}

// BenchmarkMaxPool times the max-pool with ReLU, forward and backward, on
// conv1's output.
func BenchmarkMaxPool(b *testing.B) {
	l := testLib(b)
	B, C, H, W := scaled(l, 1024), 10, 24, 24
	n := B * C * 12 * 12
	in := kt.Normal(kt.Rand(108), B*C*H*W, 1)
	wo, wa := make([]float32, n), make([]int32, n)
	ref.MaxPool2(wo, wa, in, B, C, H, W, true)
	din, out, arg := up(b, l, in), poisoned(b, l, n), poisonedInts(b, l, n)
	must(b, l.MaxPool2(nil, out, arg, din, B, C, H, W, true))
	b.Run("pass=forward/relu=true/B=1024/C=10/H=24/W=24", func(b *testing.B) {
		m := kt.CheckF32(b, "pool", down(b, out, n), wo, kt.Tol{})
		kt.CheckInts(b, "pool argmax", down(b, arg, n), wa)
		measure(b, l, 4*float64(B*C*H*W+2*n), 0, m, func() error { return l.MaxPool2(nil, out, arg, din, B, C, H, W, true) })
	})
	b.Run("pass=backward/relu=true/B=1024/C=10/H=24/W=24", func(b *testing.B) {
		dout := kt.Normal(kt.Rand(109), n, 1)
		wd := make([]float32, B*C*H*W)
		ref.MaxPool2Back(wd, dout, wa, wo, B, C, H, W, true)
		ddout, dd := up(b, l, dout), poisoned(b, l, B*C*H*W)
		run := func() error { return l.MaxPool2Back(nil, dd, ddout, arg, out, B, C, H, W, true) }
		must(b, run())
		m := kt.CheckF32(b, "pool back", down(b, dd, len(wd)), wd, kt.Tol{})
		measure(b, l, 4*float64(B*C*H*W+3*n), 0, m, run)
	})
}

// BenchmarkElementwise times the ReLU backward and the SGD-momentum update.
func BenchmarkElementwise(b *testing.B) {
	l := testLib(b)
	n := scaled(l, 16<<20)
	r := kt.Rand(110)
	b.Run("kernel=relu_bwd/n=16Mi", func(b *testing.B) {
		dh, h := kt.Normal(r, n, 1), kt.Normal(r, n, 1)
		want := make([]float32, n)
		kernels.ReLUMask(want, dh, h)
		ddh, dh2, dz := up(b, l, dh), up(b, l, h), poisoned(b, l, n)
		run := func() error { return l.ReLUBack(nil, dz, ddh, dh2, n) }
		must(b, run())
		measure(b, l, 12*float64(n), 0, kt.CheckF32(b, "relu", down(b, dz, n), want, kt.Tol{}), run)
	})
	b.Run("kernel=sgd_momentum/n=16Mi", func(b *testing.B) {
		w, v, g := kt.Normal(r, n, 1), kt.Normal(r, n, 1), kt.Normal(r, n, 1)
		dw, dv, dg := up(b, l, w), up(b, l, v), up(b, l, g)
		restore := kernels.DisableFastPath()
		kernels.SGDMomentum(w, v, g, 0.01, 0.5)
		restore()
		must(b, l.SGDMomentum(nil, dw, dv, dg, n, 0.01, 0.5))
		m := max(kt.CheckF32(b, "sgd w", down(b, dw, n), w, kt.Tol{}), kt.CheckF32(b, "sgd v", down(b, dv, n), v, kt.Tol{}))
		measure(b, l, 20*float64(n), 0, m, func() error { return l.SGDMomentum(nil, dw, dv, dg, n, 0.01, 0.5) })
	})
}

// BenchmarkGather times gathering a batch from a device-resident MNIST-sized
// set, and the argmax of the evaluation.
func BenchmarkGather(b *testing.B) {
	l := testLib(b)
	r := kt.Rand(111)
	b.Run("kernel=gather_rows/B=1024/P=784/N=60000", func(b *testing.B) {
		B, N, P := scaled(l, 1024), scaled(l, 60000), 784
		data, dl := kt.Normal(r, N*P, 1), kt.Labels(r, N, 10)
		idx := make([]int32, B)
		for i := range idx {
			idx[i] = int32(r.IntN(N))
		}
		wx, wl := make([]float32, B*P), make([]int32, B)
		ref.Gather(wx, wl, data, dl, idx, P)
		dData, dLab, dIdx := up(b, l, data), up(b, l, dl), up(b, l, idx)
		x, lab := poisoned(b, l, B*P), poisonedInts(b, l, B)
		run := func() error { return l.Gather(nil, x, lab, dData, dLab, dIdx, B, P, N) }
		must(b, run())
		m := kt.CheckF32(b, "gather", down(b, x, B*P), wx, kt.Tol{})
		kt.CheckInts(b, "gather labels", down(b, lab, B), wl)
		measure(b, l, 8*float64(B*P), 0, m, run)
	})
	b.Run("kernel=argmax_rows/B=65536/C=1000", func(b *testing.B) {
		B, C := scaled(l, 65536), 1000
		lg := kt.Normal(r, B*C, 1)
		want := make([]int32, B)
		ref.ArgmaxRows(want, lg, B, C)
		dlg, pred := up(b, l, lg), poisonedInts(b, l, B)
		run := func() error { return l.ArgmaxRows(nil, pred, dlg, B, C) }
		must(b, run())
		kt.CheckInts(b, "argmax", down(b, pred, B), want)
		measure(b, l, 4*float64(B*C+B), 0, 0, run)
	})
}
