package training_test

import (
	"context"
	"math"
	"testing"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/sampler"
	"github.com/sgds/sgds/training"
)

// TestScheduleFactor checks every schedule's rate at known positions.
func TestScheduleFactor(t *testing.T) {
	cases := []struct {
		s    training.LRSchedule
		u    []float64
		want []float64
	}{
		{training.LRSchedule{}, []float64{0, 0.5, 1}, []float64{1, 1, 1}},
		{training.LRSchedule{Kind: "constant", Warmup: 0.1}, []float64{0, 0.05, 0.1, 1}, []float64{0, 0.5, 1, 1}},
		{training.LRSchedule{Kind: "step"}, []float64{0, 0.49, 0.5, 0.74, 0.75, 1}, []float64{1, 1, 0.1, 0.1, 0.01, 0.01}},
		{training.LRSchedule{Kind: "cosine"}, []float64{0, 0.5, 1}, []float64{1, 0.5, 0}},
		{training.LRSchedule{Kind: "linear"}, []float64{0, 0.25, 1, 1.5, -1}, []float64{1, 0.75, 0, 0, 1}},
		{training.LRSchedule{Kind: "linear", Warmup: 0.2}, []float64{0.1, 0.2, 0.6, 1}, []float64{0.5, 1, 0.5, 0}},
		{training.LRSchedule{Kind: "onecycle"}, []float64{0, 0.3, 0.65, 1}, []float64{1.0 / 25, 1, 0.5, 0}},
		{training.LRSchedule{Kind: "cosine", Warmup: 0.5}, []float64{0.25, 0.75}, []float64{0.5, 0.5}},
	}
	for _, c := range cases {
		if err := c.s.Validate(); err != nil {
			t.Fatalf("%+v: %v", c.s, err)
		}
		for i, u := range c.u {
			if got := c.s.Factor(u); math.Abs(got-c.want[i]) > 1e-12 {
				t.Errorf("%+v at %v: %v, want %v", c.s, u, got, c.want[i])
			}
		}
	}
	for _, bad := range []training.LRSchedule{{Kind: "exp"}, {Warmup: 1}, {Warmup: -0.1}, {Warmup: math.NaN()}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// lrNet records the learning rate of every step.
type lrNet struct {
	engine.Net
	lr   float64
	seen []float64
}

func (n *lrNet) SetLR(lr float64) error { n.lr = lr; return n.Net.SetLR(lr) }
func (n *lrNet) Step(b *engine.Batch) (engine.StepStats, error) {
	n.seen = append(n.seen, n.lr)
	return n.Net.Step(b)
}

// TestTrainerScheduleAndBudget: the linear schedule sets lr·(1 − u) before
// every step at u = samples/horizon; a budget of 2.5 epochs' samples ends
// the run inside epoch 3 at exactly that many samples; a run interrupted
// mid-schedule and resumed sets the same rates and ends at the same point.
func TestTrainerScheduleAndBudget(t *testing.T) {
	train, test := subset(t, 256) // 4 batches of 64
	run := func(ctx context.Context, tr *training.Trainer) error { return tr.Run(ctx) }
	newTrainer := func() (*training.Trainer, *lrNet) {
		n := &lrNet{Net: newNet(t, "mlp", 0.1, 64), lr: 0.1}
		order, err := sampler.NewShuffled(train.N, 3)
		if err != nil {
			t.Fatal(err)
		}
		return &training.Trainer{Net: n, Train: train, Test: test, Order: order, Epochs: 100, EvalEvery: 256,
			LR: 0.1, Schedule: training.LRSchedule{Kind: "linear"}, Horizon: 640, Budget: 640}, n
	}
	tr, n := newTrainer()
	if err := run(context.Background(), tr); err != nil {
		t.Fatal(err)
	}
	if len(n.seen) != 10 || tr.Done() != 3 || tr.History[2].SamplesSeen != 640 || tr.History[2].EpochSamples != 128 || !tr.Finished() {
		t.Fatalf("%d steps, %d epochs, history %+v", len(n.seen), tr.Done(), tr.History)
	}
	for i, lr := range n.seen {
		if want := 0.1 * (1 - float64(64*i)/640); math.Abs(lr-want) > 1e-12 {
			t.Errorf("step %d: lr %v, want %v", i, lr, want)
		}
	}
	// Interrupted after step 6 (inside epoch 2), then resumed.
	ctx, cancel := context.WithCancel(context.Background())
	tr2, n2 := newTrainer()
	steps := 0
	tr2.OnStep = func(int, []int, []float32) {
		if steps++; steps == 6 {
			cancel()
		}
	}
	ie, ok := run(ctx, tr2).(*training.InterruptedError)
	if !ok || ie.Partial.Epoch != 2 {
		t.Fatalf("not interrupted inside epoch 2: %v", ie)
	}
	ck, err := tr2.Snapshot("mlp", []byte(`{}`), &ie.Partial)
	if err != nil {
		t.Fatal(err)
	}
	tr3, n3 := newTrainer()
	if err := tr3.Restore(ck); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), tr3); err != nil {
		t.Fatal(err)
	}
	got := append(append([]float64(nil), n2.seen...), n3.seen...)
	if len(got) != len(n.seen) {
		t.Fatalf("resumed run: %d steps, want %d", len(got), len(n.seen))
	}
	for i := range got {
		if got[i] != n.seen[i] {
			t.Errorf("step %d: resumed lr %v, uninterrupted %v", i, got[i], n.seen[i])
		}
	}
	if tr3.History[len(tr3.History)-1].SamplesSeen != 640 {
		t.Errorf("resumed run ended at %d samples", tr3.History[len(tr3.History)-1].SamplesSeen)
	}
}

// TestStaysAbove: a curve that touches a target and falls back counts from
// the point after which it stays at or above it.
func TestStaysAbove(t *testing.T) {
	acc := []float64{0.5, 0.91, 0.88, 0.92, 0.95, 0.93}
	var evals []training.GridEval
	for i, a := range acc {
		a := a
		evals = append(evals, training.GridEval{GridSamples: int64(100 * (i + 1)), SamplesSeen: int64(100 * (i + 1)), Epoch: 1, TestAcc: &a})
	}
	got := training.StaysAbove(evals, []float64{0.9, 0.94, 0.5, 0.99})
	want := []int64{400, 0, 100, 0}
	for i, h := range got {
		if h.GridSamples != want[i] || h.Reached() != (want[i] > 0) {
			t.Errorf("target %v: %+v, want grid point %d", h.Target, h, want[i])
		}
	}
}
