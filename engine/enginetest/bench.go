package enginetest

import (
	"testing"
	"time"

	"github.com/sgds/sgds/engine"
)

// BenchStep times Step on a Net of model built by be with cfg (weights of
// seed 1), cycling through the batches bs after three warm-up steps, and
// reports samples/s and the allocations per step. Backends call it from
// their BenchmarkStep, one sub-benchmark per model and device.
func BenchStep(b *testing.B, be engine.Backend, model string, cfg engine.Config, bs []*engine.Batch) {
	n := NewNet(b, be, model, cfg, 1)
	for i := range 3 {
		MustStep(b, n, bs[i%len(bs)])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := n.Step(bs[i%len(bs)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cfg.Batch*b.N)/b.Elapsed().Seconds(), "samples/s")
}

// Alternate steps a and then c on the same batch, cycling through bs, b.N
// times after three warm-up steps each, and returns the time each spent,
// so that a pair of rates is measured in the same run (machine noise hits
// both alike). The benchmark's timer runs throughout.
func Alternate(b *testing.B, bs []*engine.Batch, a, c engine.Net) (ta, tc time.Duration) {
	return AlternateCalls(b, bs, StepCall(a), StepCall(c))
}

// Call is one call on a batch that a benchmark times (a Step, a Forward);
// it fails the benchmark on error.
type Call func(testing.TB, *engine.Batch)

// StepCall returns the Call of n.Step.
func StepCall(n engine.Net) Call {
	return func(t testing.TB, b *engine.Batch) { MustStep(t, n, b) }
}

// ForwardCall returns the Call of n.Forward.
func ForwardCall(n engine.Net) Call {
	return func(t testing.TB, b *engine.Batch) { MustForward(t, n, b) }
}

// AlternateCalls is Alternate for any two calls: a and then c on the same
// batch, cycling through bs, b.N times after three warm-up calls each; it
// returns the time each spent.
func AlternateCalls(b *testing.B, bs []*engine.Batch, a, c Call) (ta, tc time.Duration) {
	for i := range 3 {
		a(b, bs[i%len(bs)])
		c(b, bs[i%len(bs)])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bt := bs[i%len(bs)]
		t0 := time.Now()
		a(b, bt)
		t1 := time.Now()
		c(b, bt)
		ta += t1.Sub(t0)
		tc += time.Since(t1)
	}
	return ta, tc
}

// BenchForward times Forward against Step on a Net of model built by be
// with cfg (weights of seed 1): each iteration runs Forward and then Step
// on the same batch (as a method that scores a batch before training on it
// does), cycling through bs. It reports the Forward's ns/op and samples/s,
// and forward/step, the ratio of the two calls' times in the same run; the
// allocations are those of the pair. Backends call it from their
// BenchmarkForward, beside BenchmarkStep.
func BenchForward(b *testing.B, be engine.Backend, model string, cfg engine.Config, bs []*engine.Batch) {
	n := NewNet(b, be, model, cfg, 1)
	tf, ts := AlternateCalls(b, bs, ForwardCall(n), StepCall(n))
	b.ReportMetric(float64(tf.Nanoseconds())/float64(b.N), "ns/op")
	b.ReportMetric(float64(cfg.Batch*b.N)/tf.Seconds(), "samples/s")
	b.ReportMetric(tf.Seconds()/ts.Seconds(), "forward/step")
}
