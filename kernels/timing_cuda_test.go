//go:build cuda

package kernels

import (
	"fmt"
	"math"
	"os"
	"sort"
	"testing"

	"github.com/sgds/sgds/cuda"
)

// TestDeviceTiming times every kernel at a large size with CUDA events
// after a warm-up (median of many runs), after checking its result against
// the Go twin on the same fresh random inputs. It runs only when
// SGDS_GPU_TIMING=1 and prints one line per kernel:
//
//	KERNEL name=… size=… maxrel=… ms=… GB/s=… GFLOP/s=…
//
// maxrel is the largest |device − twin| / |twin| (for sums and GEMMs,
// divided by the sum of the absolute terms instead). GB/s counts the bytes
// each kernel must read and write once; GFLOP/s is reported for GEMMs.
// "copy_f32" is the yardstick: the loss kernel's line also gives its
// bandwidth as a percentage of the copy's.
func TestDeviceTiming(t *testing.T) {
	if os.Getenv("SGDS_GPU_TIMING") != "1" {
		t.Skip("set SGDS_GPU_TIMING=1 to time the kernels")
	}
	l := devTestLib(t)
	// sz scales the sizes down on the host stand-in (a dry run of the
	// plumbing; its timings mean nothing).
	sz := func(n int) int { return n }
	if cuda.Fake {
		sz = func(n int) int { return max(1, n/64) }
	}
	info := l.Context().Info()
	fmt.Printf("DEVICE name=%q sms=%d cc=%d.%d mem_gib=%.1f peak_gbps=%.0f\n", info.Name, info.SMs, info.Major, info.Minor,
		float64(info.TotalMem)/(1<<30), info.PeakBandwidth()/1e9)
	r := newRand(99)
	var copyGBs float64
	report := func(name, size string, maxRel, bytes, flops float64, run func() error) float64 {
		ms := devMedianMs(t, l, run)
		gbs := bytes / (ms * 1e-3) / 1e9
		line := fmt.Sprintf("KERNEL name=%s size=%s maxrel=%.2e ms=%.4f GB/s=%.0f", name, size, maxRel, ms, gbs)
		if flops > 0 {
			line += fmt.Sprintf(" GFLOP/s=%.0f", flops/(ms*1e-3)/1e9)
		}
		if name == "softmax_nll" && copyGBs > 0 {
			line += fmt.Sprintf(" pct_of_copy=%.0f", 100*gbs/copyGBs)
		}
		fmt.Println(line)
		return gbs
	}

	{ // copy: the bandwidth yardstick
		n := sz(64 << 20)
		src := randNormal32(r, n, 1)
		dSrc, dst := devUp(t, l, src), devPoisoned(t, l, n)
		run := func() error { return l.Copy(nil, dst, dSrc, n) }
		devMust(t, run())
		st := devCompare(t, "copy", devDown(t, dst, n), src, nil, 0, 0)
		copyGBs = report("copy_f32", "n=64Mi", st.maxRel, 8*float64(n), 0, run)
	}
	{ // the loss at the size
		B, C := sz(65536), 1000
		logits, labels := randNormal32(r, B*C, 3), devRandLabels(r, B, C)
		weights := make([]float32, B)
		for i := range weights {
			weights[i] = 1 / float32(B)
		}
		wl, wd, wn := make([]float32, B), make([]float32, B*C), make([]float32, B)
		SoftmaxNLL(wl, wd, wn, logits, labels, B, C)
		for i := 0; i < B; i++ {
			for j := 0; j < C; j++ {
				wd[i*C+j] = float32(float64(wd[i*C+j]) * float64(weights[i]))
			}
		}
		dLg, dLb, dW := devUp(t, l, logits), devUp(t, l, labels), devUp(t, l, weights)
		loss, dl, nrm := devPoisoned(t, l, B), devPoisoned(t, l, B*C), devPoisoned(t, l, B)
		run := func() error { return l.SoftmaxNLL(nil, loss, dl, nrm, dLg, dLb, dW, B, C) }
		devMust(t, run())
		m := devWorst(devCompare(t, "loss", devDown(t, loss, B), wl, nil, 1e-5, 1e-37),
			devCompare(t, "dlogits", devDown(t, dl, B*C), wd, nil, 1e-5, 1e-37),
			devCompare(t, "lastnorm", devDown(t, nrm, B), wn, nil, 1e-5, 1e-37))
		report("softmax_nll", "B=65536,C=1000", m, 4*(2*float64(B*C)+4*float64(B)), 0, run)
	}
	{ // dense gradient norm
		B, K, C := sz(65536), 256, 10
		a, d, start := randNormal32(r, B*K, 1), randNormal32(r, B*C, 0.1), startValues(r, B)
		want := append([]float32(nil), start...)
		AddDenseGradNormSq(want, a, d, B, K, C, true)
		da, dd, sq := devUp(t, l, a), devUp(t, l, d), devUp(t, l, start)
		devMust(t, l.AddDenseGradNormSq(nil, sq, da, dd, B, K, C, true))
		st := devCompare(t, "dense", devDown(t, sq, B), want, nil, 1e-6, 0)
		report("dense_norm_sq", "B=65536,K=256,C=10", st.maxRel, 4*float64(B*(K+C+2)), 0,
			func() error { return l.AddDenseGradNormSq(nil, sq, da, dd, B, K, C, true) })
	}
	{ // conv gradient norm (conv2 of the CNN at batch 1024): GEMM + sums
		B, T, K, C := sz(1024), 64, 250, 20
		p, d, start := randNormal32(r, B*T*K, 1), randNormal32(r, B*C*T, 0.1), startValues(r, B)
		want := append([]float32(nil), start...)
		AddConvGradNormSq(want, p, d, B, T, K, C, true, nil)
		dp, dd, sq := devUp(t, l, p), devUp(t, l, d), devUp(t, l, start)
		g, sums := devPoisoned(t, l, B*C*K), devPoisoned(t, l, B*C)
		devMust(t, l.AddConvGradNormSq(nil, sq, dp, dd, B, T, K, C, true, g, sums))
		st := devCompare(t, "conv", devDown(t, sq, B), want, nil, 2e-5, 0)
		report("conv_norm_sq(gemm+sums)", "B=1024,T=64,K=250,C=20", st.maxRel, 4*float64(B*(T*K+C*T+2*C*K)), 2*float64(B*C*K*T),
			func() error { return l.AddConvGradNormSq(nil, sq, dp, dd, B, T, K, C, true, g, sums) })
	}
	{ // reductions
		R, N := sz(1024), 5000
		in := randNormal32(r, R*N, 1)
		dIn := devUp(t, l, in)
		cols, rows := devPoisoned(t, l, N), devPoisoned(t, l, R)
		wc, wr := make([]float32, N), make([]float32, R)
		SumColsTwin(wc, in, R, N)
		SumRowsTwin(wr, in, R, N)
		devMust(t, l.SumCols(nil, cols, dIn, R, N))
		devMust(t, l.SumRows(nil, rows, dIn, R, N))
		report("sum_cols", "R=1024,N=5000", devCompare(t, "cols", devDown(t, cols, N), wc, nil, 1e-6, 1e-9).maxRel, 4*float64(R*N+N), 0,
			func() error { return l.SumCols(nil, cols, dIn, R, N) })
		report("sum_rows", "R=1024,N=5000", devCompare(t, "rows", devDown(t, rows, R), wr, nil, 1e-6, 1e-9).maxRel, 4*float64(R*N+R), 0,
			func() error { return l.SumRows(nil, rows, dIn, R, N) })
		start := startValues(r, R)
		ws := append([]float32(nil), start...)
		AddSumSqRowsTwin(ws, in, R, N)
		sq := devUp(t, l, start)
		devMust(t, l.AddSumSqRows(nil, sq, dIn, R, N))
		report("add_sum_sq_rows", "R=1024,N=5000", devCompare(t, "sumsq", devDown(t, sq, R), ws, nil, 1e-6, 0).maxRel, 4*float64(R*N+2*R), 0,
			func() error { return l.AddSumSqRows(nil, sq, dIn, R, N) })
	}
	// GEMMs: a square one per layout (checked on sampled entries) and the
	// CNN's shapes at batch 1024 (checked in full).
	for _, op := range []SgemmOp{SgemmNN, SgemmNT, SgemmTN} {
		M, N, K := sz(2048), sz(2048), sz(2048)
		a, b := randNormal32(r, M*K, 1), randNormal32(r, K*N, 1)
		da, db, c := devUp(t, l, a), devUp(t, l, b), devPoisoned(t, l, M*N)
		run := func() error { return l.Sgemm(nil, op, c, da, db, M, N, K, SgemmEpiNone, nil, nil) }
		devMust(t, run())
		got := devDown(t, c, M*N)
		var m float64
		for s := 0; s < 512; s++ {
			i, j := r.IntN(M), r.IntN(N)
			var sum, mag float64
			for k := 0; k < K; k++ {
				var x, y float64
				if op == SgemmTN {
					x = float64(a[k*M+i])
				} else {
					x = float64(a[i*K+k])
				}
				if op == SgemmNT {
					y = float64(b[j*K+k])
				} else {
					y = float64(b[k*N+j])
				}
				sum += x * y
				mag += math.Abs(x * y)
			}
			d := math.Abs(float64(got[i*N+j]) - sum)
			if d > 1e-5*mag {
				t.Errorf("sgemm %v [%d,%d] = %g, want %g", op, i, j, got[i*N+j], sum)
			}
			m = math.Max(m, d/mag)
		}
		report("sgemm_"+op.String(), "2048^3", m, 4*float64(M*K+K*N+M*N), 2*float64(M)*float64(N)*float64(K), run)
	}
	type shape struct {
		name           string
		op             SgemmOp
		batch, M, N, K int
		sA, sB, sC     int
		epi            SgemmEpilogue
		biasLen        int
	}
	B := sz(1024)
	for _, s := range []shape{
		{"conv1_fwd", SgemmNT, B, 10, 576, 25, 0, 576 * 25, 10 * 576, SgemmEpiBiasRow, 10},
		{"conv2_fwd", SgemmNT, B, 20, 64, 250, 0, 64 * 250, 20 * 64, SgemmEpiBiasRow, 20},
		{"conv2_wgrad_per_sample", SgemmNN, B, 20, 250, 64, 20 * 64, 64 * 250, 20 * 250, SgemmEpiNone, 0},
		{"conv2_dgrad", SgemmTN, B, 64, 250, 20, 20 * 64, 0, 64 * 250, SgemmEpiNone, 0},
		{"fc1_fwd_bias_relu", SgemmNN, 1, B, 50, 320, 0, 0, 0, SgemmEpiBiasColReLU, 50},
		{"fc1_wgrad", SgemmTN, 1, 320, 50, B, 0, 0, 0, SgemmEpiNone, 0},
	} {
		if s.batch == 1 {
			s.sA, s.sB, s.sC = s.M*s.K, s.K*s.N, s.M*s.N
		}
		a := randNormal32(r, (s.batch-1)*s.sA+s.M*s.K, 1)
		b := randNormal32(r, (s.batch-1)*s.sB+s.K*s.N, 1)
		bias := randNormal32(r, s.biasLen, 1)
		n := (s.batch-1)*s.sC + s.M*s.N
		want := make([]float32, n)
		var bv []float32
		var dBias *cuda.Float32s
		if s.biasLen > 0 {
			bv, dBias = bias, devUp(t, l, bias)
		}
		SgemmBatchedTwin(s.op, s.batch, want, a, b, s.M, s.N, s.K, s.sA, s.sB, s.sC, s.epi, bv, nil)
		scale := devGemmScale(s.op, s.batch, a, b, s.M, s.N, s.K, s.sA, s.sB, s.sC, s.epi, bv)
		da, db, c := devUp(t, l, a), devUp(t, l, b), devPoisoned(t, l, n)
		run := func() error {
			return l.SgemmBatched(nil, s.op, s.batch, c, da, db, s.M, s.N, s.K, s.sA, s.sB, s.sC, s.epi, dBias, nil)
		}
		devMust(t, run())
		st := devCompare(t, s.name, devDown(t, c, n), want, scale, 1e-5, 1e-30)
		bytes := 4 * float64(len(a)+len(b)+n)
		report("sgemm_"+s.name, fmt.Sprintf("%s,batch=%d,M=%d,N=%d,K=%d,tile=%d", s.op, s.batch, s.M, s.N, s.K, l.SgemmTile(s.M, s.N, s.batch)),
			st.maxRel, bytes, 2*float64(s.batch)*float64(s.M*s.N*s.K), run)
	}
	{ // im2col (conv1) and col2im (conv2's input gradient)
		C, H, W, KH, KW := 1, 28, 28, 5, 5
		T, K := 576, 25
		x := randNormal32(r, B*C*H*W, 1)
		want := make([]float32, B*T*K)
		Im2Col(want, x, B, C, H, W, KH, KW)
		dx, p := devUp(t, l, x), devPoisoned(t, l, B*T*K)
		run := func() error { return l.Im2Col(nil, p, dx, B, C, H, W, KH, KW) }
		devMust(t, run())
		report("im2col", "B=1024,1x28x28,5x5", devCompare(t, "im2col", devDown(t, p, B*T*K), want, nil, 0, 0).maxRel,
			4*float64(B*C*H*W+B*T*K), 0, run)
		C, H, W = 10, 12, 12
		T, K = 64, 250
		src := randNormal32(r, B*T*K, 1)
		wx, scale := make([]float32, B*C*H*W), make([]float32, B*C*H*W)
		Col2ImTwin(wx, src, B, C, H, W, KH, KW)
		Col2ImTwin(scale, devAbs32(src), B, C, H, W, KH, KW)
		dsrc, dst := devUp(t, l, src), devPoisoned(t, l, B*C*H*W)
		run = func() error { return l.Col2Im(nil, dst, dsrc, B, C, H, W, KH, KW) }
		devMust(t, run())
		report("col2im", "B=1024,10x12x12,5x5", devCompare(t, "col2im", devDown(t, dst, len(wx)), wx, devTo64(scale), 3e-6, 1e-30).maxRel,
			4*float64(B*C*H*W+B*T*K), 0, run)
	}
	{ // max-pool + ReLU, forward and backward (conv1's output)
		C, H, W := 10, 24, 24
		n := B * C * 12 * 12
		in := randNormal32(r, B*C*H*W, 1)
		wo, wa := make([]float32, n), make([]int32, n)
		MaxPool2Twin(wo, wa, in, B, C, H, W, true)
		din, out, arg := devUp(t, l, in), devPoisoned(t, l, n), devPoisonedInt(t, l, n)
		run := func() error { return l.MaxPool2(nil, out, arg, din, B, C, H, W, true) }
		devMust(t, run())
		st := devCompare(t, "pool", devDown(t, out, n), wo, nil, 0, 0)
		devEqualInts(t, "pool argmax", devDown(t, arg, n), wa)
		report("maxpool2_fwd_relu", "B=1024,10x24x24", st.maxRel, 4*float64(B*C*H*W+2*n), 0, run)
		dout := randNormal32(r, n, 1)
		wd := make([]float32, B*C*H*W)
		MaxPool2BackTwin(wd, dout, wa, wo, B, C, H, W, true)
		ddout, dd := devUp(t, l, dout), devPoisoned(t, l, B*C*H*W)
		run = func() error { return l.MaxPool2Back(nil, dd, ddout, arg, out, B, C, H, W, true) }
		devMust(t, run())
		report("maxpool2_bwd_relu", "B=1024,10x24x24", devCompare(t, "pool back", devDown(t, dd, len(wd)), wd, nil, 0, 0).maxRel,
			4*float64(B*C*H*W+3*n), 0, run)
	}
	{ // element-wise
		n := sz(16 << 20)
		dh, h := randNormal32(r, n, 1), randNormal32(r, n, 1)
		want := make([]float32, n)
		ReLUBackTwin(want, dh, h)
		ddh, dh2, dz := devUp(t, l, dh), devUp(t, l, h), devPoisoned(t, l, n)
		run := func() error { return l.ReLUBack(nil, dz, ddh, dh2, n) }
		devMust(t, run())
		report("relu_bwd", "n=16Mi", devCompare(t, "relu", devDown(t, dz, n), want, nil, 0, 0).maxRel, 12*float64(n), 0, run)

		w, v, g := randNormal32(r, n, 1), randNormal32(r, n, 1), randNormal32(r, n, 1)
		dw, dv, dg := devUp(t, l, w), devUp(t, l, v), devUp(t, l, g)
		SGDMomentumTwin(w, v, g, 0.01, 0.5)
		devMust(t, l.SGDMomentum(nil, dw, dv, dg, n, 0.01, 0.5))
		st := devWorst(devCompare(t, "sgd w", devDown(t, dw, n), w, nil, 0, 0), devCompare(t, "sgd v", devDown(t, dv, n), v, nil, 0, 0))
		report("sgd_momentum", "n=16Mi", st, 20*float64(n), 0, func() error { return l.SGDMomentum(nil, dw, dv, dg, n, 0.01, 0.5) })
	}
	{ // gather a batch from a device-resident MNIST-sized set; argmax
		N, P := sz(60000), 784
		data, dl := randNormal32(r, N*P, 1), devRandLabels(r, N, 10)
		idx := make([]int32, B)
		for i := range idx {
			idx[i] = int32(r.IntN(N))
		}
		wx, wl := make([]float32, B*P), make([]int32, B)
		GatherTwin(wx, wl, data, dl, idx, P)
		dData, dLab, dIdx := devUp(t, l, data), devUp(t, l, dl), devUp(t, l, idx)
		x, lab := devPoisoned(t, l, B*P), devPoisonedInt(t, l, B)
		run := func() error { return l.Gather(nil, x, lab, dData, dLab, dIdx, B, P, N) }
		devMust(t, run())
		st := devCompare(t, "gather", devDown(t, x, B*P), wx, nil, 0, 0)
		devEqualInts(t, "gather labels", devDown(t, lab, B), wl)
		report("gather_rows", "B=1024,P=784,N=60000", st.maxRel, 8*float64(B*P), 0, run)

		Bl, C := sz(65536), 1000
		lg := randNormal32(r, Bl*C, 1)
		want := make([]int32, Bl)
		ArgmaxRowsTwin(want, lg, Bl, C)
		dlg, pred := devUp(t, l, lg), devPoisonedInt(t, l, Bl)
		run = func() error { return l.ArgmaxRows(nil, pred, dlg, Bl, C) }
		devMust(t, run())
		devEqualInts(t, "argmax", devDown(t, pred, Bl), want)
		report("argmax_rows", "B=65536,C=1000", 0, 4*float64(Bl*C+Bl), 0, run)
	}
}

func devWorst(sts ...devErrStat) float64 {
	var m float64
	for _, s := range sts {
		m = math.Max(m, s.maxRel)
	}
	return m
}

// medianMs times run with CUDA events: 5 warm-up launches, then the median
// of 50 timed ones.
func devMedianMs(t testing.TB, l *Lib, run func() error) float64 {
	t.Helper()
	start, err := l.Context().NewEvent()
	devMust(t, err)
	defer start.Close()
	end, err := l.Context().NewEvent()
	devMust(t, err)
	defer end.Close()
	for i := 0; i < 5; i++ {
		devMust(t, run())
	}
	devMust(t, l.Context().Synchronize())
	ms := make([]float64, 50)
	for i := range ms {
		devMust(t, start.Record(nil))
		devMust(t, run())
		devMust(t, end.Record(nil))
		ms[i], err = cuda.Elapsed(start, end)
		devMust(t, err)
	}
	sort.Float64s(ms)
	return (ms[len(ms)/2-1] + ms[len(ms)/2]) / 2
}
