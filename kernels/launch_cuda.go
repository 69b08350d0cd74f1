//go:build cuda

package kernels

import (
	"embed"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/sgds/sgds/cuda"
)

// devPTX holds the PTX that `make kernels` generates from the *.cu files of
// this folder (nvcc -ptx -arch=compute_80); the driver JIT-compiles it for
// the device at Load.
//
//go:embed ptx/*.ptx
var devPTX embed.FS

// DeviceBuilt reports whether the device launchers are compiled in.
const DeviceBuilt = true

// Lib holds the loaded kernels of one CUDA context. Its launchers check
// their arguments, return errors (never panic) and enqueue the kernel on
// the given stream (nil: the default stream) without waiting for it.
type Lib struct {
	ctx  *cuda.Context
	mods []*cuda.Module
	fns  map[string]*cuda.Function
	sms  int
	// forceTile, when not 0, overrides SgemmTile (tests run every tile).
	forceTile int
}

// Load JIT-compiles every embedded PTX module for ctx's device.
func Load(ctx *cuda.Context) (*Lib, error) {
	entries, err := devPTX.ReadDir("ptx")
	if err != nil {
		return nil, fmt.Errorf("kernels: reading the embedded PTX: %w", err)
	}
	l := &Lib{ctx: ctx, fns: map[string]*cuda.Function{}, sms: max(1, ctx.Info().SMs)}
	for _, e := range entries {
		src, err := devPTX.ReadFile(path.Join("ptx", e.Name()))
		if err != nil {
			l.Close()
			return nil, err
		}
		m, err := ctx.LoadModule(e.Name(), string(src))
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("kernels: %w", err)
		}
		l.mods = append(l.mods, m)
		for _, name := range devEntryNames(string(src)) {
			f, err := m.Function(name)
			if err != nil {
				l.Close()
				return nil, fmt.Errorf("kernels: %w", err)
			}
			l.fns[name] = f
		}
	}
	return l, nil
}

// entryNames lists the kernels (.entry) a PTX module defines.
func devEntryNames(ptx string) []string {
	var names []string
	for _, line := range strings.Split(ptx, "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, ".visible .entry "); ok {
			if i := strings.IndexByte(rest, '('); i > 0 {
				names = append(names, rest[:i])
			}
		}
	}
	return names
}

