package device

import (
	"fmt"
	"math"
	"testing"

	"github.com/sgds/sgds/cuda"
	"github.com/sgds/sgds/kernels"
	kt "github.com/sgds/sgds/kernels/kerneltest"
	"github.com/sgds/sgds/kernels/ref"
)

// Every kernel against its reference on fresh random inputs at the sizes of
// kt.Sizes, into outputs poisoned with NaN (so that an element the kernel
// forgets to write fails the comparison), on the driver TestMain selected.

func TestLoad(t *testing.T) {
	l := testLib(t)
	info := l.Context().Info()
	t.Logf("%s driver, device %d: %s, %.1f GiB, compute %d.%d, %d SMs, peak %.0f GB/s", l.Context().Driver(), info.Ordinal,
		info.Name, float64(info.TotalMem)/(1<<30), info.Major, info.Minor, info.SMs, info.PeakBandwidth()/1e9)
	if info.Name == "" || info.TotalMem <= 0 || info.Major < 7 {
		t.Errorf("implausible device info %+v", info)
	}
	want := []string{"add_row_sum_sq", "argmax_rows", "col2im", "col2im_i32", "column_sums", "copy_f32", "dense_norm_sq",
		"gather_rows", "grad_norm_finish", "im2col", "im2col_i32", "maxpool2_bwd", "maxpool2_bwd_i32", "maxpool2_fwd",
		"maxpool2_fwd_i32", "relu_bwd", "row_sums", "sgd_momentum", "softmax_nll"}
	for _, op := range []Op{NN, NT, TN} {
		for _, tile := range Tiles {
			want = append(want, tile.kernel(op))
		}
	}
	have := map[string]bool{}
	for _, k := range l.Kernels() {
		have[k] = true
	}
	for _, k := range want {
		if !have[k] {
			t.Errorf("kernel %s not loaded", k)
		}
	}
	if len(have) != len(want) {
		t.Errorf("%d kernels loaded, the test knows %d: %v", len(have), len(want), l.Kernels())
	}
}

func TestSoftmaxNLL(t *testing.T) {
	l := testLib(t)
	r := kt.Rand(21)
	for _, C := range []int{1, 2, 10, 33, 1000} {
		for _, B := range kt.Sizes {
			if B*C > 1_100_000 {
				continue
			}
			logits, labels := kt.Normal(r, B*C, 3), kt.Labels(r, B, C)
			weights := make([]float32, B)
			for i := range weights {
				weights[i] = float32(r.Float64()) / 64
			}
			wl, wd, wn := ref.SoftmaxNLL(logits, labels, B, C)
			dLogits, dLabels, dW := up(t, l, logits), up(t, l, labels), up(t, l, weights)
			for _, weighted := range []bool{false, true} {
				loss, dl, nrm := poisoned(t, l, B), poisoned(t, l, B*C), poisoned(t, l, B)
				w, want := dW, make([]float64, B*C)
				for j := range want {
					want[j] = wd[j] * float64(weights[j/max(C, 1)])
				}
				if !weighted {
					w, want = nil, wd
				}
				must(t, l.SoftmaxNLL(nil, loss, dl, nrm, dLogits, dLabels, w, B, C))
				name := kt.Name("B", B, "C", C, "weighted", weighted)
				kt.Check(t, "loss "+name, down(t, loss, B), wl, kt.Tol{Abs: 1e-14, Rel: 1e-5})
				kt.Check(t, "dlogits "+name, down(t, dl, B*C), want, kt.Tol{Abs: 1e-37, Rel: 1e-5})
				kt.Check(t, "lastnorm "+name, down(t, nrm, B), wn, kt.Tol{Abs: 1e-14, Rel: 1e-5})
			}
			// Optional outputs left out: only the loss is written.
			loss := poisoned(t, l, B)
			must(t, l.SoftmaxNLL(nil, loss, nil, nil, dLogits, dLabels, nil, B, C))
			kt.Check(t, kt.Name("loss only B", B, "C", C), down(t, loss, B), wl, kt.Tol{Abs: 1e-14, Rel: 1e-5})
		}
	}
	// A label outside [0, C) gives NaN, never a silent value.
	lg, lb := up(t, l, []float32{1, 2, 3}), up(t, l, []int32{3})
	loss := up(t, l, []float32{0})
	must(t, l.SoftmaxNLL(nil, loss, nil, nil, lg, lb, nil, 1, 3))
	if v := down(t, loss, 1)[0]; v == v {
		t.Errorf("label 3 of 3 classes gave loss %v, want NaN", v)
	}
}

