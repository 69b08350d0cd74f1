package device

import (
	"fmt"
	"strings"

	"github.com/sgds/sgds/cuda"
	"github.com/sgds/sgds/kernels/ref"
)

// Op and Epilogue are the GEMM's operand layouts and epilogues, as their
// reference ref.SgemmBatched defines them.
type (
	Op       = ref.Op
	Epilogue = ref.Epilogue
)

// The GEMM layouts and epilogues (see ref.Op and ref.Epilogue).
const (
	NN = ref.NN
	NT = ref.NT
	TN = ref.TN

	EpiNone        = ref.EpiNone
	EpiBiasCol     = ref.EpiBiasCol
	EpiBiasColReLU = ref.EpiBiasColReLU
	EpiBiasRow     = ref.EpiBiasRow
	EpiReLUMask    = ref.EpiReLUMask
)

// Tile is the block of M×N outputs one thread block of the GEMM computes
// (256 threads, (M/16)·(N/16) outputs each).
type Tile struct{ M, N int }

func (t Tile) String() string { return fmt.Sprintf("%dx%d", t.M, t.N) }

// Tiles lists the tiles gemm.cu instantiates for every layout.
var Tiles = []Tile{{16, 16}, {32, 32}, {64, 64}, {16, 64}, {32, 64}}

// kernel returns the name of the GEMM kernel of layout op and tile t.
func (t Tile) kernel(op Op) string {
	return fmt.Sprintf("sgemm_%s_%s", strings.ToLower(op.String()), t)
}

// SgemmTile returns the tile SgemmBatched uses for an M×N output repeated
// batch times: the largest square (64, then 32) that fits the output and
// still gives every multiprocessor a block; for a short, wide output (the
// convolutions' M = a few channels) a rectangular 16×64 or 32×64 tile that
// keeps most of its rows busy and gives each thread 4 or 8 outputs; else
// 16×16.
func (l *Lib) SgemmTile(M, N, batch int) Tile {
	if l.forceTile != (Tile{}) {
		return l.forceTile
	}
	enough := func(t Tile) bool { return ((M+t.M-1)/t.M)*((N+t.N-1)/t.N)*batch >= l.sms }
	for _, t := range []Tile{{64, 64}, {32, 32}} {
		if M >= t.M && N >= t.N && enough(t) {
			return t
		}
	}
	if M <= 32 && N >= 64 {
		t := Tile{16, 64}
		if M > 16 {
			t = Tile{32, 64}
		}
		if enough(t) {
			return t
		}
	}
	return Tile{16, 16}
}

// Sgemm is SgemmBatched with one batch entry.
func (l *Lib) Sgemm(s *cuda.Stream, op Op, c, a, b *cuda.Float32s, M, N, K int, epi Epilogue, bias, aux *cuda.Float32s) error {
	return l.SgemmBatched(s, op, 1, c, a, b, M, N, K, M*K, K*N, M*N, epi, bias, aux)
}

// SgemmBatched runs the tiled GEMM (gemm.cu), whose reference is
// ref.SgemmBatched (same operands, strides and epilogues), with the tile
// SgemmTile picks.
func (l *Lib) SgemmBatched(s *cuda.Stream, op Op, batch int, c, a, b *cuda.Float32s, M, N, K, strideA, strideB, strideC int, epi Epilogue, bias, aux *cuda.Float32s) error {
	const name = "SgemmBatched"
	sizes := []int{batch, M, N, K, strideA, strideB, strideC}
	if err := check(name, sizes); err != nil || batch == 0 || M == 0 || N == 0 {
		return err
	}
	span := func(stride, size int) int { return (batch-1)*stride + size }
	args := []arg{req("a", a, span(strideA, M*K)), req("b", b, span(strideB, K*N)), req("c", c, span(strideC, M*N))}
	switch epi {
	case EpiNone:
	case EpiBiasCol, EpiBiasColReLU:
		args = append(args, req("bias", bias, N))
	case EpiBiasRow:
		args = append(args, req("bias", bias, M))
	case EpiReLUMask:
		args = append(args, req("aux", aux, span(strideC, M*N)))
	default:
		return argErr(name, "unknown %v", epi)
	}
	if err := check(name, nil, args...); err != nil {
		return err
	}
	if op < NN || op > TN {
		return argErr(name, "unknown %v", op)
	}
	t := l.SgemmTile(M, N, batch)
	gy := (M + t.M - 1) / t.M
	if gy > 65535 || batch > 65535 {
		return argErr(name, "M = %d or batch = %d too large for one launch", M, batch)
	}
	f, err := l.fn(t.kernel(op))
	if err != nil {
		return err
	}
	return f.Launch(cuda.Dim3{X: (N + t.N - 1) / t.N, Y: gy, Z: batch}, cuda.Dim3{X: 16, Y: 16}, 0, s,
		cuda.Ptr(c), cuda.Ptr(a), cuda.Ptr(b), ptrOf(bias), ptrOf(aux), cuda.Int(M), cuda.Int(N), cuda.Int(K),
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
// Sgemm(TN) with no epilogue, by cutting K into splits equal chunks: the
// chunks' products go to work (splits·M·N elements) in one batched GEMM,
// then ColumnSums adds them in a fixed order, so the result is
// deterministic. It pays for weight gradients, whose output is small and
// whose K is the batch. splits must divide K; splits ≤ 1 is a plain Sgemm.
func (l *Lib) SgemmTNSplit(s *cuda.Stream, c, a, b *cuda.Float32s, M, N, K, splits int, work *cuda.Float32s) error {
	const name = "SgemmTNSplit"
	if err := check(name, []int{M, N, K, splits}); err != nil {
		return err
	}
	if splits <= 1 {
		return l.Sgemm(s, TN, c, a, b, M, N, K, EpiNone, nil, nil)
	}
	if K%splits != 0 {
		return argErr(name, "%d splits do not divide K = %d", splits, K)
	}
	if err := check(name, nil, req("work", work, splits*M*N), req("c", c, M*N)); err != nil {
		return err
	}
	kc := K / splits
	if err := l.SgemmBatched(s, TN, splits, work, a, b, M, N, kc, kc*M, kc*N, M*N, EpiNone, nil, nil); err != nil {
		return err
	}
	return l.ColumnSums(s, c, work, splits, M*N)
}
