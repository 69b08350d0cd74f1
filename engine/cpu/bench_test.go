package cpu_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/cpu"
	"github.com/sgds/sgds/engine/enginetest"
	"github.com/sgds/sgds/kernels"
	kt "github.com/sgds/sgds/kernels/kerneltest"
)

var cfg64 = engine.Config{Batch: 64, LR: 0.01, Momentum: 0.5}

// stepFLOP is the floating-point work of one training sample, counted as
// three times the forward pass's multiply-adds (forward, the input
// gradient, the weight gradient) × 2: the MLP 784→256→10 and the CNN
// conv 1→10 5×5 (24×24 outputs), pool, conv 10→20 5×5 (8×8), pool,
// 320→50→10. BenchmarkStep reports GFLOP/s = samples/s · stepFLOP and its
// share of the machine's all-core FMA peak (kerneltest.Peak).
var stepFLOP = map[string]float64{
	"mlp": 3 * 2 * (784*256 + 256*10),
	"cnn": 3 * 2 * (24*24*10*25 + 8*8*20*250 + 320*50 + 50*10),
}

// stepBackends are the backends BenchmarkStep measures side by side; the
// gorgonia one joins them in builds that have it (gorgonia_test.go).
var stepBackends = []struct {
	name string
	be   engine.Backend
}{{"cpu", cpu.Backend{}}}

func newNet(b testing.TB, be engine.Backend, model string, cfg engine.Config) engine.Net {
	return enginetest.NewNet(b, be, model, cfg, 1)
}

// step runs one step and fails the benchmark on error.
func step(b *testing.B, n engine.Net, bt *engine.Batch) { enginetest.MustStep(b, n, bt) }

// BenchmarkStep measures one training step (forward, backward, per-sample
// losses, SGD-momentum update) at batch 64 on real MNIST, on the cpu
// backend and, in the same run, on the gorgonia backend (device=gorgonia). The
// gradnorms=1 variants also return exact per-sample gradient norms; they
// time a plain step after every step with norms and report
// norm_overhead = (time with norms) / (plain time).
func BenchmarkStep(b *testing.B) {
	train, _ := enginetest.MNIST(b)
	bs := enginetest.Batches(train, 32, 64)
	path := kernels.Path()
	for _, model := range engine.Models() {
		for _, dev := range stepBackends {
			b.Run(fmt.Sprintf("model=%s/device=%s/batch=64", model, dev.name), func(b *testing.B) {
				enginetest.BenchStep(b, dev.be, model, cfg64, bs)
				if dev.name == "cpu" {
					b.Logf("kernel path: %s", path)
				}
				kt.ReportGFLOPS(b, float64(cfg64.Batch)*stepFLOP[model], runtime.GOMAXPROCS(0))
			})
		}
		b.Run(fmt.Sprintf("model=%s/device=cpu/batch=64/gradnorms=1", model), func(b *testing.B) {
			cfgN := cfg64
			cfgN.GradNorms = true
			withNorms := newNet(b, cpu.Backend{}, model, cfgN)
			plain := newNet(b, cpu.Backend{}, model, cfg64)
			tNorms, tPlain := enginetest.Alternate(b, bs, withNorms, plain)
			b.ReportMetric(float64(tNorms.Nanoseconds())/float64(b.N), "ns/op")
			b.ReportMetric(float64(64*b.N)/tNorms.Seconds(), "samples/s")
			b.ReportMetric(tNorms.Seconds()/tPlain.Seconds(), "norm_overhead")
		})
	}
}

// BenchmarkForward measures a forward pass alone (Forward: per-sample
// losses and last-layer norms, no backward pass) at batch 64 on real MNIST,
// on the cpu backend and, in the same run, on the gorgonia one, alternated
// with a training step on the same batch and Net, and reports forward/step,
// the ratio of their times (see enginetest.BenchForward).
func BenchmarkForward(b *testing.B) {
	train, _ := enginetest.MNIST(b)
	bs := enginetest.Batches(train, 32, 64)
	for _, model := range engine.Models() {
		for _, dev := range stepBackends {
			b.Run(fmt.Sprintf("model=%s/device=%s/batch=64", model, dev.name), func(b *testing.B) {
				enginetest.BenchForward(b, dev.be, model, cfg64, bs)
			})
		}
	}
}

// BenchmarkEpoch trains one epoch of the 60,000 MNIST training images in a
// shuffled order at batch 64 (the last batch padded with zero-weight rows),
// gathering each batch from the data set, and reports its wall-clock.
func BenchmarkEpoch(b *testing.B) {
	train, _ := enginetest.MNIST(b)
	for _, model := range engine.Models() {
		b.Run(fmt.Sprintf("model=%s/device=cpu/batch=64", model), func(b *testing.B) {
			bt := engine.NewBatch(64, train.Pixels())
			for i := 0; i < b.N; i++ {
				n := newNet(b, cpu.Backend{}, model, cfg64)
				order := rand.New(rand.NewPCG(1, uint64(i))).Perm(train.N)
				t0 := time.Now()
				for s := 0; s < train.N; s += 64 {
					if err := bt.Gather(train, order[s:min(s+64, train.N)], nil); err != nil {
						b.Fatal(err)
					}
					step(b, n, bt)
				}
				b.ReportMetric(time.Since(t0).Seconds(), "s/epoch")
			}
		})
	}
}