// plusStart returns start + add, element by element.
func plusStart(start []float32, add []float64) []float64 {
	out := make([]float64, len(add))
	for i, v := range add {
		out[i] = float64(start[i]) + v
	}
	return out
}

func TestDenseNorm(t *testing.T) {
	l := testLib(t)
	r := kt.Rand(22)
	for _, kc := range [][2]int{{1, 1}, {784, 256}, {50, 10}, {33, 31}} {
		K, C := kc[0], kc[1]
		for _, B := range kt.Sizes {
			a, d, start := kt.Normal(r, B*K, 1), kt.Normal(r, B*C, 0.1), kt.Start(r, B)
			for _, bias := range []bool{false, true} {
				want := plusStart(start, ref.DenseGradNormSq(a, d, B, K, C, bias))
				sq := up(t, l, start)
				must(t, l.AddDenseGradNormSq(nil, sq, up(t, l, a), up(t, l, d), B, K, C, bias))
				kt.Check(t, kt.Name("K", K, "C", C, "B", B, "bias", bias), down(t, sq, B), want, kt.Tol{Rel: 1e-6})
			}
		}
	}
}

func TestConvNorm(t *testing.T) {
	l := testLib(t)
	r := kt.Rand(23)
	for _, s := range [][3]int{{576, 25, 10}, {64, 250, 20}, {33, 7, 3}, {1, 1, 1}} {
		T, K, C := s[0], s[1], s[2]
		for _, B := range kt.Sizes {
			if B*T*K > 2_000_000 {
				continue
			}
			p, d := kt.Normal(r, B*T*K, 1), kt.Normal(r, B*C*T, 0.1)
			for j := range d { // behind a max-pool most of delta is zero
				if r.IntN(4) != 0 {
					d[j] = 0
				}
			}
			start := kt.Start(r, B)
			for _, bias := range []bool{false, true} {
				want := plusStart(start, ref.ConvGradNormSq(p, d, B, T, K, C, bias))
				sq := up(t, l, start)
				g, sums := poisoned(t, l, B*C*K), poisoned(t, l, B*C)
				must(t, l.AddConvGradNormSq(nil, sq, up(t, l, p), up(t, l, d), B, T, K, C, bias, g, sums))
				kt.Check(t, kt.Name("T", T, "K", K, "C", C, "B", B, "bias", bias), down(t, sq, B), want, kt.Tol{Rel: 2e-5})
			}
		}
	}
}

func TestReductions(t *testing.T) {
	l := testLib(t)
	r := kt.Rand(24)
	tol := kt.Tol{Abs: 1e-9, Rel: 1e-6}
	for _, N := range []int{0, 1, 31, 32, 33, 250, 5000} {
		for _, R := range kt.Sizes {
			if R*N > 4_000_000 {
				continue
			}
			in := kt.Normal(r, R*N, 1)
			dIn := up(t, l, in)
			rows, cols := poisoned(t, l, R), poisoned(t, l, N)
			must(t, l.RowSums(nil, rows, dIn, R, N))
			must(t, l.ColumnSums(nil, cols, dIn, R, N))
			wr, wc := make([]float32, R), make([]float32, N)
			ref.RowSums(wr, in, R, N)
			ref.ColumnSums(wc, in, R, N)
			name := kt.Name("R", R, "N", N)
			kt.CheckF32(t, "row sums "+name, down(t, rows, R), wr, tol)
			kt.CheckF32(t, "column sums "+name, down(t, cols, N), wc, tol)
			start := kt.Start(r, R)
			ws := append([]float32(nil), start...)
			ref.AddRowSumSq(ws, in, R, N)
			sq := up(t, l, start)
			must(t, l.AddRowSumSq(nil, sq, dIn, R, N))
			kt.CheckF32(t, "row sums of squares "+name, down(t, sq, R), ws, kt.Tol{Rel: 1e-6})
		}
	}
	for _, B := range kt.Sizes {
		sq, w := kt.Start(r, B), kt.Normal(r, B, 1)
		want := make([]float32, B)
		ref.GradNormFinish(want, sq, w)
		out := poisoned(t, l, B)
		must(t, l.GradNormFinish(nil, out, up(t, l, sq), up(t, l, w), B))
		kt.CheckF32(t, kt.Name("finish B", B), down(t, out, B), want, kt.Tol{Rel: 1e-7})
		ref.GradNormFinish(want, sq, nil)
		must(t, l.GradNormFinish(nil, out, up(t, l, sq), nil, B))
		kt.CheckF32(t, kt.Name("finish unit B", B), down(t, out, B), want, kt.Tol{Rel: 1e-7})
	}
}

