//go:build !cuda

package gorgonia

import (
	"fmt"
	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/enginetest"
	"testing"
	"time"
)

// BenchmarkStep measures one training step (forward, backward, per-sample
// losses, SGD-momentum update) on real MNIST batches.
func BenchmarkStep(b *testing.B) {
	train, _ := enginetest.MNIST(b)
	for _, model := range []string{"mlp", "cnn"} {
		b.Run(fmt.Sprintf("model=%s/device=cpu/batch=64", model), func(b *testing.B) {
			n := newNet(b, model, cfg64, 1)
			batches := 32
			bs := make([]*engine.Batch, batches)
			for i := range bs {
				bs[i] = enginetest.BatchOf(train, enginetest.Seq(64*i, 64), 64)
			}
			for i := 0; i < 3; i++ { // warm up the VM's buffers
				n.Step(bs[i])
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := n.Step(bs[i%batches]); err != nil {
					b.Fatal(err)
				}
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
	for _, model := range []string{"mlp", "cnn"} {
		b.Run(fmt.Sprintf("model=%s/device=cpu/batch=64", model), func(b *testing.B) {
			plain := newNet(b, model, cfg64, 1)
			normCfg := cfg64
			normCfg.GradNorms = true
			norms := newNet(b, model, normCfg, 1)
			batches := make([]*engine.Batch, 16)
			for i := range batches {
				batches[i] = enginetest.BatchOf(train, enginetest.Seq(64*i, 64), 64)
			}
			var tPlain, tNorm, tBrute time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				bt := batches[i%len(batches)]
				t0 := time.Now()
				plain.Step(bt)
				t1 := time.Now()
				if _, err := norms.Step(bt); err != nil {
					b.Fatal(err)
				}
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
