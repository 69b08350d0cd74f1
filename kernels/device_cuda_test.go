//go:build cuda

package kernels

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/sgds/sgds/cuda"
)

// Device tests: every kernel against its Go twin on fresh random inputs at
// sizes 0, 1, 31, 32, 33, odd and large, into outputs poisoned with NaN (so
// an element the kernel forgets to write fails the comparison). They need
// an NVIDIA GPU: gorgonia.org/cu exits the test binary at start-up without
// one.

var (
	devOnce sync.Once
	devL    *Lib
	devErr  error
)

// testLib returns the kernels loaded on device 0, shared by the tests.
func devTestLib(t testing.TB) *Lib {
	t.Helper()
	devOnce.Do(func() {
		ctx, err := cuda.NewContext(0)
		if err != nil {
			devErr = err
			return
		}
		devL, devErr = Load(ctx)
	})
	if devErr != nil {
		t.Fatalf("loading the kernels: %v", devErr)
	}
	return devL
}

// devTestSizes are the batch-like sizes every kernel is checked at.
var devTestSizes = []int{0, 1, 31, 32, 33, 77, 1000, 4099}

func devUp[T cuda.Elem](t testing.TB, l *Lib, host []T) *cuda.Buffer[T] {
	t.Helper()
	b, err := cuda.Alloc[T](l.Context(), len(host))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Free() })
	if err := b.CopyFrom(nil, host); err != nil {
		t.Fatal(err)
	}
	return b
}

// poisoned allocates n float32 set to NaN.
func devPoisoned(t testing.TB, l *Lib, n int) *cuda.Float32s {
	t.Helper()
	b, err := cuda.Alloc[float32](l.Context(), n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Free() })
	if err := b.Fill(nil, float32(math.NaN())); err != nil {
		t.Fatal(err)
	}
	return b
}

// poisonedInt allocates n int32 set to a value no kernel writes.
func devPoisonedInt(t testing.TB, l *Lib, n int) *cuda.Int32s {
	t.Helper()
	b, err := cuda.Alloc[int32](l.Context(), n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Free() })
	if err := b.Fill(nil, -123456789); err != nil {
		t.Fatal(err)
	}
	return b
}