// gemmSizes are (M, N, K): empty, one, around a warp and a tile, odd, and
// the CNN's small-M shapes.
var gemmSizes = [][3]int{{0, 5, 3}, {4, 0, 3}, {3, 4, 0}, {1, 1, 1}, {31, 32, 33}, {32, 33, 31}, {33, 31, 32},
	{77, 13, 50}, {10, 576, 25}, {20, 64, 250}, {20, 250, 64}, {17, 65, 9}, {64, 50, 320}, {129, 67, 200}}

// TestSgemm runs every tile of every layout with every epilogue, batched
// and not, at edge sizes.
func TestSgemm(t *testing.T) {
	l := testLib(t)
	r := kt.Rand(25)
	defer func() { l.forceTile = Tile{} }()
	for _, tile := range append(Tiles, Tile{}) { // Tile{}: SgemmTile's choice
		l.forceTile = tile
		for _, sz := range gemmSizes {
			M, N, K := sz[0], sz[1], sz[2]
			if testing.Short() && M*N*K > 100_000 {
				continue
			}
			for _, op := range []Op{NN, NT, TN} {
				for _, epi := range []Epilogue{EpiNone, EpiBiasCol, EpiBiasColReLU, EpiBiasRow, EpiReLUMask} {
					for _, batch := range []int{1, 3} {
						name := kt.Name("tile", tile, "op", op, "epi", epi, "M", M, "N", N, "K", K, "batch", batch)
						checkSgemm(t, l, r.Uint64(), name, op, epi, batch, M, N, K)
					}
				}
			}
		}
	}
}

// checkSgemm runs one batched GEMM against ref.SgemmBatched. The output's
// batch entries have a gap of 5 between them that must stay unwritten.
func checkSgemm(t *testing.T, l *Lib, seed uint64, name string, op Op, epi Epilogue, batch, M, N, K int) {
	t.Helper()
	r := kt.Rand(seed)
	sA, sB, sC := M*K, K*N, M*N+5
	if batch > 1 && op != TN {
		sA = 0 // one A shared by the batch
	}
	a, b := kt.Normal(r, max(1, (batch-1)*sA+M*K), 1), kt.Normal(r, max(1, (batch-1)*sB+K*N), 1)
	aux := kt.Normal(r, (batch-1)*sC+M*N, 1)
	var bias []float32
	switch epi {
	case EpiBiasCol, EpiBiasColReLU:
		bias = kt.Normal(r, N, 1)
	case EpiBiasRow:
		bias = kt.Normal(r, M, 1)
	}
	want := kt.Poison((batch-1)*sC + M*N)
	ref.SgemmBatched(op, batch, want, a, b, M, N, K, sA, sB, sC, epi, bias, aux)
	scale := kt.GemmScale(op, batch, a, b, M, N, K, sA, sB, sC, epi, bias)
	c := poisoned(t, l, len(want))
	var dBias *cuda.Float32s
	if bias != nil {
		dBias = up(t, l, bias)
	}
	must(t, l.SgemmBatched(nil, op, batch, c, up(t, l, a), up(t, l, b), M, N, K, sA, sB, sC, epi, dBias, up(t, l, aux)))
	kt.CheckF32(t, name, down(t, c, len(want)), want, kt.Tol{Abs: 1e-30, Rel: 1e-5, Scale: scale})
}

