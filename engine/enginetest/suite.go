// Package enginetest is the test suite every backend must pass: call
// RunAll(t, backend) from the backend's own tests. It trains on real MNIST
// for a few batches only.
package enginetest

import (
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/data"
)

// Check is one check of the suite. It takes a testing.TB so that a test
// can run it against a broken backend and see it fail.
type Check struct {
	Name string
	Run  func(t testing.TB, b engine.Backend)
}

// Checks lists every check of the suite, in the order RunAll runs them.
func Checks() []Check {
	return []Check{
		{"PaddingLeavesGradientUnchanged", PaddingLeavesGradientUnchanged},
		{"GradientsDoNotAccumulate", GradientsDoNotAccumulate},
		{"GradientMatchesFiniteDifferences", GradientMatchesFiniteDifferences},
		{"GradNormsMatchBruteForce", GradNormsMatchBruteForce},
		{"ForwardMatchesStep", ForwardMatchesStep},
		{"SameSeedSameRun", SameSeedSameRun},
		{"ShortTrainingLearns", ShortTrainingLearns},
		{"ParamsRoundTrip", ParamsRoundTrip},
		{"SetLRTakesEffect", SetLRTakesEffect},
		{"BadConfigAndParams", BadConfigAndParams},
	}
}

// RunAll runs every check of the suite against backend b, each as a subtest.
func RunAll(t *testing.T, b engine.Backend) {
	for _, c := range Checks() {
		t.Run(c.Name, func(t *testing.T) { c.Run(t, b) })
	}
}

var (
	mnistOnce             sync.Once
	mnistTrain, mnistTest *data.Set
	mnistErr              error
)

// MNIST returns the real data set or fails the test. It is loaded once per
// test binary (decompressing and validating it takes about a second) and
// shared by every caller, which must not modify it (Split and Head make
// views).
func MNIST(t testing.TB) (train, test *data.Set) {
	t.Helper()
	mnistOnce.Do(func() { mnistTrain, mnistTest, mnistErr = data.Load("mnist", "") })
	if mnistErr != nil {
		t.Fatalf("real MNIST is required (run ./build.sh): %v", mnistErr)
	}
	return mnistTrain, mnistTest
}

// NewNet builds a Net of the named model with weights from seed.
func NewNet(t testing.TB, b engine.Backend, model string, cfg engine.Config, seed uint64) engine.Net {
	t.Helper()
	m, err := engine.LookupModel(model)
	if err != nil {
		t.Fatal(err)
	}
	return NewNetOf(t, b, m, cfg, seed)
}

// NewNetOf builds a Net of model m with weights from seed; the test closes
// it when it ends.
func NewNetOf(t testing.TB, b engine.Backend, m engine.ModelSpec, cfg engine.Config, seed uint64) engine.Net {
	t.Helper()
	n, err := b.New(m, engine.InitParams(m, seed), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// BatchOf gathers samples idx of set into a B-row batch with weight 1/B
// per real row and zero-weight padding; it panics on bad indices (a test
// bug).
func BatchOf(set *data.Set, idx []int, B int) *engine.Batch {
	b := engine.NewBatch(B, set.Pixels())
	if err := b.Gather(set, idx, nil); err != nil {
		panic(err)
	}
	return b
}

// Head returns a view of the first n samples of set or fails the test.
func Head(t testing.TB, set *data.Set, n int) *data.Set {
	t.Helper()
	head, _, err := set.Split(set.N - n)
	if err != nil {
		t.Fatal(err)
	}
	return head
}

// Batches returns count consecutive batches of B rows of set: batch i
// holds samples i·B … i·B+B−1.
func Batches(set *data.Set, count, B int) []*engine.Batch {
	bs := make([]*engine.Batch, count)
	for i := range bs {
		bs[i] = BatchOf(set, Seq(B*i, B), B)
	}
	return bs
}

// Seq returns start, start+1, …, start+n−1.
func Seq(start, n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = start + i
	}
	return idx
}

// MaxRelDiff returns the largest over parameters of ||a−b|| / ||b||. It
// returns +Inf when the two lists differ in length, in a parameter's name or
// in a parameter's number of values, and when a difference is NaN, so that
// no tolerance check passes on mismatched or missing data (nil against
// anything non-empty included).
func MaxRelDiff(a, b []engine.Param) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var worst float64
	for i := range a {
		if a[i].Name != b[i].Name || len(a[i].Data) != len(b[i].Data) {
			return math.Inf(1)
		}
		var num, den float64
		for j := range a[i].Data {
			d := float64(a[i].Data[j] - b[i].Data[j])
			num += d * d
			den += float64(b[i].Data[j]) * float64(b[i].Data[j])
		}
		d := math.Sqrt(num / math.Max(den, 1e-30))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		worst = math.Max(worst, d)
	}
	return worst
}

