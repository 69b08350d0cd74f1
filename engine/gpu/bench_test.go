//go:build cuda

package gpu

import (
	"fmt"
	"testing"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/enginetest"
)

// BenchmarkStep measures one training step on the GPU (forward, backward,
// per-sample losses back on the host, SGD-momentum update) on real MNIST
// batches gathered from the device-resident training set, with and
// without per-sample gradient norms. Every step ends synchronised (the
// losses are copied back), so the wall clock measures the device.
func BenchmarkStep(b *testing.B) {
	train, _ := enginetest.MNIST(b)
	for _, model := range []string{"mlp", "cnn"} {
		for _, B := range []int{64, 1024} {
			for _, norms := range []bool{false, true} {
				name := fmt.Sprintf("model=%s/device=cuda/batch=%d", model, B)
				if norms {
					name += "/norms"
				}
				b.Run(name, func(b *testing.B) {
					cfg := engine.Config{Batch: B, LR: 0.01, Momentum: 0.5, GradNorms: norms}
					n := enginetest.NewNet(b, Backend{}, model, cfg, 1).(*Net)
					if err := n.BindTrain(train); err != nil {
						b.Fatal(err)
					}
					bs := make([]*engine.Batch, 32)
					for i := range bs {
						bs[i] = enginetest.BatchOf(train, enginetest.Seq((B*i)%(train.N-B), B), B)
					}
					for i := 0; i < 10; i++ {
						if _, err := n.Step(bs[i%32]); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if _, err := n.Step(bs[i%32]); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(B*b.N)/b.Elapsed().Seconds(), "samples/s")
				})
			}
		}
	}
}