// TestSgemmTile checks the tile choice for the shapes of the seed models.
func TestSgemmTile(t *testing.T) {
	l := &Lib{sms: 132}
	for _, c := range []struct {
		M, N, batch int
		want        Tile
	}{
		{10, 576, 64, Tile{16, 64}},   // conv1 forward: M = 10 channels
		{20, 64, 1024, Tile{32, 64}},  // conv2 forward at batch 1024
		{20, 64, 64, Tile{16, 16}},    // at batch 64: too few blocks for 32x64
		{20, 250, 1024, Tile{32, 64}}, // conv2 per-sample weight gradients
		{64, 250, 1024, Tile{64, 64}}, // conv2 patch gradients
		{1024, 50, 1, Tile{16, 16}},   // fc1 forward at batch 1024: 32x32 gives too few blocks
		{64, 256, 1, Tile{16, 16}},    // the MLP at batch 64: too few blocks for more
		{4096, 4096, 1, Tile{64, 64}}, // large
		{10, 25, 1024, Tile{16, 16}},  // conv1 weight gradients: N too narrow
		{2048, 2048, 1, Tile{64, 64}},
	} {
		if got := l.SgemmTile(c.M, c.N, c.batch); got != c.want {
			t.Errorf("SgemmTile(%d, %d, %d) = %v, want %v", c.M, c.N, c.batch, got, c.want)
		}
	}
}

func TestSgemmTNSplit(t *testing.T) {
	l := testLib(t)
	r := kt.Rand(31)
	for _, s := range [][3]int{{50, 10, 1024}, {320, 50, 1024}, {10, 10, 4096}, {7, 3, 64}, {33, 31, 32}} {
		M, N, K := s[0], s[1], s[2]
		a, b := kt.Normal(r, K*M, 1), kt.Normal(r, K*N, 1)
		want := make([]float32, M*N)
		ref.Sgemm(TN, want, a, b, M, N, K, EpiNone, nil, nil)
		scale := kt.GemmScale(TN, 1, a, b, M, N, K, K*M, K*N, M*N, EpiNone, nil)
		da, db := up(t, l, a), up(t, l, b)
		for _, splits := range []int{1, 2, l.SgemmTNSplits(M, N, K)} {
			if K%splits != 0 {
				continue
			}
			c, work := poisoned(t, l, M*N), poisoned(t, l, splits*M*N)
			must(t, l.SgemmTNSplit(nil, c, da, db, M, N, K, splits, work))
			kt.CheckF32(t, kt.Name("M", M, "N", N, "K", K, "splits", splits), down(t, c, M*N), want, kt.Tol{Abs: 1e-30, Rel: 1e-5, Scale: scale})
		}
	}
	if err := l.SgemmTNSplit(nil, nil, nil, nil, 2, 2, 6, 4, nil); err == nil {
		t.Error("4 splits of K = 6 accepted")
	}
}

// convShapes are (C, H, W, KH, KW): the seed CNN's two layers, a 1×1
// kernel, a kernel as large as the image, and odd sizes.
var convShapes = [][5]int{{1, 28, 28, 5, 5}, {10, 12, 12, 5, 5}, {3, 7, 9, 1, 1}, {2, 5, 4, 5, 4}, {3, 33, 31, 4, 3}}

func TestIm2ColCol2Im(t *testing.T) {
	l := testLib(t)
	r := kt.Rand(26)
	for _, s := range convShapes {
		C, H, W, KH, KW := s[0], s[1], s[2], s[3], s[4]
		T, K := (H-KH+1)*(W-KW+1), C*KH*KW
		for _, B := range kt.Sizes {
			if B*T*K > 4_000_000 {
				continue
			}
			name := kt.Name("shape", fmt.Sprint(s), "B", B)
			x := kt.Normal(r, B*C*H*W, 1)
			want := make([]float32, B*T*K)
			kernels.Im2Col(want, x, B, C, H, W, KH, KW)
			p := poisoned(t, l, B*T*K)
			must(t, l.Im2Col(nil, p, up(t, l, x), B, C, H, W, KH, KW))
			kt.CheckF32(t, "im2col "+name, down(t, p, B*T*K), want, kt.Tol{})

			src := kt.Normal(r, B*T*K, 1)
			wantX, scale := make([]float32, B*C*H*W), make([]float32, B*C*H*W)
			ref.Col2Im(wantX, src, B, C, H, W, KH, KW)
			ref.Col2Im(scale, kt.Abs(src), B, C, H, W, KH, KW)
			dx := poisoned(t, l, B*C*H*W)
			must(t, l.Col2Im(nil, dx, up(t, l, src), B, C, H, W, KH, KW))
			kt.CheckF32(t, "col2im "+name, down(t, dx, len(wantX)), wantX, kt.Tol{Abs: 1e-30, Rel: 3e-6, Scale: kt.To64(scale)})
		}
	}
}

