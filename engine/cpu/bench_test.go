package cpu

import (
	"fmt"
	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/enginetest"
	"testing"
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
