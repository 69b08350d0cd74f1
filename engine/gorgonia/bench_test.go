//go:build !cuda

package gorgonia

import (
	"fmt"
	"testing"
	"time"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/enginetest"
)

// step runs one step and fails the benchmark on error.
func step(b *testing.B, n engine.Net, bt *engine.Batch) {
	if _, err := n.Step(bt); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkStep measures one training step (forward, backward, per-sample
// losses, SGD-momentum update) on real MNIST batches.
func BenchmarkStep(b *testing.B) {
	train, _ := enginetest.MNIST(b)
	bs := enginetest.Batches(train, 32, 64)
	for _, model := range engine.Models() {
		b.Run(fmt.Sprintf("model=%s/device=gorgonia/batch=64", model), func(b *testing.B) {
			n := newNet(b, model, cfg64, 1)
			for i := 0; i < 3; i++ { // warm up the VM's buffers
				step(b, n, bs[i])
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				step(b, n, bs[i%len(bs)])
			}
			b.ReportMetric(float64(64*b.N)/b.Elapsed().Seconds(), "samples/s")
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
			var tPlain, tNorm, tBrute time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				bt := batches[i%len(batches)]
				t0 := time.Now()
				step(b, plain, bt)
				t1 := time.Now()
				step(b, norms, bt)
				tPlain += t1.Sub(t0)
				tNorm += time.Since(t1)
			}
			b.StopTimer()
			// Brute force on one batch: 64 backward passes.
			t0 := time.Now()
			enginetest.BruteForceNorms(b, plain, batches[0])
			tBrute = time.Since(t0)
			step := tPlain.Seconds() / float64(b.N)
			b.ReportMetric(1e3*step, "plain-ms")
			b.ReportMetric(1e3*tNorm.Seconds()/float64(b.N), "norms-ms")
			b.ReportMetric(tNorm.Seconds()/tPlain.Seconds(), "norm_overhead")
			b.ReportMetric(tBrute.Seconds()/step, "brute_over_step")
		})
	}
}