// must returns v, failing the test with err, after the name of the call
// that returned it, if err is not nil.
func must[T any](t testing.TB, call string, v T, err error) T {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", call, err)
	}
	return v
}

// Params returns n's parameters or fails the test.
func Params(t testing.TB, n engine.Net) []engine.Param {
	t.Helper()
	ps, err := n.Params()
	return must(t, "Params", ps, err)
}

// Velocity returns n's momentum buffers or fails the test.
func Velocity(t testing.TB, n engine.Net) []engine.Param {
	t.Helper()
	vs, err := n.Velocity()
	return must(t, "Velocity", vs, err)
}

// MustStep runs one Step or fails the test.
func MustStep(t testing.TB, n engine.Net, b *engine.Batch) engine.StepStats {
	t.Helper()
	st, err := n.Step(b)
	return must(t, "Step", st, err)
}

// MustForward runs Forward or fails the test.
func MustForward(t testing.TB, n engine.Net, b *engine.Batch) engine.StepStats {
	t.Helper()
	st, err := n.Forward(b)
	return must(t, "Forward", st, err)
}

// MustGradients returns n's gradients and per-sample losses on b or fails
// the test.
func MustGradients(t testing.TB, n engine.Net, b *engine.Batch) ([]engine.Param, []float32) {
	t.Helper()
	g, l, err := n.Gradients(b)
	if err != nil {
		t.Fatalf("Gradients: %v", err)
	}
	return g, l
}

// MustGradNorms returns n's per-sample gradient norms on b or fails the
// test.
func MustGradNorms(t testing.TB, n engine.Net, b *engine.Batch) []float32 {
	t.Helper()
	g, err := n.GradNorms(b)
	return must(t, "GradNorms", g, err)
}

// MustEvaluate returns n's accuracy and mean loss on set or fails the test.
func MustEvaluate(t testing.TB, n engine.Net, set *data.Set) (acc, loss float64) {
	t.Helper()
	acc, loss, err := n.Evaluate(set)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return acc, loss
}

// MustSetParams replaces n's parameters or fails the test.
func MustSetParams(t testing.TB, n engine.Net, ps []engine.Param) {
	t.Helper()
	if err := n.SetParams(ps); err != nil {
		t.Fatalf("SetParams: %v", err)
	}
}

var cfg64 = engine.Config{Batch: 64, LR: 0.01, Momentum: 0.5}

// PaddingLeavesGradientUnchanged compares the gradient of a 64-row batch
// with 40 real rows and 24 rows of other samples at weight 0 against the
// gradient of the same 40 rows in a 40-row net.
func PaddingLeavesGradientUnchanged(t testing.TB, be engine.Backend) {
	train, _ := MNIST(t)
	for _, model := range engine.Models() {
		big := NewNet(t, be, model, cfg64, 5)
		small := NewNet(t, be, model, engine.Config{Batch: 40, LR: 0.01, Momentum: 0.5}, 5)
		padded := BatchOf(train, Seq(2000, 64), 64)
		padded.N = 40
		for i := 40; i < 64; i++ {
			padded.Weights[i] = 0
		}
		exact := BatchOf(train, Seq(2000, 40), 40)
		for i := range exact.Weights {
			exact.Weights[i] = 1 / float32(64)
		}
		g1, _ := MustGradients(t, big, padded)
		g2, _ := MustGradients(t, small, exact)
		if d := MaxRelDiff(g1, g2); d > 1e-5 {
			t.Fatalf("%s: padding changed the gradient: relative difference %g", model, d)
		}
		padded.Weights[50] = 1 / float32(64) // the check can fail
		g3, _ := MustGradients(t, big, padded)
		if d := MaxRelDiff(g3, g2); d < 1e-4 {
			t.Fatalf("%s: a weighted padding row did not change the gradient (%g)", model, d)
		}
	}
}

