package gpu

import (
	"fmt"
	"testing"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/enginetest"
)

// benchBatches are 32 consecutive batches of B rows of MNIST's training
// set, as bench/gpu/step_torch.py cycles through.
func benchBatches(b *testing.B, B int) []*engine.Batch {
	train, _ := enginetest.MNIST(b)
	bs := make([]*engine.Batch, 32)
	for i := range bs {
		bs[i] = enginetest.BatchOf(train, enginetest.Seq((B*i)%(train.N-B), B), B)
	}
	return bs
}

// forSizes runs bench, as the sub-benchmark model=M/device=cuda/batch=B,
// for each model and batch size of the GPU benchmarks, with their
// configuration at that batch size.
func forSizes(b *testing.B, bench func(b *testing.B, model string, cfg engine.Config)) {
	for _, model := range []string{"cnn", "mlp"} {
		for _, B := range []int{64, 1024} {
			b.Run(fmt.Sprintf("model=%s/device=cuda/batch=%d", model, B), func(b *testing.B) {
				bench(b, model, engine.Config{Batch: B, LR: 0.01, Momentum: 0.5})
			})
		}
	}
}

// BenchmarkStep measures training steps (forward, backward, per-sample
// losses back on the host, SGD-momentum update) in samples/s, with the
// training set on the device (input=device: only indices and weights cross
// per step, as PyTorch keeps its tensors on the device) and with the batch
// uploaded from the host (input=host). Every step ends synchronised (the
// losses are copied back), so the wall clock measures the device.
func BenchmarkStep(b *testing.B) {
	train, _ := enginetest.MNIST(b)
	forSizes(b, func(b *testing.B, model string, cfg engine.Config) {
		for _, in := range []struct {
			name string
			be   engine.Backend
		}{{"device", boundBackend{train}}, {"host", Backend{}}} {
			b.Run("input="+in.name, func(b *testing.B) {
				enginetest.BenchStep(b, in.be, model, cfg, benchBatches(b, cfg.Batch))
			})
		}
	})
}

// BenchmarkForward measures a forward pass alone (Forward: the forward
// kernels and the loss kernel without dlogits, the losses and last-layer
// norms back on the host) with the training set on the device, alternated
// with a training step on the same batch and Net, and reports forward/step,
// the ratio of their times in the same run (see enginetest.BenchForward).
func BenchmarkForward(b *testing.B) {
	train, _ := enginetest.MNIST(b)
	forSizes(b, func(b *testing.B, model string, cfg engine.Config) {
		b.Run("input=device", func(b *testing.B) {
			enginetest.BenchForward(b, boundBackend{train}, model, cfg, benchBatches(b, cfg.Batch))
		})
	})
}

// BenchmarkNormsCost alternates steps with and without per-sample gradient
// norms on the same batches (training set on the device) and reports the
// ratio of their times, measured in the same run: the target is ≤ 1.3.
func BenchmarkNormsCost(b *testing.B) {
	train, _ := enginetest.MNIST(b)
	forSizes(b, func(b *testing.B, model string, cfg engine.Config) {
		plain := enginetest.NewNet(b, boundBackend{train}, model, cfg, 1)
		cfg.GradNorms = true
		norms := enginetest.NewNet(b, boundBackend{train}, model, cfg, 1)
		tn, tp := enginetest.Alternate(b, benchBatches(b, cfg.Batch), norms, plain)
		b.ReportMetric(float64(cfg.Batch*b.N)/tn.Seconds(), "samples/s")
		b.ReportMetric(tn.Seconds()/tp.Seconds(), "norms-cost")
	})
}
