//go:build !cuda

package gorgonia

import (
	"fmt"
	"testing"
	"time"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/enginetest"
)

// BenchmarkStep measures one training step (forward, backward, per-sample
// losses, SGD-momentum update) on real MNIST batches.
func BenchmarkStep(b *testing.B) {
	train, _ := enginetest.MNIST(b)
	bs := enginetest.Batches(train, 32, 64)
	for _, model := range engine.Models() {
		b.Run(fmt.Sprintf("model=%s/device=gorgonia/batch=64", model), func(b *testing.B) {
			enginetest.BenchStep(b, Backend{}, model, cfg64, bs)
		})
	}
}

// BenchmarkGradNorms measures, in one run, a plain training step, a step
// that also returns exact per-sample gradient norms, and brute force (one
// backward pass per sample), interleaved batch by batch on two nets with
// the same weights. It reports each one's ms and the ratios to a plain step.
func BenchmarkGradNorms(b *testing.B) {
	train, _ := enginetest.MNIST(b)
	batches := enginetest.Batches(train, 16, 64)
	for _, model := range engine.Models() {
		b.Run(fmt.Sprintf("model=%s/device=gorgonia/batch=64", model), func(b *testing.B) {
			plain := newNet(b, model, cfg64, 1)
			normCfg := cfg64
			normCfg.GradNorms = true
			norms := newNet(b, model, normCfg, 1)
			tPlain, tNorm := enginetest.Alternate(b, batches, plain, norms)
			b.StopTimer()
			// Brute force on one batch: 64 backward passes.
			t0 := time.Now()
			enginetest.BruteForceNorms(b, plain, batches[0])
			tBrute := time.Since(t0)
			step := tPlain.Seconds() / float64(b.N)
			b.ReportMetric(1e3*step, "plain-ms")
			b.ReportMetric(1e3*tNorm.Seconds()/float64(b.N), "norms-ms")
			b.ReportMetric(tNorm.Seconds()/tPlain.Seconds(), "norm_overhead")
			b.ReportMetric(tBrute.Seconds()/step, "brute_over_step")
		})
	}
}