func devDown[T cuda.Elem](t testing.TB, b *cuda.Buffer[T], n int) []T {
	t.Helper()
	out := make([]T, n)
	if err := b.CopyTo(nil, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func devMust(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDeviceInfo(t *testing.T) {
	l := devTestLib(t)
	info := l.Context().Info()
	t.Logf("device %d: %s, %.1f GiB, compute %d.%d, %d SMs, peak %.0f GB/s", info.Ordinal, info.Name,
		float64(info.TotalMem)/(1<<30), info.Major, info.Minor, info.SMs, info.PeakBandwidth()/1e9)
	if info.Name == "" || info.TotalMem <= 0 || info.Major < 7 {
		t.Errorf("implausible device info %+v", info)
	}
	want := []string{"add_sum_sq_rows", "argmax_rows", "col2im", "copy_f32", "dense_norm_sq", "gather_rows",
		"grad_norm_finish", "im2col", "maxpool2_bwd", "maxpool2_fwd", "relu_bwd", "sgd_momentum", "softmax_nll",
		"sum_cols", "sum_rows"}
	have := map[string]bool{}
	for _, k := range l.Kernels() {
		have[k] = true
	}
	for _, k := range want {
		if !have[k] {
			t.Errorf("kernel %s not loaded", k)
		}
	}
	for _, op := range []string{"nn", "nt", "tn"} {
		for _, tile := range []int{16, 32, 64} {
			if k := fmt.Sprintf("sgemm_%s_%d", op, tile); !have[k] {
				t.Errorf("kernel %s not loaded", k)
			}
		}
	}
	devs, err := cuda.Devices()
	if err != nil || len(devs) == 0 {
		t.Errorf("Devices: %v, %v", devs, err)
	}
}

func TestDeviceSoftmaxNLL(t *testing.T) {
	l := devTestLib(t)
	r := newRand(21)
	for _, C := range []int{1, 2, 10, 33, 1000} {
		for _, B := range devTestSizes {
			if B*C > 1_100_000 {
				continue
			}
			logits := randNormal32(r, B*C, 3)
			labels := devRandLabels(r, B, C)
			weights := make([]float32, B)
			for i := range weights {
				weights[i] = float32(r.Float64()) / 64
			}
			wl, wd, wn := make([]float32, B), make([]float32, B*C), make([]float32, B)
			SoftmaxNLL(wl, wd, wn, logits, labels, B, C)
			dLogits, dLabels, dW := devUp(t, l, logits), devUp(t, l, labels), devUp(t, l, weights)
			for _, weighted := range []bool{false, true} {
				loss, dl, nrm := devPoisoned(t, l, B), devPoisoned(t, l, B*C), devPoisoned(t, l, B)
				w := dW
				want := wd
				if !weighted {
					w = nil
				} else {
					want = make([]float32, B*C)
					for i := 0; i < B; i++ {
						for j := 0; j < C; j++ {
							want[i*C+j] = float32(float64(wd[i*C+j]) * float64(weights[i]))
						}
					}
				}
				devMust(t, l.SoftmaxNLL(nil, loss, dl, nrm, dLogits, dLabels, w, B, C))
				name := fmt.Sprintf("B=%d C=%d weighted=%v", B, C, weighted)
				devCompare(t, "loss "+name, devDown(t, loss, B), wl, nil, 1e-5, 1e-37)
				devCompare(t, "dlogits "+name, devDown(t, dl, B*C), want, nil, 1e-5, 1e-37)
				devCompare(t, "lastnorm "+name, devDown(t, nrm, B), wn, nil, 1e-5, 1e-37)
			}
			// Optional outputs left out: only the loss is written.
			loss := devPoisoned(t, l, B)
			devMust(t, l.SoftmaxNLL(nil, loss, nil, nil, dLogits, dLabels, nil, B, C))
			devCompare(t, fmt.Sprintf("loss only B=%d C=%d", B, C), devDown(t, loss, B), wl, nil, 1e-5, 1e-37)
		}
	}
	// A label outside [0, C) gives NaN, never a silent value.
	lg, lb := devUp(t, l, []float32{1, 2, 3}), devUp(t, l, []int32{3})
	loss := devPoisoned(t, l, 1)
	devMust(t, loss.Fill(nil, 0))
	devMust(t, l.SoftmaxNLL(nil, loss, nil, nil, lg, lb, nil, 1, 3))
	if v := devDown(t, loss, 1)[0]; v == v {
		t.Errorf("label 3 of 3 classes gave loss %v, want NaN", v)
	}
}

func TestDeviceDenseNorm(t *testing.T) {
	l := devTestLib(t)
	r := newRand(22)
	for _, kc := range [][2]int{{1, 1}, {784, 256}, {50, 10}, {33, 31}} {
		K, C := kc[0], kc[1]
		for _, B := range devTestSizes {
			a, d := randNormal32(r, B*K, 1), randNormal32(r, B*C, 0.1)
			start := startValues(r, B)
			for _, bias := range []bool{false, true} {
				want := append([]float32(nil), start...)
				AddDenseGradNormSq(want, a, d, B, K, C, bias)
				sq := devUp(t, l, start)
				devMust(t, l.AddDenseGradNormSq(nil, sq, devUp(t, l, a), devUp(t, l, d), B, K, C, bias))
				devCompare(t, fmt.Sprintf("dense K=%d C=%d B=%d bias=%v", K, C, B, bias), devDown(t, sq, B), want, nil, 1e-6, 0)
			}
		}
	}
}

func TestDeviceConvNorm(t *testing.T) {
	l := devTestLib(t)
	r := newRand(23)
	for _, s := range [][3]int{{576, 25, 10}, {64, 250, 20}, {33, 7, 3}, {1, 1, 1}} {
		T, K, C := s[0], s[1], s[2]
		for _, B := range devTestSizes {
			if B*T*K > 8_000_000 {
				continue
			}
			p, d := randNormal32(r, B*T*K, 1), randNormal32(r, B*C*T, 0.1)
			for j := range d { // behind a max-pool most of delta is zero
				if r.IntN(4) != 0 {
					d[j] = 0
				}
			}
			start := startValues(r, B)
			for _, bias := range []bool{false, true} {
				want := append([]float32(nil), start...)
				AddConvGradNormSq(want, p, d, B, T, K, C, bias, nil)
				sq := devUp(t, l, start)
				g, sums := devPoisoned(t, l, B*C*K), devPoisoned(t, l, B*C)
				devMust(t, l.AddConvGradNormSq(nil, sq, devUp(t, l, p), devUp(t, l, d), B, T, K, C, bias, g, sums))
				devCompare(t, fmt.Sprintf("conv T=%d K=%d C=%d B=%d bias=%v", T, K, C, B, bias), devDown(t, sq, B), want, nil, 2e-5, 0)
			}
		}
	}
}

func TestDeviceReductions(t *testing.T) {
	l := devTestLib(t)
	r := newRand(24)
	for _, N := range []int{0, 1, 31, 32, 33, 250, 5000} {
		for _, R := range devTestSizes {
			if R*N > 4_000_000 {
				continue
			}
			in := randNormal32(r, R*N, 1)
			dIn := devUp(t, l, in)
			rows, cols := devPoisoned(t, l, R), devPoisoned(t, l, N)
			devMust(t, l.SumRows(nil, rows, dIn, R, N))
			devMust(t, l.SumCols(nil, cols, dIn, R, N))
			wr, wc := make([]float32, R), make([]float32, N)
			SumRowsTwin(wr, in, R, N)
			SumColsTwin(wc, in, R, N)
			name := fmt.Sprintf("R=%d N=%d", R, N)
			devCompare(t, "sum_rows "+name, devDown(t, rows, R), wr, nil, 1e-6, 1e-9)
			devCompare(t, "sum_cols "+name, devDown(t, cols, N), wc, nil, 1e-6, 1e-9)
			start := startValues(r, R)
			ws := append([]float32(nil), start...)
			AddSumSqRowsTwin(ws, in, R, N)
			sq := devUp(t, l, start)
			devMust(t, l.AddSumSqRows(nil, sq, dIn, R, N))
			devCompare(t, "add_sum_sq_rows "+name, devDown(t, sq, R), ws, nil, 1e-6, 0)
		}
	}
	for _, B := range devTestSizes {
		sq, w := startValues(r, B), randNormal32(r, B, 1)
		want := make([]float32, B)
		GradNormFinishTwin(want, sq, w)
		out := devPoisoned(t, l, B)
		devMust(t, l.GradNormFinish(nil, out, devUp(t, l, sq), devUp(t, l, w), B))
		devCompare(t, fmt.Sprintf("grad_norm_finish B=%d", B), devDown(t, out, B), want, nil, 1e-7, 0)
		GradNormFinishTwin(want, sq, nil)
		devMust(t, l.GradNormFinish(nil, out, devUp(t, l, sq), nil, B))
		devCompare(t, fmt.Sprintf("grad_norm_finish unit B=%d", B), devDown(t, out, B), want, nil, 1e-7, 0)
	}
}

func TestDeviceSgemm(t *testing.T) {
	l := devTestLib(t)
	r := newRand(25)
	sizes := [][3]int{{0, 5, 3}, {4, 0, 3}, {3, 4, 0}, {1, 1, 1}, {31, 32, 33}, {32, 33, 31}, {33, 31, 32},
		{77, 13, 50}, {10, 576, 25}, {64, 50, 320}, {129, 67, 200}, {200, 300, 64}}
	defer func() { l.forceTile = 0 }()
	tiles := []int{16, 32, 64, 0}
	if cuda.Fake {
		tiles = []int{0} // the host stand-in has no tiles
	}
	for _, tile := range tiles {
		l.forceTile = tile
		for _, sz := range sizes {
			M, N, K := sz[0], sz[1], sz[2]
			for _, op := range []SgemmOp{SgemmNN, SgemmNT, SgemmTN} {
				for _, epi := range []SgemmEpilogue{SgemmEpiNone, SgemmEpiBiasCol, SgemmEpiBiasColReLU, SgemmEpiBiasRow, SgemmEpiReLUMask} {
					for _, batch := range []int{1, 3} {
						sA, sB, sC := M*K, K*N, M*N+5
						if batch > 1 && op != SgemmTN {
							sA = 0 // one A shared by the batch
						}
						a, b := randNormal32(r, max(1, (batch-1)*sA+M*K), 1), randNormal32(r, max(1, (batch-1)*sB+K*N), 1)
						aux := randNormal32(r, (batch-1)*sC+M*N, 1)
						var bias []float32
						switch epi {
						case SgemmEpiBiasCol, SgemmEpiBiasColReLU:
							bias = randNormal32(r, N, 1)
						case SgemmEpiBiasRow:
							bias = randNormal32(r, M, 1)
						}
						want := make([]float32, (batch-1)*sC+M*N)
						for i := range want {
							want[i] = float32(math.NaN()) // the gaps stay unwritten
						}
						SgemmBatchedTwin(op, batch, want, a, b, M, N, K, sA, sB, sC, epi, bias, aux)
						scale := devGemmScale(op, batch, a, b, M, N, K, sA, sB, sC, epi, bias)
						c := devPoisoned(t, l, len(want))
						var dBias *cuda.Float32s
						if bias != nil {
							dBias = devUp(t, l, bias)
						}
						devMust(t, l.SgemmBatched(nil, op, batch, c, devUp(t, l, a), devUp(t, l, b), M, N, K, sA, sB, sC, epi, dBias, devUp(t, l, aux)))
						devCompare(t, fmt.Sprintf("sgemm %v tile=%d %v M=%d N=%d K=%d batch=%d", op, tile, epi, M, N, K, batch),
							devDown(t, c, len(want)), want, scale, 1e-5, 1e-30)
					}
				}
			}
		}
	}
}

func TestDeviceSgemmTNSplit(t *testing.T) {
	l := devTestLib(t)
	r := newRand(31)
	for _, s := range [][3]int{{50, 10, 1024}, {320, 50, 1024}, {10, 10, 4096}, {7, 3, 64}, {33, 31, 32}} {
		M, N, K := s[0], s[1], s[2]
		a, b := randNormal32(r, K*M, 1), randNormal32(r, K*N, 1)
		want := make([]float32, M*N)
		SgemmTwin(SgemmTN, want, a, b, M, N, K, SgemmEpiNone, nil, nil)
		scale := devGemmScale(SgemmTN, 1, a, b, M, N, K, K*M, K*N, M*N, SgemmEpiNone, nil)
		da, db := devUp(t, l, a), devUp(t, l, b)
		for _, splits := range []int{1, 2, l.SgemmTNSplits(M, N, K)} {
			if K%splits != 0 {
				continue
			}
			c, work := devPoisoned(t, l, M*N), devPoisoned(t, l, splits*M*N)
			devMust(t, l.SgemmTNSplit(nil, c, da, db, M, N, K, splits, work))
			devCompare(t, fmt.Sprintf("split TN M=%d N=%d K=%d splits=%d", M, N, K, splits), devDown(t, c, M*N), want, scale, 1e-5, 1e-30)
		}
	}
	if err := l.SgemmTNSplit(nil, nil, nil, nil, 2, 2, 6, 4, nil); err == nil {
		t.Error("4 splits of K = 6 accepted")
	}
}

func TestDeviceIm2ColCol2Im(t *testing.T) {
	l := devTestLib(t)
	r := newRand(26)
	for _, s := range [][5]int{{1, 28, 28, 5, 5}, {10, 12, 12, 5, 5}, {3, 7, 9, 1, 1}, {2, 5, 4, 5, 4}, {3, 33, 31, 4, 3}} {
		C, H, W, KH, KW := s[0], s[1], s[2], s[3], s[4]
		T, K := (H-KH+1)*(W-KW+1), C*KH*KW
		for _, B := range devTestSizes {
			if B*T*K > 8_000_000 {
				continue
			}
			x := randNormal32(r, B*C*H*W, 1)
			want := make([]float32, B*T*K)
			Im2Col(want, x, B, C, H, W, KH, KW)
			p := devPoisoned(t, l, B*T*K)
			devMust(t, l.Im2Col(nil, p, devUp(t, l, x), B, C, H, W, KH, KW))
			devCompare(t, fmt.Sprintf("im2col %v B=%d", s, B), devDown(t, p, B*T*K), want, nil, 0, 0)

			src := randNormal32(r, B*T*K, 1)
			wantX := make([]float32, B*C*H*W)
			Col2ImTwin(wantX, src, B, C, H, W, KH, KW)
			scale := make([]float32, len(wantX))
			Col2ImTwin(scale, devAbs32(src), B, C, H, W, KH, KW)
			dx := devPoisoned(t, l, B*C*H*W)
			devMust(t, l.Col2Im(nil, dx, devUp(t, l, src), B, C, H, W, KH, KW))
			devCompare(t, fmt.Sprintf("col2im %v B=%d", s, B), devDown(t, dx, len(wantX)), wantX, devTo64(scale), 3e-6, 1e-30)
		}
	}
}

func TestDeviceMaxPoolReLU(t *testing.T) {
	l := devTestLib(t)
	r := newRand(27)
	for _, s := range [][3]int{{10, 24, 24}, {20, 8, 8}, {3, 7, 5}, {1, 2, 2}, {4, 33, 31}} {
		C, H, W := s[0], s[1], s[2]
		n := C * (H / 2) * (W / 2)
		for _, B := range devTestSizes {
			if B*C*H*W > 8_000_000 {
				continue
			}
			in := randNormal32(r, B*C*H*W, 1)
			for j := 0; j+1 < len(in); j += 5 {
				in[j+1] = in[j] // ties
			}
			dIn := devUp(t, l, in)
			for _, relu := range []bool{false, true} {
				wo, wa := make([]float32, B*n), make([]int32, B*n)
				MaxPool2Twin(wo, wa, in, B, C, H, W, relu)
				out, arg := devPoisoned(t, l, B*n), devPoisonedInt(t, l, B*n)
				devMust(t, l.MaxPool2(nil, out, arg, dIn, B, C, H, W, relu))
				name := fmt.Sprintf("maxpool %v B=%d relu=%v", s, B, relu)
				devCompare(t, name, devDown(t, out, B*n), wo, nil, 0, 0)
				devEqualInts(t, name+" argmax", devDown(t, arg, B*n), wa)

				dout := randNormal32(r, B*n, 1)
				wd := make([]float32, B*C*H*W)
				MaxPool2BackTwin(wd, dout, wa, wo, B, C, H, W, relu)
				din := devPoisoned(t, l, B*C*H*W)
				devMust(t, l.MaxPool2Back(nil, din, devUp(t, l, dout), arg, out, B, C, H, W, relu))
				devCompare(t, name+" backward", devDown(t, din, len(wd)), wd, nil, 0, 0)
			}
		}
	}
	for _, n := range devTestSizes {
		dh, h := randNormal32(r, n, 1), randNormal32(r, n, 1)
		want := make([]float32, n)
		ReLUBackTwin(want, dh, h)
		dz := devPoisoned(t, l, n)
		devMust(t, l.ReLUBack(nil, dz, devUp(t, l, dh), devUp(t, l, h), n))
		devCompare(t, fmt.Sprintf("relu_bwd n=%d", n), devDown(t, dz, n), want, nil, 0, 0)
	}
}

func TestDeviceSGDMomentum(t *testing.T) {
	l := devTestLib(t)
	r := newRand(28)
	for _, n := range append(devTestSizes, 1<<20+3) {
		w, v, g := randNormal32(r, n, 1), randNormal32(r, n, 1), randNormal32(r, n, 1)
		dw, dv := devUp(t, l, w), devUp(t, l, v)
		for _, hp := range [][2]float32{{0.01, 0.5}, {0.1, 0}, {1e-3, 0.9}} {
			SGDMomentumTwin(w, v, g, hp[0], hp[1])
			devMust(t, l.SGDMomentum(nil, dw, dv, devUp(t, l, g), n, hp[0], hp[1]))
		}
		devCompare(t, fmt.Sprintf("sgd w n=%d", n), devDown(t, dw, n), w, nil, 0, 0) // bit-identical
		devCompare(t, fmt.Sprintf("sgd v n=%d", n), devDown(t, dv, n), v, nil, 0, 0)
	}
}

func TestDeviceGatherArgmax(t *testing.T) {
	l := devTestLib(t)
	r := newRand(29)
	const N = 3000
	for _, P := range []int{1, 33, 784} {
		data := randNormal32(r, N*P, 1)
		dl := devRandLabels(r, N, 10)
		dData, dLab := devUp(t, l, data), devUp(t, l, dl)
		for _, B := range devTestSizes {
			idx := make([]int32, B)
			for i := range idx {
				idx[i] = int32(r.IntN(N+2)) - 1
			}
			wx, wl := make([]float32, B*P), make([]int32, B)
			GatherTwin(wx, wl, data, dl, idx, P)
			x, lab := devPoisoned(t, l, B*P), devPoisonedInt(t, l, B)
			devMust(t, l.Gather(nil, x, lab, dData, dLab, devUp(t, l, idx), B, P, N))
			name := fmt.Sprintf("gather P=%d B=%d", P, B)
			devCompare(t, name, devDown(t, x, B*P), wx, nil, 0, 0)
			devEqualInts(t, name+" labels", devDown(t, lab, B), wl)
		}
	}
	for _, C := range []int{1, 10, 33, 1000} {
		for _, B := range devTestSizes {
			x := randNormal32(r, B*C, 1)
			for i := 0; i < B && C > 3; i += 3 {
				x[i*C+2] = x[i*C]
				x[i*C+1] = float32(math.NaN())
			}
			want := make([]int32, B)
			ArgmaxRowsTwin(want, x, B, C)
			pred := devPoisonedInt(t, l, B)
			devMust(t, l.ArgmaxRows(nil, pred, devUp(t, l, x), B, C))
			devEqualInts(t, fmt.Sprintf("argmax C=%d B=%d", C, B), devDown(t, pred, B), want)
		}
	}
	for _, n := range append(devTestSizes, 1<<20+1) {
		src := randNormal32(r, n, 1)
		dst := devPoisoned(t, l, n)
		devMust(t, l.Copy(nil, dst, devUp(t, l, src), n))
		devCompare(t, fmt.Sprintf("copy n=%d", n), devDown(t, dst, n), src, nil, 0, 0)
	}
}

// TestDeviceLauncherErrors checks that bad arguments are errors, not
// crashes or panics.
func TestDeviceLauncherErrors(t *testing.T) {
	l := devTestLib(t)
	small := devPoisoned(t, l, 4)
	lab := devPoisonedInt(t, l, 4)
	cases := map[string]error{
		"softmax short logits": l.SoftmaxNLL(nil, small, nil, nil, small, lab, nil, 2, 3),
		"softmax C=0":          l.SoftmaxNLL(nil, small, nil, nil, small, lab, nil, 2, 0),
		"softmax no loss":      l.SoftmaxNLL(nil, nil, nil, nil, small, lab, nil, 2, 2),
		"sgemm short c":        l.Sgemm(nil, SgemmNN, small, small, small, 2, 3, 2, SgemmEpiNone, nil, nil),
		"sgemm no bias":        l.Sgemm(nil, SgemmNN, small, small, small, 2, 2, 2, SgemmEpiBiasCol, nil, nil),
		"sgemm bad op":         l.Sgemm(nil, SgemmOp(9), small, small, small, 1, 1, 1, SgemmEpiNone, nil, nil),
		"sgemm negative":       l.Sgemm(nil, SgemmNN, small, small, small, -1, 1, 1, SgemmEpiNone, nil, nil),
		"im2col kernel":        l.Im2Col(nil, small, small, 1, 1, 2, 2, 3, 3),
		"pool short out":       l.MaxPool2(nil, small, lab, small, 1, 2, 4, 4, false),
		"sgd short":            l.SGDMomentum(nil, small, small, small, 5, 0.1, 0.5),
		"gather short":         l.Gather(nil, small, lab, small, lab, lab, 2, 3, 1),
	}
	for name, err := range cases {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	freed, err := cuda.Alloc[float32](l.Context(), 8)
	devMust(t, err)
	devMust(t, freed.Free())
	if err := freed.CopyFrom(nil, []float32{1}); err == nil {
		t.Error("copy into a freed buffer accepted")
	}
}
