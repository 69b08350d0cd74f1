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
	for i := range 3 {
		MustStep(b, a, bs[i%len(bs)])
		MustStep(b, c, bs[i%len(bs)])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bt := bs[i%len(bs)]
		t0 := time.Now()
		MustStep(b, a, bt)
		t1 := time.Now()
		MustStep(b, c, bt)
		ta += t1.Sub(t0)
		tc += time.Since(t1)
	}
	return ta, tc
}