// GradientsDoNotAccumulate runs the same batch twice.
func GradientsDoNotAccumulate(t testing.TB, be engine.Backend) {
	train, _ := MNIST(t)
	n := NewNet(t, be, "mlp", cfg64, 1)
	b := BatchOf(train, Seq(0, 64), 64)
	g1, _ := MustGradients(t, n, b)
	g2, _ := MustGradients(t, n, b)
	if d := MaxRelDiff(g1, g2); d != 0 {
		t.Fatalf("second pass differs by %g", d)
	}
}

// GradientMatchesFiniteDifferences checks a few entries of every
// parameter's gradient against central differences of Σ w_i·L_i.
func GradientMatchesFiniteDifferences(t testing.TB, be engine.Backend) {
	train, _ := MNIST(t)
	for _, model := range engine.Models() {
		n := NewNet(t, be, model, engine.Config{Batch: 8, LR: 0.01, Momentum: 0.5}, 9)
		b := BatchOf(train, Seq(300, 8), 8)
		grads, _ := MustGradients(t, n, b)
		cost := func() float64 {
			_, losses := MustGradients(t, n, b)
			var c float64
			for i, l := range losses {
				c += float64(b.Weights[i]) * float64(l)
			}
			return c
		}
		r := rand.New(rand.NewPCG(1, 2))
		params := Params(t, n)
		for i := range params {
			for k := 0; k < 3; k++ {
				j := r.IntN(len(params[i].Data))
				old := params[i].Data[j]
				h := float32(1e-3)
				params[i].Data[j] = old + h
				MustSetParams(t, n, params)
				up := cost()
				params[i].Data[j] = old - h
				MustSetParams(t, n, params)
				down := cost()
				params[i].Data[j] = old
				MustSetParams(t, n, params)
				fd := (up - down) / (2 * float64(h))
				g := float64(grads[i].Data[j])
				if math.Abs(fd-g) > 2e-3+0.05*math.Abs(g) {
					t.Errorf("%s %s[%d]: gradient %g, finite difference %g", model, grads[i].Name, j, g, fd)
				}
			}
		}
	}
}

// BruteForceNorms computes ||∇θ L_i|| with one backward pass per sample.
func BruteForceNorms(t testing.TB, n engine.Net, b *engine.Batch) []float64 {
	out := make([]float64, b.N)
	one := *b
	one.Weights = make([]float32, len(b.Weights))
	for i := 0; i < b.N; i++ {
		clear(one.Weights)
		one.Weights[i] = 1
		grads, _ := MustGradients(t, n, &one)
		var sq float64
		for _, g := range grads {
			for _, v := range g.Data {
				sq += float64(v) * float64(v)
			}
		}
		out[i] = math.Sqrt(sq)
	}
	return out
}

