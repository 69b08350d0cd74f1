// Package kerneltest holds what every kernel test of sgds shares, on the
// CPU and on the device: one list of test sizes, random inputs, poisoned
// outputs, one comparison against a float64 reference (absolute plus
// relative tolerance, NaN-aware, the first mismatches and a count), and one
// way to run a test on every kernel path of the binary (ForEachPath).
package kerneltest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sgds/sgds/kernels"
	"github.com/sgds/sgds/kernels/ref"
)

// Sizes are the batch-like sizes every kernel is checked at: empty, one,
// around a warp (31, 32, 33), odd and large.
var Sizes = []int{0, 1, 31, 32, 33, 77, 1000}

// Rand returns a seeded generator.
func Rand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// Normal returns n values drawn from N(0, scale²).
func Normal(r *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * scale)
	}
	return x
}

// Labels returns n labels drawn uniformly from [0, C).
func Labels(r *rand.Rand, n, C int) []int32 {
	l := make([]int32, n)
	for i := range l {
		l[i] = int32(r.IntN(C))
	}
	return l
}

// Start returns known non-zero starting values in [1, 10) for outputs that
// kernels accumulate into.
func Start(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(1 + 9*r.Float64())
	}
	return x
}

// PoisonInt is what Poison fills int32 outputs with: a value no kernel
// writes.
const PoisonInt = -123456789

// Poison returns n NaNs: an output element a kernel forgets to write then
// fails its comparison.
func Poison(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(math.NaN())
	}
	return x
}

// PoisonInts returns n copies of PoisonInt.
func PoisonInts(n int) []int32 {
	x := make([]int32, n)
	for i := range x {
		x[i] = PoisonInt
	}
	return x
}

// Tol is a comparison's tolerance: got matches want when
// |got − want| ≤ Abs + Rel·m, with m = |want|, or Scale[i] when Scale is
// set (the sum of the absolute terms of a sum: its rounding error's scale).
// Two NaNs match; a NaN and a number do not. The zero Tol asks for
// equality.
type Tol struct {
	Abs, Rel float64
	Scale    []float64
}

// Holds reports whether got matches want with magnitude mag.
func (tol Tol) Holds(got float32, want, mag float64) bool {
	g := float64(got)
	if g != g || want != want {
		return g != g && want != want
	}
	return g == want || math.Abs(g-want) <= tol.Abs+tol.Rel*mag
}

// Near reports whether got is finite and within abs + 1e-5·|want| of
// want: the usual tolerance of a float32 result against a float64
// reference.
func Near(got float32, want, abs float64) bool {
	g := float64(got)
	return !math.IsNaN(g) && !math.IsInf(g, 0) && math.Abs(g-want) <= abs+1e-5*math.Abs(want)
}