func TestMaxPoolReLU(t *testing.T) {
	l := testLib(t)
	r := kt.Rand(27)
	for _, s := range [][3]int{{10, 24, 24}, {20, 8, 8}, {3, 7, 5}, {1, 2, 2}, {4, 33, 31}} {
		C, H, W := s[0], s[1], s[2]
		n := C * (H / 2) * (W / 2)
		for _, B := range kt.Sizes {
			in := kt.Normal(r, B*C*H*W, 1)
			for j := 0; j+1 < len(in); j += 5 {
				in[j+1] = in[j] // ties
			}
			dIn := up(t, l, in)
			for _, relu := range []bool{false, true} {
				wo, wa := make([]float32, B*n), make([]int32, B*n)
				ref.MaxPool2(wo, wa, in, B, C, H, W, relu)
				out, arg := poisoned(t, l, B*n), poisonedInts(t, l, B*n)
				must(t, l.MaxPool2(nil, out, arg, dIn, B, C, H, W, relu))
				name := kt.Name("shape", fmt.Sprint(s), "B", B, "relu", relu)
				kt.CheckF32(t, name, down(t, out, B*n), wo, kt.Tol{})
				kt.CheckInts(t, name+" argmax", down(t, arg, B*n), wa)

				dout := kt.Normal(r, B*n, 1)
				wd := make([]float32, B*C*H*W)
				ref.MaxPool2Back(wd, dout, wa, wo, B, C, H, W, relu)
				din := poisoned(t, l, B*C*H*W)
				must(t, l.MaxPool2Back(nil, din, up(t, l, dout), arg, out, B, C, H, W, relu))
				kt.CheckF32(t, name+" backward", down(t, din, len(wd)), wd, kt.Tol{})
			}
		}
	}
}

func TestReLUBack(t *testing.T) {
	l := testLib(t)
	r := kt.Rand(30)
	for _, n := range kt.Sizes {
		dh, h := kt.Normal(r, n, 1), kt.Normal(r, n, 1)
		want := make([]float32, n)
		kernels.ReLUMask(want, dh, h)
		dz := poisoned(t, l, n)
		must(t, l.ReLUBack(nil, dz, up(t, l, dh), up(t, l, h), n))
		kt.CheckF32(t, kt.Name("n", n), down(t, dz, n), want, kt.Tol{})
	}
}

// TestSGDMomentum expects the result of the CPU kernel's portable path bit
// for bit.
func TestSGDMomentum(t *testing.T) {
	defer kernels.DisableFastPath()()
	l := testLib(t)
	r := kt.Rand(28)
	for _, n := range append(kt.Sizes, 1<<20+3) {
		w, v, g := kt.Normal(r, n, 1), kt.Normal(r, n, 1), kt.Normal(r, n, 1)
		dw, dv := up(t, l, w), up(t, l, v)
		for _, hp := range [][2]float32{{0.01, 0.5}, {0.1, 0}, {1e-3, 0.9}} {
			kernels.SGDMomentum(w, v, g, hp[0], hp[1])
			must(t, l.SGDMomentum(nil, dw, dv, up(t, l, g), n, hp[0], hp[1]))
		}
		kt.CheckF32(t, kt.Name("w n", n), down(t, dw, n), w, kt.Tol{})
		kt.CheckF32(t, kt.Name("v n", n), down(t, dv, n), v, kt.Tol{})
	}
}