// GradNormsMatchBruteForce compares batched per-sample gradient norms with
// one backward pass per sample on real MNIST after a little training (rel.
// error ≤ 1e-4 where the squared norm exceeds 1e-6), through GradNorms and
// through Step with unequal weights.
func GradNormsMatchBruteForce(t testing.TB, be engine.Backend) {
	train, _ := MNIST(t)
	for _, model := range engine.Models() {
		n := NewNet(t, be, model, engine.Config{Batch: 32, LR: 0.01, Momentum: 0.5, GradNorms: true}, 11)
		for s := 0; s < 20; s++ {
			MustStep(t, n, BatchOf(train, Seq(32*s, 32), 32))
		}
		b := BatchOf(train, Seq(5000, 32), 32)
		b.N = 29
		for i := 29; i < 32; i++ {
			b.Weights[i] = 0
		}
		want := BruteForceNorms(t, n, b)
		got := MustGradNorms(t, n, b)
		check := func(what string, got []float32) {
			checked := 0
			for i := range want {
				if want[i]*want[i] <= 1e-6 {
					continue
				}
				checked++
				if rel := math.Abs(float64(got[i])-want[i]) / want[i]; rel > 1e-4 {
					t.Errorf("%s %s sample %d: norm %v, brute force %v (rel %g)", model, what, i, got[i], want[i], rel)
				}
			}
			if checked < 10 {
				t.Fatalf("%s: only %d samples with a norm² above 1e-6", model, checked)
			}
		}
		check("GradNorms", got)
		for i := 0; i < b.N; i++ {
			b.Weights[i] = float32(i+1) / 100
		}
		check("Step", MustStep(t, n, b).GradNorms)
	}
}

// closeScores fails the test unless got and want have the same length and
// |got_i − want_i| ≤ tol·|want_i| for every i (tol 0: bit-identical).
func closeScores(t testing.TB, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if !(math.Abs(g-w) <= tol*math.Abs(w)) {
			t.Fatalf("%s: row %d is %v, want %v (relative difference %g, tolerance %g)", what, i, got[i], want[i], math.Abs(g-w)/math.Abs(w), tol)
		}
	}
}

// forwardTol is the relative difference allowed between Forward's scores
// and Step's; backends that share the code path match exactly.
const forwardTol = 1e-6

// ForwardMatchesStep checks Net.Forward on both models after three steps
// (so that the velocity is not zero), on a Net built with gradient norms:
//   - on a 64-row batch of 40 real rows with unequal weights, Forward
//     returns 40 losses and last-layer norms, no gradient norms, and the
//     cost Σ w_i·L_i of its losses;
//   - it leaves the parameters and the velocity exactly as they were;
//   - other samples in the padding rows change none of the real rows'
//     scores;
//   - the Step that follows on the same batch returns the same losses,
//     last-layer norms and cost (computed before its update; relative
//     difference ≤ 1e-6), and ends at exactly the parameters and velocity
//     of a twin Net that took the same steps without the Forward calls (no
//     gradient or other state carries over from Forward);
//
// then that a malformed batch is an error and that Forward after Close
// returns engine.ErrClosed.
func ForwardMatchesStep(t testing.TB, be engine.Backend) {
	train, _ := MNIST(t)
	cfg := cfg64
	cfg.GradNorms = true
	for _, model := range engine.Models() {
		n := NewNet(t, be, model, cfg, 13)
		twin := NewNet(t, be, model, cfg, 13)
		for s := 0; s < 3; s++ {
			b := BatchOf(train, Seq(64*s, 64), 64)
			MustStep(t, n, b)
			MustStep(t, twin, b)
		}
		const N = 40
		b := BatchOf(train, Seq(3000, N), 64)
		for i := range N {
			b.Weights[i] = float32(i+1) / 1000
		}
		padded := BatchOf(train, append(Seq(3000, N), Seq(7000, 64-N)...), 64)
		padded.N, padded.Indices = N, padded.Indices[:N]
		copy(padded.Weights, b.Weights)

		p0, v0 := Params(t, n), Velocity(t, n)
		fw := MustForward(t, n, b)
		losses, lasts, cost := append([]float32(nil), fw.Losses...), append([]float32(nil), fw.LastNorms...), fw.Cost
		if len(losses) != N || len(lasts) != N || fw.GradNorms != nil {
			t.Fatalf("%s: Forward returned %d losses, %d last-layer norms and gradient norms %v for %d real rows; want %d, %d and nil",
				model, len(losses), len(lasts), fw.GradNorms, N, N, N)
		}
		var sum float64
		for i, l := range losses {
			sum += float64(b.Weights[i]) * float64(l)
		}
		if math.Abs(cost-sum) > 1e-5*math.Abs(sum) {
			t.Errorf("%s: Forward's cost %v, Σ w_i·L_i of its losses %v", model, cost, sum)
		}
		if d := MaxRelDiff(Params(t, n), p0); d != 0 {
			t.Fatalf("%s: Forward changed the parameters by %g", model, d)
		}
		if d := MaxRelDiff(Velocity(t, n), v0); d != 0 {
			t.Fatalf("%s: Forward changed the velocity by %g", model, d)
		}
		fp := MustForward(t, n, padded)
		closeScores(t, model+": losses with other padding", fp.Losses, losses, forwardTol)
		closeScores(t, model+": last-layer norms with other padding", fp.LastNorms, lasts, forwardTol)

		st := MustStep(t, n, b)
		closeScores(t, model+": Forward's losses against Step's", losses, st.Losses, forwardTol)
		closeScores(t, model+": Forward's last-layer norms against Step's", lasts, st.LastNorms, forwardTol)
		if math.Abs(cost-st.Cost) > forwardTol*math.Abs(st.Cost) {
			t.Errorf("%s: Forward's cost %v, Step's %v", model, cost, st.Cost)
		}
		MustStep(t, twin, b)
		if d := MaxRelDiff(Params(t, n), Params(t, twin)); d != 0 {
			t.Fatalf("%s: a Step after Forward ends %g from the same Step without Forward (parameters)", model, d)
		}
		if d := MaxRelDiff(Velocity(t, n), Velocity(t, twin)); d != 0 {
			t.Fatalf("%s: a Step after Forward ends %g from the same Step without Forward (velocity)", model, d)
		}
	}
	n := NewNet(t, be, "mlp", cfg64, 1)
	if _, err := n.Forward(&engine.Batch{Labels: make([]int32, 3)}); err == nil {
		t.Error("Forward accepted a short batch")
	}
	if err := n.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := n.Forward(BatchOf(train, Seq(0, 64), 64)); !errors.Is(err, engine.ErrClosed) {
		t.Errorf("Forward after Close: got %v, want engine.ErrClosed", err)
	}
}

