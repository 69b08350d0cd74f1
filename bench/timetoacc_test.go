package bench

import (
	"context"
	"testing"

	_ "github.com/sgds/sgds/engine/cpu"
	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/training"
)

// ttaTarget is the validation accuracy of the short real-data budget: the
// MLP reaches it in a few epochs with uniform sampling. ttaSamples bounds
// the samples each method may train on (12 uniform epochs).
const (
	ttaTarget  = 0.96
	ttaSamples = 12 * 55000
)

// ttaMethods are the methods timed: SGD-S and its two baselines, uniform
// and RS2 at 30% of the data per epoch (about SGD-S's kept fraction).
var ttaMethods = []string{"uniform", "rs2:frac=0.3", "sgds"}

// timeToTargets trains the methods from the seed's weights in lockstep, an
// epoch each in turn, on the default evaluation grid, each until it
// reaches ttaTarget on validation or has seen ttaSamples, and returns the
// training seconds and grid samples at the first grid point reaching it.
func timeToTargets(b *testing.B, d *run.Data, seed uint64) (secs, samples []float64) {
	base := run.Config{Dataset: "mnist", Model: "mlp", Device: "cpu", Epochs: 1, Batch: 64, LR: 0.01, Momentum: 0.5, Seed: seed, Val: d.Val.N}
	var ts []*training.Trainer
	for _, spec := range ttaMethods {
		m, err := run.ParseMethod(spec, base, nil)
		if err != nil {
			b.Fatal(err)
		}
		t, err := run.NewTrainer(m.Config(base), d, nil, run.Hooks{Targets: []float64{ttaTarget}})
		if err != nil {
			b.Fatal(err)
		}
		defer t.Net.Close()
		ts = append(ts, t)
	}
	secs, samples = make([]float64, len(ts)), make([]float64, len(ts))
	for e := 1; ; e++ {
		running := 0
		for i, t := range ts {
			if samples[i] > 0 {
				continue
			}
			if n := len(t.History); n > 0 && t.History[n-1].SamplesSeen >= ttaSamples {
				b.Fatalf("%s did not reach validation accuracy %.3f within %d samples", ttaMethods[i], ttaTarget, ttaSamples)
			}
			running++
			t.Epochs = e
			if err := t.Run(context.Background()); err != nil {
				b.Fatal(err)
			}
			if h, ok := t.Hit(ttaTarget); ok {
				secs[i], samples[i] = h.TrainSeconds, float64(h.GridSamples)
			}
		}
		if running == 0 {
			return secs, samples
		}
	}
}

// BenchmarkTimeToAccuracy measures the training seconds and samples until
// the MLP reaches 96% validation accuracy on real MNIST (5,000 held out),
// on the evaluation grid every method shares (the default: every 9,152
// samples), for uniform, RS2 (30%) and SGD-S trained from the same weights
// in the same iteration. It reports each method's seconds and samples to
// target and SGD-S's speedups over uniform and over RS2 (their time over
// SGD-S's, summed over iterations). One iteration takes a minute or two:
// use -benchtime 1x or Nx.
func BenchmarkTimeToAccuracy(b *testing.B) {
	d, err := run.LoadData(run.Config{Dataset: "mnist", Val: 5000}, "")
	if err != nil {
		b.Fatalf("real MNIST is required (run ./build.sh): %v", err)
	}
	b.Run("model=mlp", func(b *testing.B) {
		secs, samples := make([]float64, len(ttaMethods)), make([]float64, len(ttaMethods))
		for i := 0; i < b.N; i++ {
			s, n := timeToTargets(b, d, uint64(i+1))
			for k := range s {
				secs[k] += s[k]
				samples[k] += n[k]
			}
		}
		names := []string{"uniform", "rs2", "sgds"}
		N := float64(b.N)
		for k, name := range names {
			b.ReportMetric(secs[k]/N, name+"-s-to-target")
			b.ReportMetric(samples[k]/N, name+"-samples-to-target")
		}
		b.ReportMetric(secs[0]/secs[2], "speedup-vs-uniform")
		b.ReportMetric(secs[1]/secs[2], "speedup-vs-rs2")
		b.ReportMetric(samples[0]/samples[2], "speedup-samples-vs-uniform")
		b.ReportMetric(samples[1]/samples[2], "speedup-samples-vs-rs2")
	})
}