// Check compares got with want element by element, reports the first 5
// mismatches and their count as test errors, and returns the largest
// relative error |got − want| / m over the elements whose difference
// exceeds Abs (0 when none). It fails the test at once on a length
// mismatch, so that nil never matches anything.
func Check(t testing.TB, name string, got []float32, want []float64, tol Tol) float64 {
	t.Helper()
	if len(got) != len(want) || (tol.Scale != nil && len(tol.Scale) != len(want)) {
		t.Fatalf("%s: %d values, want %d (scale %d)", name, len(got), len(want), len(tol.Scale))
	}
	bad, worst := 0, 0.0
	for i := range got {
		g, w := float64(got[i]), want[i]
		mag := math.Abs(w)
		if tol.Scale != nil {
			mag = tol.Scale[i]
		}
		d := math.Abs(g - w)
		if !tol.Holds(got[i], w, mag) {
			if bad < 5 {
				t.Errorf("%s[%d] = %g, want %g (|diff| %.3g, magnitude %.3g)", name, i, g, w, d, mag)
			}
			bad++
		}
		if d > tol.Abs && d == d {
			worst = math.Max(worst, d/math.Max(mag, 1e-30))
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values outside |diff| ≤ %g + %g·magnitude", name, bad, len(got), tol.Abs, tol.Rel)
	}
	return worst
}

// CheckF32 is Check against float32 values.
func CheckF32(t testing.TB, name string, got, want []float32, tol Tol) float64 {
	t.Helper()
	return Check(t, name, got, To64(want), tol)
}

// CheckInts compares two int32 slices exactly, as Check does.
func CheckInts(t testing.TB, name string, got, want []int32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	bad := 0
	for i := range got {
		if got[i] != want[i] {
			if bad < 5 {
				t.Errorf("%s[%d] = %d, want %d", name, i, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values differ", name, bad, len(got))
	}
}

// To64 converts to float64.
func To64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// Abs returns |x| element by element.
func Abs(x []float32) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(math.Abs(float64(v)))
	}
	return out
}

// SumTol is the error bound of a float32 sum of n terms whose absolute
// values add up to mag: a few ulps per term, plus an absolute floor.
func SumTol(n int, mag float64) float64 {
	return 2*float64(n+2)*0x1p-24*mag + 1e-30
}

// GemmScale returns, per output of ref.SgemmBatched with the same
// arguments, Σ_k |a||b| (+|bias|): the magnitude a float32 GEMM's rounding
// error is relative to (a Tol's Scale).
func GemmScale(op ref.Op, batch int, a, b []float32, M, N, K, sA, sB, sC int, epi ref.Epilogue, bias []float32) []float64 {
	c := make([]float32, max(0, (batch-1)*sC+M*N))
	var ab []float32
	e := ref.EpiNone
	switch epi {
	case ref.EpiBiasCol, ref.EpiBiasColReLU:
		ab, e = Abs(bias), ref.EpiBiasCol
	case ref.EpiBiasRow:
		ab, e = Abs(bias), ref.EpiBiasRow
	}
	ref.SgemmBatched(op, batch, c, Abs(a), Abs(b), M, N, K, sA, sB, sC, e, ab, nil)
	return To64(c)
}

// MustPanic fails the test unless f panics.
func MustPanic(t testing.TB, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", name)
		}
	}()
	f()
}

// Name joins key, value pairs into a subtest or benchmark name:
// Name("B", 64, "C", 10) = "B=64/C=10".
func Name(kv ...any) string {
	parts := make([]string, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, fmt.Sprintf("%v=%v", kv[i], kv[i+1]))
	}
	return strings.Join(parts, "/")
}

// ForEachPath runs f as a subtest (or sub-benchmark) "path=…" once per
// kernel path this binary runs on this CPU (kernels.Paths: the portable
// one, and the vector ones where built and supported), restoring the path
// setting it found after each.
func ForEachPath[T interface{ Run(string, func(T)) bool }](tb T, f func(T)) {
	for _, p := range kernels.Paths() {
		tb.Run("path="+p, func(tb T) {
			defer kernels.UsePath(p)()
			f(tb)
		})
	}
}

// cpuNow returns the CPU time (user + system) used by the process so far.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// LoopCPU runs f b.N times (b.Loop) and reports the process CPU time per
// call as "cpu-ns/op": on a shared machine it is steadier than wall time.
func LoopCPU(b *testing.B, f func()) {
	b.Helper()
	b.ReportAllocs()
	var c0 time.Duration
	started := false
	for b.Loop() {
		if !started {
			c0, started = cpuNow(), true
		}
		f()
	}
	b.ReportMetric(float64(cpuNow()-c0)/float64(b.N), "cpu-ns/op")
}

var (
	peakMu sync.Mutex
	peaks  = map[int]float64{}
)

// Peak returns the machine's float32 FMA peak in GFLOP/s on cores cores
// (goroutines locked to threads) at the widest vector width the CPU has
// (kernels.PeakGFLOPS), measured once per process for 0.3 s; 0 without a
// vector path. It is what the benchmarks' "peak%" divides by.
func Peak(cores int) float64 {
	peakMu.Lock()
	defer peakMu.Unlock()
	if g, ok := peaks[cores]; ok {
		return g
	}
	g := kernels.PeakGFLOPS(16, cores, 300*time.Millisecond)
	if g == 0 {
		g = kernels.PeakGFLOPS(8, cores, 300*time.Millisecond)
	}
	peaks[cores] = g
	return g
}

// ReportGFLOPS reports, for a benchmark whose every op does flops
// floating-point operations, its rate "GFLOP/s" (wall time) and "peak%",
// the rate's share of Peak(cores) in percent (when there is one).
func ReportGFLOPS(b *testing.B, flops float64, cores int) {
	b.Helper()
	g := flops * float64(b.N) / b.Elapsed().Seconds() / 1e9
	b.ReportMetric(g, "GFLOP/s")
	if p := Peak(cores); p > 0 {
		b.ReportMetric(100*g/p, "peak%")
	}
}