// SameSeedSameRun trains two nets from the same seed on the same batches
// and expects bit-identical losses and parameters.
func SameSeedSameRun(t testing.TB, be engine.Backend) {
	train, _ := MNIST(t)
	a := NewNet(t, be, "cnn", cfg64, 7)
	c := NewNet(t, be, "cnn", cfg64, 7)
	for s := 0; s < 3; s++ {
		b := BatchOf(train, Seq(64*s, 64), 64)
		la := append([]float32(nil), MustStep(t, a, b).Losses...)
		sc := MustStep(t, c, b)
		for i := range la {
			if la[i] != sc.Losses[i] {
				t.Fatalf("step %d sample %d: %v vs %v", s, i, la[i], sc.Losses[i])
			}
		}
	}
	if d := MaxRelDiff(Params(t, a), Params(t, c)); d != 0 {
		t.Fatalf("parameters differ by %g", d)
	}
}

// ShortTrainingLearns trains the MLP for 150 steps of real MNIST and
// expects clearly better than chance on the test set.
func ShortTrainingLearns(t testing.TB, be engine.Backend) {
	train, test := MNIST(t)
	n := NewNet(t, be, "mlp", cfg64, 1)
	for s := 0; s < 150; s++ {
		MustStep(t, n, BatchOf(train, Seq(64*s, 64), 64))
	}
	acc, loss := MustEvaluate(t, n, test)
	t.Logf("test accuracy %.4f (loss %.3f) after 150 steps", acc, loss)
	if acc < 0.8 {
		t.Fatalf("accuracy %.3f after 150 steps, want ≥ 0.8", acc)
	}
}