// Kernels lists the names of the loaded kernels, sorted.
func (l *Lib) Kernels() []string {
	var names []string
	for n := range l.fns {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Context returns the context the kernels are loaded into.
func (l *Lib) Context() *cuda.Context { return l.ctx }

// Close unloads the modules; it is idempotent.
func (l *Lib) Close() error {
	var err error
	for _, m := range l.mods {
		if e := m.Close(); e != nil && err == nil {
			err = e
		}
	}
	l.mods, l.fns = nil, nil
	return err
}

func (l *Lib) fn(name string) (*cuda.Function, error) {
	f, ok := l.fns[name]
	if !ok {
		return nil, fmt.Errorf("kernels: kernel %s is not loaded", name)
	}
	return f, nil
}

const devBlock = 256

// launchRows launches a warp-per-row kernel over rows rows.
func (l *Lib) launchRows(s *cuda.Stream, name string, rows int, args ...cuda.Arg) error {
	f, err := l.fn(name)
	if err != nil {
		return err
	}
	if rows == 0 {
		return nil
	}
	per := devBlock / 32
	return f.Launch(cuda.Dim3{X: (rows + per - 1) / per}, cuda.Dim3{X: devBlock}, 0, s, args...)
}

// launchFlat launches a grid-stride kernel over total elements.
func (l *Lib) launchFlat(s *cuda.Stream, name string, total int, args ...cuda.Arg) error {
	f, err := l.fn(name)
	if err != nil {
		return err
	}
	if total == 0 {
		return nil
	}
	blocks := min((total+devBlock-1)/devBlock, l.sms*32)
	return f.Launch(cuda.Dim3{X: blocks}, cuda.Dim3{X: devBlock}, 0, s, args...)
}

// argErr is the error of a launcher's argument check.
func devArgErr(op, format string, args ...any) error {
	return fmt.Errorf("kernels: %s: "+format, append([]any{op}, args...)...)
}

// sizes checks that no size is negative.
func devCheckSizes(op string, ns ...int) error {
	for _, n := range ns {
		if n < 0 {
			return devArgErr(op, "negative size %d", n)
		}
	}
	return nil
}

// need checks that buffer b holds at least n elements (b may be nil only
// when n is 0 or optional is set).
func devNeed[T cuda.Elem](op, name string, b *cuda.Buffer[T], n int, optional bool) error {
	if b == nil || b.DevicePtr() == 0 {
		if n == 0 || optional {
			return nil
		}
		return devArgErr(op, "%s is missing (need %d elements)", name, n)
	}
	if b.Len() < n {
		return devArgErr(op, "%s has %d elements, need %d", name, b.Len(), n)
	}
	return nil
}

// ptrOf returns the kernel argument of an optional buffer (null when nil).
func devPtrOf[T cuda.Elem](b *cuda.Buffer[T]) cuda.Arg {
	if b == nil {
		return 0
	}
	return cuda.Ptr(b)
}

func devFlag(b bool) cuda.Arg {
	if b {
		return 1
	}
	return 0
}

// SoftmaxNLL runs the fused loss kernel (loss.cu), the device twin of
// SoftmaxNLL: per row of the (B, C) logits it writes the loss, and when
// the buffers are not nil the gradient w_i·(p_i − onehot_i) (weights nil:
// w_i = 1) and the norm ||p_i − onehot_i||. Labels must lie in [0, C): a
// row with a label outside gets NaN outputs.
func (l *Lib) SoftmaxNLL(s *cuda.Stream, loss, dlogits, lastNorm, logits *cuda.Float32s, labels *cuda.Int32s, weights *cuda.Float32s, B, C int) error {
	const op = "SoftmaxNLL"
	if err := devCheckSizes(op, B, C); err != nil {
		return err
	}
	if B > 0 && C == 0 {
		return devArgErr(op, "C = 0 with B > 0")
	}
	for _, e := range []error{
		devNeed(op, "loss", loss, B, false), devNeed(op, "dlogits", dlogits, B*C, true), devNeed(op, "lastNorm", lastNorm, B, true),
		devNeed(op, "logits", logits, B*C, false), devNeed(op, "labels", labels, B, false), devNeed(op, "weights", weights, B, true),
	} {
		if e != nil {
			return e
		}
	}
	return l.launchRows(s, "softmax_nll", B, cuda.Ptr(loss), devPtrOf(dlogits), devPtrOf(lastNorm), cuda.Ptr(logits),
		cuda.Ptr(labels), devPtrOf(weights), cuda.Int(B), cuda.Int(C))
}

// AddDenseGradNormSq runs dense_norm_sq (norms.cu), the device twin of
// AddDenseGradNormSq: sq[i] += ||a_i||²·||delta_i||² (+ ||delta_i||² with
// bias) for a (B, K) and delta (B, C).
func (l *Lib) AddDenseGradNormSq(s *cuda.Stream, sq, a, delta *cuda.Float32s, B, K, C int, bias bool) error {
	const op = "AddDenseGradNormSq"
	if err := devCheckSizes(op, B, K, C); err != nil {
		return err
	}
	for _, e := range []error{devNeed(op, "sq", sq, B, false), devNeed(op, "a", a, B*K, false), devNeed(op, "delta", delta, B*C, false)} {
		if e != nil {
			return e
		}
	}
	return l.launchRows(s, "dense_norm_sq", B, cuda.Ptr(sq), cuda.Ptr(a), cuda.Ptr(delta), cuda.Int(B), cuda.Int(K), cuda.Int(C), devFlag(bias))
}

// SumRows runs sum_rows, the device twin of SumRowsTwin.
func (l *Lib) SumRows(s *cuda.Stream, out, in *cuda.Float32s, R, N int) error {
	const op = "SumRows"
	if err := devCheckSizes(op, R, N); err != nil {
		return err
	}
	if err := devNeed(op, "out", out, R, false); err != nil {
		return err
	}
	if err := devNeed(op, "in", in, R*N, false); err != nil {
		return err
	}
	return l.launchRows(s, "sum_rows", R, cuda.Ptr(out), cuda.Ptr(in), cuda.Int(R), cuda.Int(N))
}

// AddSumSqRows runs add_sum_sq_rows, the device twin of AddSumSqRowsTwin.
func (l *Lib) AddSumSqRows(s *cuda.Stream, sq, in *cuda.Float32s, R, N int) error {
	const op = "AddSumSqRows"
	if err := devCheckSizes(op, R, N); err != nil {
		return err
	}
	if err := devNeed(op, "sq", sq, R, false); err != nil {
		return err
	}
	if err := devNeed(op, "in", in, R*N, false); err != nil {
		return err
	}
	return l.launchRows(s, "add_sum_sq_rows", R, cuda.Ptr(sq), cuda.Ptr(in), cuda.Int(R), cuda.Int(N))
}

// SumCols runs sum_cols, the device twin of SumColsTwin.
func (l *Lib) SumCols(s *cuda.Stream, out, in *cuda.Float32s, R, N int) error {
	const op = "SumCols"
	if err := devCheckSizes(op, R, N); err != nil {
		return err
	}
	if err := devNeed(op, "out", out, N, false); err != nil {
		return err
	}
	if err := devNeed(op, "in", in, R*N, false); err != nil {
		return err
	}
	f, err := l.fn("sum_cols")
	if err != nil || N == 0 {
		return err
	}
	return f.Launch(cuda.Dim3{X: (N + 31) / 32}, cuda.Dim3{X: 32, Y: 8}, 0, s, cuda.Ptr(out), cuda.Ptr(in), cuda.Int(R), cuda.Int(N))
}

// GradNormFinish runs grad_norm_finish, the device twin of
// GradNormFinishTwin: out[i] = sqrt(sq[i]) / |w_i| for i < B.
func (l *Lib) GradNormFinish(s *cuda.Stream, out, sq, weights *cuda.Float32s, B int) error {
	const op = "GradNormFinish"
	if err := devCheckSizes(op, B); err != nil {
		return err
	}
	for _, e := range []error{devNeed(op, "out", out, B, false), devNeed(op, "sq", sq, B, false), devNeed(op, "weights", weights, B, true)} {
		if e != nil {
			return e
		}
	}
	f, err := l.fn("grad_norm_finish")
	if err != nil || B == 0 {
		return err
	}
	return f.Launch(cuda.Dim3{X: (B + devBlock - 1) / devBlock}, cuda.Dim3{X: devBlock}, 0, s, cuda.Ptr(out), cuda.Ptr(sq), devPtrOf(weights), cuda.Int(B))
}

// AddConvGradNormSq adds, for each of the B samples, the squared norm of
// the sample's gradient of a conv layer to sq: the device counterpart of
// AddConvGradNormSq (same layouts: patches (B, T, K), delta (B, C, T)). It
// materialises the per-sample weight gradients G_i = delta_i·patches_i
// (C×K) into g (B·C·K elements) with a batched GEMM, adds Σ G_i², and with
// bias the squares of the per-channel sums of delta_i (kept in sums, B·C
// elements). The caller may reuse g: Σ_i G_i is the layer's weight gradient.
func (l *Lib) AddConvGradNormSq(s *cuda.Stream, sq, patches, delta *cuda.Float32s, B, T, K, C int, bias bool, g, sums *cuda.Float32s) error {
	const op = "AddConvGradNormSq"
	if err := devCheckSizes(op, B, T, K, C); err != nil {
		return err
	}
	for _, e := range []error{devNeed(op, "sq", sq, B, false), devNeed(op, "g", g, B*C*K, false), devNeed(op, "sums", sums, B*C, !bias)} {
		if e != nil {
			return e
		}
	}
	if err := l.SgemmBatched(s, SgemmNN, B, g, delta, patches, C, K, T, C*T, T*K, C*K, SgemmEpiNone, nil, nil); err != nil {
		return err
	}
	if err := l.AddSumSqRows(s, sq, g, B, C*K); err != nil {
		return err
	}
	if !bias {
		return nil
	}
	if err := l.SumRows(s, sums, delta, B*C, T); err != nil {
		return err
	}
	return l.AddSumSqRows(s, sq, sums, B, C)
}

// Sgemm is SgemmBatched with one batch entry.
func (l *Lib) Sgemm(s *cuda.Stream, op SgemmOp, c, a, b *cuda.Float32s, M, N, K int, epi SgemmEpilogue, bias, aux *cuda.Float32s) error {
	return l.SgemmBatched(s, op, 1, c, a, b, M, N, K, M*K, K*N, M*N, epi, bias, aux)
}

// SgemmTile returns the square tile size (16, 32 or 64) SgemmBatched uses
// for an M×N output repeated batch times: the largest that fits the output
// and still gives every multiprocessor a devBlock.
func (l *Lib) SgemmTile(M, N, batch int) int {
	if l.forceTile != 0 {
		return l.forceTile
	}
	for _, t := range []int{64, 32} {
		if M >= t && N >= t && ((M+t-1)/t)*((N+t-1)/t)*batch >= l.sms {
			return t
		}
	}
	return 16
}

// SgemmBatched runs the tiled GEMM (gemm.cu), the device twin of
// SgemmBatchedTwin (same operands, strides and epilogues).
func (l *Lib) SgemmBatched(s *cuda.Stream, op SgemmOp, batch int, c, a, b *cuda.Float32s, M, N, K, strideA, strideB, strideC int, epi SgemmEpilogue, bias, aux *cuda.Float32s) error {
	const name = "SgemmBatched"
	if err := devCheckSizes(name, batch, M, N, K, strideA, strideB, strideC); err != nil {
		return err
	}
	if batch == 0 || M == 0 || N == 0 {
		return nil
	}
	span := func(stride, size int) int { return (batch-1)*stride + size }
	for _, e := range []error{devNeed(name, "a", a, span(strideA, M*K), false), devNeed(name, "b", b, span(strideB, K*N), false),
		devNeed(name, "c", c, span(strideC, M*N), false)} {
		if e != nil {
			return e
		}
	}
	switch epi {
	case SgemmEpiNone:
	case SgemmEpiBiasCol, SgemmEpiBiasColReLU:
		if err := devNeed(name, "bias", bias, N, false); err != nil {
			return err
		}
	case SgemmEpiBiasRow:
		if err := devNeed(name, "bias", bias, M, false); err != nil {
			return err
		}
	case SgemmEpiReLUMask:
		if err := devNeed(name, "aux", aux, span(strideC, M*N), false); err != nil {
			return err
		}
	default:
		return devArgErr(name, "unknown %v", epi)
	}
	var kind string
	switch op {
	case SgemmNN:
		kind = "nn"
	case SgemmNT:
		kind = "nt"
	case SgemmTN:
		kind = "tn"
	default:
		return devArgErr(name, "unknown %v", op)
	}
	t := l.SgemmTile(M, N, batch)
	gy := (M + t - 1) / t
	if gy > 65535 || batch > 65535 {
		return devArgErr(name, "M = %d or batch = %d too large for one launch", M, batch)
	}
	f, err := l.fn(fmt.Sprintf("sgemm_%s_%d", kind, t))
	if err != nil {
		return err
	}
	return f.Launch(cuda.Dim3{X: (N + t - 1) / t, Y: gy, Z: batch}, cuda.Dim3{X: 16, Y: 16}, 0, s,
		cuda.Ptr(c), cuda.Ptr(a), cuda.Ptr(b), devPtrOf(bias), devPtrOf(aux), cuda.Int(M), cuda.Int(N), cuda.Int(K),
		cuda.Int(strideA), cuda.Int(strideB), cuda.Int(strideC), cuda.Int(int(epi)))
}

// SgemmTNSplits returns how many chunks SgemmTNSplit should cut the K
// dimension of an M×N = Aᵀ·B product into: 1 (no split) unless K is long
// and the output too small to give every multiprocessor a 16×16 tile; then
// a power of two dividing K that keeps chunks of at least 64.
func (l *Lib) SgemmTNSplits(M, N, K int) int {
	tiles := ((M + 15) / 16) * ((N + 15) / 16)
	if K < 256 || tiles >= l.sms {
		return 1
	}
	splits := 1
	for splits*2*64 <= K && K%(splits*2) == 0 && tiles*splits < l.sms {
		splits *= 2
	}
	return splits
}

// SgemmTNSplit computes c (M×N) = aᵀ·b with a stored (K×M) and b (K×N), as
// Sgemm(SgemmTN) with no epilogue, by cutting K into splits equal chunks:
// the chunks' products go to work (splits·M·N elements) in one batched
// GEMM, then SumCols adds them in a fixed order, so the result is
// deterministic. It pays for weight gradients, whose output is small and
// whose K is the batch. splits must divide K; splits ≤ 1 is a plain Sgemm.
func (l *Lib) SgemmTNSplit(s *cuda.Stream, c, a, b *cuda.Float32s, M, N, K, splits int, work *cuda.Float32s) error {
	const name = "SgemmTNSplit"
	if err := devCheckSizes(name, M, N, K, splits); err != nil {
		return err
	}
	if splits <= 1 {
		return l.Sgemm(s, SgemmTN, c, a, b, M, N, K, SgemmEpiNone, nil, nil)
	}
	if K%splits != 0 {
		return devArgErr(name, "%d splits do not divide K = %d", splits, K)
	}
	if err := devNeed(name, "work", work, splits*M*N, false); err != nil {
		return err
	}
	if err := devNeed(name, "c", c, M*N, false); err != nil {
		return err
	}
	kc := K / splits
	if err := l.SgemmBatched(s, SgemmTN, splits, work, a, b, M, N, kc, kc*M, kc*N, M*N, SgemmEpiNone, nil, nil); err != nil {
		return err
	}
	return l.SumCols(s, c, work, splits, M*N)
}

// devConvShape checks a valid stride-1 convolution's sizes.
func devConvShape(op string, B, C, H, W, KH, KW int) (T, K int, err error) {
	if err := devCheckSizes(op, B, C, H, W, KH, KW); err != nil {
		return 0, 0, err
	}
	if KH < 1 || KW < 1 || KH > H || KW > W {
		return 0, 0, devArgErr(op, "kernel %d×%d does not fit a %d×%d image", KH, KW, H, W)
	}
	return (H - KH + 1) * (W - KW + 1), C * KH * KW, nil
}

// Im2Col runs im2col (conv.cu), the device twin of Im2Col.
func (l *Lib) Im2Col(s *cuda.Stream, dst, src *cuda.Float32s, B, C, H, W, KH, KW int) error {
	const op = "Im2Col"
	T, K, err := devConvShape(op, B, C, H, W, KH, KW)
	if err != nil {
		return err
	}
	if err := devNeed(op, "dst", dst, B*T*K, false); err != nil {
		return err
	}
	if err := devNeed(op, "src", src, B*C*H*W, false); err != nil {
		return err
	}
	return l.launchFlat(s, "im2col", B*T*K, cuda.Ptr(dst), cuda.Ptr(src), cuda.Int(B), cuda.Int(C), cuda.Int(H), cuda.Int(W), cuda.Int(KH), cuda.Int(KW))
}

// Col2Im runs col2im (conv.cu), the device twin of Col2ImTwin.
func (l *Lib) Col2Im(s *cuda.Stream, dst, src *cuda.Float32s, B, C, H, W, KH, KW int) error {
	const op = "Col2Im"
	T, K, err := devConvShape(op, B, C, H, W, KH, KW)
	if err != nil {
		return err
	}
	if err := devNeed(op, "dst", dst, B*C*H*W, false); err != nil {
		return err
	}
	if err := devNeed(op, "src", src, B*T*K, false); err != nil {
		return err
	}
	return l.launchFlat(s, "col2im", B*C*H*W, cuda.Ptr(dst), cuda.Ptr(src), cuda.Int(B), cuda.Int(C), cuda.Int(H), cuda.Int(W), cuda.Int(KH), cuda.Int(KW))
}

// MaxPool2 runs maxpool2_fwd (pool.cu), the device twin of MaxPool2Twin.
func (l *Lib) MaxPool2(s *cuda.Stream, out *cuda.Float32s, argmax *cuda.Int32s, in *cuda.Float32s, B, C, H, W int, relu bool) error {
	const op = "MaxPool2"
	if err := devCheckSizes(op, B, C, H, W); err != nil {
		return err
	}
	n := B * C * (H / 2) * (W / 2)
	for _, e := range []error{devNeed(op, "out", out, n, false), devNeed(op, "argmax", argmax, n, false), devNeed(op, "in", in, B*C*H*W, false)} {
		if e != nil {
			return e
		}
	}
	return l.launchFlat(s, "maxpool2_fwd", n, cuda.Ptr(out), cuda.Ptr(argmax), cuda.Ptr(in), cuda.Int(B), cuda.Int(C), cuda.Int(H), cuda.Int(W), devFlag(relu))
}

// MaxPool2Back runs maxpool2_bwd (pool.cu), the device twin of
// MaxPool2BackTwin.
func (l *Lib) MaxPool2Back(s *cuda.Stream, din, dout *cuda.Float32s, argmax *cuda.Int32s, out *cuda.Float32s, B, C, H, W int, relu bool) error {
	const op = "MaxPool2Back"
	if err := devCheckSizes(op, B, C, H, W); err != nil {
		return err
	}
	n := B * C * (H / 2) * (W / 2)
	for _, e := range []error{devNeed(op, "din", din, B*C*H*W, false), devNeed(op, "dout", dout, n, false), devNeed(op, "argmax", argmax, n, false),
		devNeed(op, "out", out, n, !relu)} {
		if e != nil {
			return e
		}
	}
	return l.launchFlat(s, "maxpool2_bwd", B*C*H*W, cuda.Ptr(din), cuda.Ptr(dout), cuda.Ptr(argmax), devPtrOf(out),
		cuda.Int(B), cuda.Int(C), cuda.Int(H), cuda.Int(W), devFlag(relu))
}

// ReLUBack runs relu_bwd (pool.cu), the device twin of ReLUBackTwin, on n
// elements; dz may be dh.
func (l *Lib) ReLUBack(s *cuda.Stream, dz, dh, h *cuda.Float32s, n int) error {
	const op = "ReLUBack"
	if err := devCheckSizes(op, n); err != nil {
		return err
	}
	for _, e := range []error{devNeed(op, "dz", dz, n, false), devNeed(op, "dh", dh, n, false), devNeed(op, "h", h, n, false)} {
		if e != nil {
			return e
		}
	}
	return l.launchFlat(s, "relu_bwd", n, cuda.Ptr(dz), cuda.Ptr(dh), cuda.Ptr(h), cuda.Int(n))
}

// SGDMomentum runs sgd_momentum (update.cu), the device twin of
// SGDMomentumTwin, on n elements (bit-identical results).
func (l *Lib) SGDMomentum(s *cuda.Stream, w, v, g *cuda.Float32s, n int, lr, mu float32) error {
	const op = "SGDMomentum"
	if err := devCheckSizes(op, n); err != nil {
		return err
	}
	for _, e := range []error{devNeed(op, "w", w, n, false), devNeed(op, "v", v, n, false), devNeed(op, "g", g, n, false)} {
		if e != nil {
			return e
		}
	}
	return l.launchFlat(s, "sgd_momentum", n, cuda.Ptr(w), cuda.Ptr(v), cuda.Ptr(g), cuda.Int(n), cuda.Float(float64(lr)), cuda.Float(float64(mu)))
}

// Gather runs gather_rows (data.cu), the device twin of GatherTwin: B rows
// of P values from the (N, P) data set data/dataLabels at idx (−1 for a
// zero padding row).
func (l *Lib) Gather(s *cuda.Stream, x *cuda.Float32s, labels *cuda.Int32s, data *cuda.Float32s, dataLabels, idx *cuda.Int32s, B, P, N int) error {
	const op = "Gather"
	if err := devCheckSizes(op, B, P, N); err != nil {
		return err
	}
	for _, e := range []error{devNeed(op, "x", x, B*P, false), devNeed(op, "labels", labels, B, false), devNeed(op, "data", data, N*P, false),
		devNeed(op, "dataLabels", dataLabels, N, false), devNeed(op, "idx", idx, B, false)} {
		if e != nil {
			return e
		}
	}
	return l.launchFlat(s, "gather_rows", B*P, cuda.Ptr(x), cuda.Ptr(labels), cuda.Ptr(data), cuda.Ptr(dataLabels), cuda.Ptr(idx),
		cuda.Int(B), cuda.Int(P), cuda.Int(N))
}

// ArgmaxRows runs argmax_rows (data.cu), the device twin of ArgmaxRowsTwin.
func (l *Lib) ArgmaxRows(s *cuda.Stream, pred *cuda.Int32s, logits *cuda.Float32s, B, C int) error {
	const op = "ArgmaxRows"
	if err := devCheckSizes(op, B, C); err != nil {
		return err
	}
	if err := devNeed(op, "pred", pred, B, false); err != nil {
		return err
	}
	if err := devNeed(op, "logits", logits, B*C, false); err != nil {
		return err
	}
	return l.launchRows(s, "argmax_rows", B, cuda.Ptr(pred), cuda.Ptr(logits), cuda.Int(B), cuda.Int(C))
}

// Copy runs copy_f32 (data.cu): dst[i] = src[i] for i < n.
func (l *Lib) Copy(s *cuda.Stream, dst, src *cuda.Float32s, n int) error {
	const op = "Copy"
	if err := devCheckSizes(op, n); err != nil {
		return err
	}
	if err := devNeed(op, "dst", dst, n, false); err != nil {
		return err
	}
	if err := devNeed(op, "src", src, n, false); err != nil {
		return err
	}
	return l.launchFlat(s, "copy_f32", (n+3)/4, cuda.Ptr(dst), cuda.Ptr(src), cuda.Int(n))
}
