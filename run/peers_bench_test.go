package run

import (
	"context"
	"fmt"
	"testing"

	"github.com/sgds/sgds/training"
)

// peerBenchMethods are the methods BenchmarkPeerStep times beside a plain
// (uniform) step.
var peerBenchMethods = []string{"uniform", "sgds", "infobatch", "selective-backprop", "kf-is", "kakurenbo"}

// BenchmarkPeerStep states each peer's cost per backpropagated step
// beyond a plain step, in one run: each method's epochs through the
// Trainer (forward-only passes, presampling, scoring, selection, refresh
// included; evaluation excluded) alternate with uniform epochs (the plain
// step: gather, forward and backward, update) from the same weights,
// after one untimed warm-up epoch of each so that the score-driven
// methods have scores. Reported per method:
//
//	us/step   training time per B samples trained on (backward samples)
//	overhead  us/step over the plain step's
//	fwd/bwd   samples forwarded per sample trained on
//
// One iteration is one timed epoch of each over the subset (1280 images for the
// CNN, 3200 for the MLP); run with -benchtime 1x..3x.
func BenchmarkPeerStep(b *testing.B) {
	for _, model := range []string{"mlp", "cnn"} {
		base := validConfig()
		base.Sampler, base.Schedule, base.Model, base.Epochs = "", nil, model, 1000
		base.Subset, base.EvalEvery = 3200, MaxEvalEvery
		if model == "cnn" {
			base.Subset = 1280
		}
		d, err := LoadData(base, "")
		if err != nil {
			b.Fatal(err)
		}
		if _, d.Test, err = d.Test.Split(100); err != nil {
			b.Fatal(err)
		}
		newTrainer := func(tb testing.TB, spec string) *training.Trainer {
			m, err := ParseMethod(spec, base, nil)
			if err != nil {
				tb.Fatal(err)
			}
			t, err := NewTrainer(m.Config(base), d, nil, Hooks{})
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { t.Net.Close() })
			return t
		}
		// epochs trains n more epochs and returns their training seconds,
		// forward and backward samples.
		epochs := func(tb testing.TB, t *training.Trainer, n int) (secs float64, fwd, bwd int64) {
			var s0 float64
			var f0, b0 int64
			if h := t.History; len(h) > 0 {
				s0, f0, b0 = h[len(h)-1].TrainSeconds, h[len(h)-1].ForwardSamples, h[len(h)-1].BackwardSamples
			}
			t.Epochs = t.Done() + n
			if err := t.Run(context.Background()); err != nil {
				tb.Fatal(err)
			}
			e := t.History[len(t.History)-1]
			return e.TrainSeconds - s0, e.ForwardSamples - f0, e.BackwardSamples - b0
		}
		B := float64(base.Batch)
		for _, spec := range peerBenchMethods {
			b.Run(fmt.Sprintf("method=%s/model=%s", spec, model), func(b *testing.B) {
				plain, t := newTrainer(b, "uniform"), newTrainer(b, spec)
				epochs(b, plain, 1)
				epochs(b, t, 1)
				b.ResetTimer()
				var ps, s float64
				var pb, f, bw int64
				for range b.N { // alternate, so that machine noise hits both alike
					x, _, y := epochs(b, plain, 1)
					ps, pb = ps+x, pb+y
					x, z, y := epochs(b, t, 1)
					s, f, bw = s+x, f+z, bw+y
				}
				step := s / (float64(bw) / B)
				b.ReportMetric(step*1e6, "us/step")
				b.ReportMetric(step/(ps/(float64(pb)/B)), "overhead")
				b.ReportMetric(float64(f)/float64(bw), "fwd/bwd")
			})
		}
	}
}