// ParamsRoundTrip checks Params/SetParams and Velocity/SetVelocity.
func ParamsRoundTrip(t testing.TB, be engine.Backend) {
	train, _ := MNIST(t)
	a := NewNet(t, be, "mlp", cfg64, 1)
	c := NewNet(t, be, "mlp", cfg64, 2)
	b := BatchOf(train, Seq(0, 64), 64)
	MustStep(t, a, b)
	MustSetParams(t, c, Params(t, a))
	if err := c.SetVelocity(Velocity(t, a)); err != nil {
		t.Fatal(err)
	}
	b2 := BatchOf(train, Seq(64, 64), 64)
	MustStep(t, a, b2)
	MustStep(t, c, b2)
	if d := MaxRelDiff(Params(t, a), Params(t, c)); d != 0 {
		t.Fatalf("restored net diverged by %g", d)
	}
}

// SetLRTakesEffect: a Net built with one learning rate and set to another
// trains as a Net built with the other; at rate 0 a step leaves the
// parameters unchanged; a rate that is not finite and ≥ 0 is refused.
func SetLRTakesEffect(t testing.TB, be engine.Backend) {
	train, _ := MNIST(t)
	fast := cfg64
	fast.LR = 0.05
	a := NewNet(t, be, "mlp", fast, 1)
	c := NewNet(t, be, "mlp", cfg64, 1)
	if err := c.SetLR(0.05); err != nil {
		t.Fatal(err)
	}
	for s := 0; s < 2; s++ {
		b := BatchOf(train, Seq(64*s, 64), 64)
		MustStep(t, a, b)
		MustStep(t, c, b)
	}
	if d := MaxRelDiff(Params(t, c), Params(t, a)); d > 1e-6 {
		t.Fatalf("a net set to lr 0.05 differs from one built with it by %g", d)
	}
	before := Params(t, c)
	if err := c.SetLR(0); err != nil {
		t.Fatal(err)
	}
	MustStep(t, c, BatchOf(train, Seq(128, 64), 64))
	if d := MaxRelDiff(Params(t, c), before); d != 0 {
		t.Fatalf("a step at lr 0 moved the parameters by %g", d)
	}
	for _, bad := range []float64{-0.1, math.NaN(), math.Inf(1)} {
		if err := c.SetLR(bad); err == nil {
			t.Errorf("SetLR(%v) accepted", bad)
		}
	}
}

// BadConfigAndParams expects errors, not panics, for invalid input.
func BadConfigAndParams(t testing.TB, be engine.Backend) {
	m, _ := engine.LookupModel("mlp")
	for _, c := range []engine.Config{{Batch: 0, LR: 0.1}, {Batch: 8, LR: -1}, {Batch: 8, LR: math.NaN()}, {Batch: 8, LR: 0.1, Momentum: 1}} {
		if _, err := be.New(m, engine.InitParams(m, 1), c); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
	cnn, _ := engine.LookupModel("cnn")
	if _, err := be.New(m, engine.InitParams(cnn, 1), cfg64); err == nil {
		t.Error("cnn parameters accepted for mlp")
	}
	n := NewNet(t, be, "mlp", cfg64, 1)
	if _, err := n.Step(&engine.Batch{Labels: make([]int32, 3)}); err == nil {
		t.Error("short batch accepted")
	}
	bad := BatchOf(&data.Set{Images: make([]float32, 784), Labels: []int32{12}, N: 1, Rows: 28, Cols: 28, Classes: 10}, []int{0}, 64)
	if _, err := n.Step(bad); err == nil {
		t.Error("label 12 accepted")
	}
	if err := n.SetParams(engine.InitParams(cnn, 1)); err == nil {
		t.Error("SetParams accepted cnn parameters")
	}
	if err := n.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := n.Params(); !errors.Is(err, engine.ErrClosed) {
		t.Errorf("Params after Close: got %v, want engine.ErrClosed", err)
	}
	if _, err := n.Step(BatchOf(&data.Set{Images: make([]float32, 784), Labels: []int32{1}, N: 1, Rows: 28, Cols: 28, Classes: 10}, []int{0}, 64)); !errors.Is(err, engine.ErrClosed) {
		t.Errorf("Step after Close: got %v, want engine.ErrClosed", err)
	}
}