func TestGatherArgmaxCopy(t *testing.T) {
	l := testLib(t)
	r := kt.Rand(29)
	const N = 3000
	for _, P := range []int{0, 1, 33, 784} { // P = 0: labels only
		data, dl := kt.Normal(r, N*P, 1), kt.Labels(r, N, 10)
		dData, dLab := up(t, l, data), up(t, l, dl)
		for _, B := range kt.Sizes {
			idx := make([]int32, B)
			for i := range idx {
				idx[i] = int32(r.IntN(N+2)) - 1 // -1 and N are padding
			}
			wx, wl := make([]float32, B*P), make([]int32, B)
			ref.Gather(wx, wl, data, dl, idx, P)
			x, lab := poisoned(t, l, B*P), poisonedInts(t, l, B)
			must(t, l.Gather(nil, x, lab, dData, dLab, up(t, l, idx), B, P, N))
			name := kt.Name("gather P", P, "B", B)
			kt.CheckF32(t, name, down(t, x, B*P), wx, kt.Tol{})
			kt.CheckInts(t, name+" labels", down(t, lab, B), wl)
		}
	}
	for _, C := range []int{1, 10, 33, 1000} {
		for _, B := range kt.Sizes {
			x := kt.Normal(r, B*C, 1)
			for i := 0; i < B && C > 3; i += 3 {
				x[i*C+2] = x[i*C]
				x[i*C+1] = float32(math.NaN())
			}
			want := make([]int32, B)
			ref.ArgmaxRows(want, x, B, C)
			pred := poisonedInts(t, l, B)
			must(t, l.ArgmaxRows(nil, pred, up(t, l, x), B, C))
			kt.CheckInts(t, kt.Name("argmax C", C, "B", B), down(t, pred, B), want)
		}
	}
	for _, n := range append(kt.Sizes, 1<<20+1) {
		src := kt.Normal(r, n, 1)
		dst := poisoned(t, l, n)
		must(t, l.Copy(nil, dst, up(t, l, src), n))
		kt.CheckF32(t, kt.Name("copy n", n), down(t, dst, n), src, kt.Tol{})
	}
}

// TestIndex32 checks the choice between 64-bit and 32-bit index kernels.
func TestIndex32(t *testing.T) {
	if index32("im2col", 1<<20, 1<<29) != "im2col_i32" || index32("im2col", 1<<20, 1<<31) != "im2col" {
		t.Error("index32")
	}
}

// TestLauncherErrors checks that bad arguments are errors, not crashes or
// panics.
func TestLauncherErrors(t *testing.T) {
	l := testLib(t)
	small := poisoned(t, l, 4)
	lab := poisonedInts(t, l, 4)
	cases := map[string]error{
		"softmax short logits": l.SoftmaxNLL(nil, small, nil, nil, small, lab, nil, 2, 3),
		"softmax C=0":          l.SoftmaxNLL(nil, small, nil, nil, small, lab, nil, 2, 0),
		"softmax no loss":      l.SoftmaxNLL(nil, nil, nil, nil, small, lab, nil, 2, 2),
		"sgemm short c":        l.Sgemm(nil, NN, small, small, small, 2, 3, 2, EpiNone, nil, nil),
		"sgemm no bias":        l.Sgemm(nil, NN, small, small, small, 2, 2, 2, EpiBiasCol, nil, nil),
		"sgemm bad op":         l.Sgemm(nil, Op(9), small, small, small, 1, 1, 1, EpiNone, nil, nil),
		"sgemm bad epilogue":   l.Sgemm(nil, NN, small, small, small, 1, 1, 1, Epilogue(9), nil, nil),
		"sgemm negative":       l.Sgemm(nil, NN, small, small, small, -1, 1, 1, EpiNone, nil, nil),
		"im2col kernel":        l.Im2Col(nil, small, small, 1, 1, 2, 2, 3, 3),
		"col2im short dst":     l.Col2Im(nil, small, small, 1, 1, 3, 3, 1, 1),
		"pool short out":       l.MaxPool2(nil, small, lab, small, 1, 2, 4, 4, false),
		"pool back no out":     l.MaxPool2Back(nil, small, small, lab, nil, 1, 1, 2, 2, true),
		"sgd short":            l.SGDMomentum(nil, small, small, small, 5, 0.1, 0.5),
		"gather short":         l.Gather(nil, small, lab, small, lab, lab, 2, 3, 1),
		"row sums short":       l.RowSums(nil, small, small, 5, 1),
		"column sums short":    l.ColumnSums(nil, small, small, 1, 5),
		"conv norm no g":       l.AddConvGradNormSq(nil, small, small, small, 1, 1, 1, 1, true, nil, small),
		"conv norm no sums":    l.AddConvGradNormSq(nil, small, small, small, 1, 1, 1, 1, true, small, nil),
	}
	for name, err := range cases {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	freed, err := cuda.Alloc[float32](l.Context(), 8)
	must(t, err)
	must(t, freed.Free())
	if err := l.Copy(nil, small, freed, 4); err == nil {
		t.Error("a copy from a freed buffer was accepted")
	}
}
