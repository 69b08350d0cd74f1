package bench

import (
	"context"
	"testing"

	_ "github.com/sgds/sgds/engine/cpu"
	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/sampler"
)

// ttaTarget is the validation accuracy of the short real-data budget: the
// MLP reaches it in a few epochs with uniform sampling.
const (
	ttaTarget = 0.96
	ttaEpochs = 12
)

// timeToTarget trains until the validation accuracy reaches ttaTarget and
// returns the training seconds and samples seen at that epoch.
func timeToTarget(b *testing.B, d *run.Data, samplerName string, seed uint64) (secs float64, samples int64) {
	rc := run.Config{Dataset: "mnist", Model: "mlp", Device: "cpu", Sampler: samplerName, Epochs: 1,
		Batch: 64, LR: 0.01, Momentum: 0.5, Seed: seed, Val: d.Val.N}
	if samplerName == "sgds" {
		sc := sampler.DefaultScheduleConfig()
		rc.Schedule = &sc
	}
	t, err := run.NewTrainer(rc, d, nil, run.Hooks{Targets: []float64{ttaTarget}})
	if err != nil {
		b.Fatal(err)
	}
	defer t.Net.Close()
	for e := 1; e <= ttaEpochs; e++ {
		t.Epochs = e
		if err := t.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
		if h, ok := t.Hit(ttaTarget); ok {
			return h.TrainSeconds, h.SamplesSeen
		}
	}
	b.Fatalf("%s did not reach validation accuracy %.3f in %d epochs", samplerName, ttaTarget, ttaEpochs)
	return 0, 0
}

// BenchmarkTimeToAccuracy measures training seconds and samples until the
// MLP reaches 96% validation accuracy on real MNIST (5,000 held out), for
// uniform sampling and for SGD-S. The sgds sub-benchmark also trains
// uniform from the same weights in the same iteration, interleaved, and
// reports speedup = uniform's seconds / SGD-S's seconds (and the same for
// samples). One iteration takes a minute or two: use -benchtime 1x or Nx.
func BenchmarkTimeToAccuracy(b *testing.B) {
	d, err := run.LoadData(run.Config{Dataset: "mnist", Val: 5000}, "")
	if err != nil {
		b.Fatalf("real MNIST is required (run ./build.sh): %v", err)
	}
	for _, name := range []string{"uniform", "sgds"} {
		b.Run("model=mlp/sampler="+name, func(b *testing.B) {
			var secs, uSecs float64
			var samples, uSamples int64
			for i := 0; i < b.N; i++ {
				seed := uint64(i + 1)
				s, n := timeToTarget(b, d, name, seed)
				secs += s
				samples += n
				if name == "sgds" {
					s, n := timeToTarget(b, d, "uniform", seed)
					uSecs += s
					uSamples += n
				}
			}
			N := float64(b.N)
			b.ReportMetric(secs/N, "s-to-target")
			b.ReportMetric(float64(samples)/N, "samples-to-target")
			if name == "sgds" {
				b.ReportMetric(uSecs/secs, "speedup")
				b.ReportMetric(float64(uSamples)/float64(samples), "speedup-samples")
			}
		})
	}
}
