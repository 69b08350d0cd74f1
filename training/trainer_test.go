package training_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/cpu"
	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/engine/enginetest"
	"github.com/sgds/sgds/sampler"
	"github.com/sgds/sgds/training"
)

// subset returns the last n real training images as a small data set.
func subset(t *testing.T, n int) (train, test *data.Set) {
	t.Helper()
	full, testFull := enginetest.MNIST(t)
	_, small, err := full.Split(n)
	if err != nil {
		t.Fatal(err)
	}
	_, smallTest, err := testFull.Split(500)
	if err != nil {
		t.Fatal(err)
	}
	return small, smallTest
}

// recordingOrder is a sequential order in reverse that remembers every
// recorded score by dataset index.
type recordingOrder struct {
	n      int
	scores map[int]float32
	plans  int
	ends   []int
}

func (o *recordingOrder) Plan(epoch int) (sampler.Plan, error) {
	o.plans++
	idx := make([]int, o.n)
	for i := range idx {
		idx[i] = o.n - 1 - i
	}
	return sampler.Plan{Indices: idx}, nil
}

func (o *recordingOrder) Record(indices []int, scores []float32) error {
	for i, k := range indices {
		o.scores[k] = scores[i]
	}
	return nil
}

func (o *recordingOrder) EndEpoch(epoch int) error { o.ends = append(o.ends, epoch); return nil }

func newNet(t *testing.T, model string, lr float64, B int) engine.Net {
	m, _ := engine.LookupModel(model)
	n, err := cpu.Backend{}.New(m, engine.InitParams(m, 1), engine.Config{Batch: B, LR: lr, Momentum: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// TestTrainerRecordsByDatasetIndex checks that the trainer hands each
// sample's loss back at its dataset index, counts samples (including a
// short last batch) and records targets.
func TestTrainerRecordsByDatasetIndex(t *testing.T) {
	train, test := subset(t, 200) // 200 = 3 batches of 64 and one of 8
	net := newNet(t, "mlp", 0.01, 64)
	order := &recordingOrder{n: train.N, scores: map[int]float32{}}
	var stepIdx [][]int
	var stepLoss [][]float32
	tr := &training.Trainer{Net: net, Train: train, Test: test, Order: order, Epochs: 2, Targets: []float64{0.01, 1},
		OnStep: func(epoch int, idx []int, l []float32) {
			if epoch == 2 {
				stepIdx = append(stepIdx, append([]int(nil), idx...))
				stepLoss = append(stepLoss, append([]float32(nil), l...))
			}
		}}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(order.scores) != 200 || order.plans != 2 || len(order.ends) != 2 {
		t.Fatalf("scores %d, plans %d, ends %v", len(order.scores), order.plans, order.ends)
	}
	if len(stepIdx) != 4 || len(stepIdx[3]) != 8 {
		t.Fatalf("steps %d, last batch %d rows", len(stepIdx), len(stepIdx[len(stepIdx)-1]))
	}
	for s := range stepIdx {
		for i, k := range stepIdx[s] {
			if order.scores[k] != stepLoss[s][i] {
				t.Fatalf("sample %d: recorded %v, step loss %v", k, order.scores[k], stepLoss[s][i])
			}
		}
	}
	if h := tr.History[1]; h.SamplesSeen != 400 || h.EpochSamples != 200 || h.TrainSeconds <= tr.History[0].TrainSeconds {
		t.Fatalf("metrics %+v", h)
	}
	if _, ok := tr.Hit(0.01); !ok {
		t.Fatal("target 0.01 not recorded")
	}
	if _, ok := tr.Hit(1); ok {
		t.Fatal("target 1 recorded")
	}
}

// TestTrainerLockstepEqualsOneRun advances one trainer an epoch at a time
// and another in one call: same losses.
func TestTrainerLockstepEqualsOneRun(t *testing.T) {
	train, test := subset(t, 256)
	run := func(stepwise bool) []training.EpochMetrics {
		o, _ := sampler.NewShuffled(train.N, 9)
		tr := &training.Trainer{Net: newNet(t, "mlp", 0.01, 64), Train: train, Test: test, Order: o}
		if stepwise {
			for e := 1; e <= 3; e++ {
				tr.Epochs = e
				if err := tr.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
		} else {
			tr.Epochs = 3
			if err := tr.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		return tr.History
	}
	a, b := run(true), run(false)
	for e := range a {
		if a[e].TrainLoss != b[e].TrainLoss || a[e].TestLoss != b[e].TestLoss {
			t.Fatalf("epoch %d differs: %+v vs %+v", e+1, a[e], b[e])
		}
	}
}

// TestTrainerDiverges uses an absurd learning rate and expects ErrDiverged
// naming the epoch and step.
func TestTrainerDiverges(t *testing.T) {
	train, test := subset(t, 640)
	o, _ := sampler.NewSequential(train.N)
	tr := &training.Trainer{Net: newNet(t, "mlp", 1e6, 64), Train: train, Test: test, Order: o, Epochs: 3}
	err := tr.Run(context.Background())
	if !errors.Is(err, training.ErrDiverged) {
		t.Fatalf("err = %v, want ErrDiverged", err)
	}
	t.Log(err)
}

// TestTrainerStopsOnCancel cancels before the first step.
func TestTrainerStopsOnCancel(t *testing.T) {
	train, test := subset(t, 128)
	o, _ := sampler.NewSequential(train.N)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tr := &training.Trainer{Net: newNet(t, "mlp", 0.01, 64), Train: train, Test: test, Order: o, Epochs: 1}
	if err := tr.Run(ctx); !errors.Is(err, context.Canceled) || len(tr.History) != 0 {
		t.Fatalf("err = %v, history %d", err, len(tr.History))
	}
}

// stepNet counts steps and reports accuracy steps/scale from Evaluate, so
// that the step at which a target is reached is known.
type stepNet struct {
	engine.Net
	steps, scale int
	evals        int
}

func (n *stepNet) Step(b *engine.Batch) (engine.StepStats, error) {
	n.steps++
	return n.Net.Step(b)
}

func (n *stepNet) Evaluate(set *data.Set) (float64, float64, error) {
	n.evals++
	return float64(n.steps) / float64(n.scale), 1, nil
}

func TestDefaultEvalEvery(t *testing.T) {
	for _, c := range []struct{ n, B, want int }{{60000, 64, 9984}, {55000, 64, 9152}, {60000, 128, 9984}, {100, 64, 64}, {6, 1, 1}} {
		if got := training.DefaultEvalEvery(c.n, c.B); got != c.want {
			t.Errorf("DefaultEvalEvery(%d, %d) = %d, want %d", c.n, c.B, got, c.want)
		}
	}
}

// TestGridFindsTargetBetweenEpochEnds trains 2 epochs of 10 steps, with
// accuracy steps/20 and a grid every 2 steps: target 0.3 is reached after
// step 6 (grid point 384, epoch 1) and 0.75 at grid point 1024 (step 16,
// epoch 2), both between epoch ends; a target reached only at the
// epoch end is found on the grid point there.
func TestGridFindsTargetBetweenEpochEnds(t *testing.T) {
	train, test := subset(t, 640)
	net := &stepNet{Net: newNet(t, "mlp", 0.01, 64), scale: 20}
	o, _ := sampler.NewShuffled(train.N, 1)
	tr := &training.Trainer{Net: net, Train: train, Test: test, Order: o, Epochs: 2, EvalEvery: 128, Targets: []float64{0.3, 0.75, 1, 1.5}}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(tr.Evals) != 10 {
		t.Fatalf("%d grid evaluations, want 10", len(tr.Evals))
	}
	for k, e := range tr.Evals {
		g := int64(128 * (k + 1))
		if e.GridSamples != g || e.SamplesSeen != g || e.TestAcc == nil || e.ValAcc != nil || *e.TestAcc != float64(2*(k+1))/20 {
			t.Fatalf("evaluation %d: %+v, want grid point %d", k, e, g)
		}
		if k > 0 && e.TrainSeconds < tr.Evals[k-1].TrainSeconds {
			t.Fatalf("training time decreases at evaluation %d", k)
		}
	}
	want := []training.TargetHit{
		{Target: 0.3, Epoch: 1, GridSamples: 384, SamplesSeen: 384},
		{Target: 0.75, Epoch: 2, GridSamples: 1024, SamplesSeen: 1024},
		{Target: 1, Epoch: 2, GridSamples: 1280, SamplesSeen: 1280},
		{Target: 1.5},
	}
	got := tr.TargetHits()
	for i := range want {
		g := got[i]
		g.TrainSeconds = 0
		if g != want[i] {
			t.Fatalf("target %v: %+v, want %+v", want[i].Target, got[i], want[i])
		}
	}
	if h := got[0]; h.TrainSeconds <= 0 || h.TrainSeconds > tr.History[0].TrainSeconds {
		t.Fatalf("time to 0.3 is %v s, epoch 1 took %v s", h.TrainSeconds, tr.History[0].TrainSeconds)
	}
	if got[2].TrainSeconds != tr.Evals[9].TrainSeconds {
		t.Fatalf("time to 1 is %v, the last grid point's %v", got[2].TrainSeconds, tr.Evals[9].TrainSeconds)
	}
	b, _ := json.Marshal(got[3])
	if string(b) != `{"target":1.5,"reached":false}` {
		t.Fatalf("unreached target marshals as %s", b)
	}
}

// TestGridSameForEveryOrder trains a full-data order and an RS2 order of
// 37% (short last batches, so samples seen drift off multiples of the
// batch) with a grid step that is not a multiple of the batch: both are
// evaluated at the same grid points k·100, at the first step boundary at
// or after each, on the validation set when there is one.
func TestGridSameForEveryOrder(t *testing.T) {
	train, test := subset(t, 700)
	train, val, err := train.Split(100)
	if err != nil {
		t.Fatal(err)
	}
	full, _ := sampler.NewShuffled(train.N, 1)
	rs2, _ := sampler.NewRS2(train.N, 0.37, 1)
	var grids [][]int64
	for _, o := range []sampler.Order{full, rs2} {
		tr := &training.Trainer{Net: newNet(t, "mlp", 0.01, 64), Train: train, Val: val, Test: test, Order: o, Epochs: 2, EvalEvery: 100}
		if err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		var g []int64
		for k, e := range tr.Evals {
			if e.GridSamples != int64(100*(k+1)) || e.SamplesSeen < e.GridSamples || e.SamplesSeen >= e.GridSamples+64 || e.ValAcc == nil || e.TestAcc != nil {
				t.Fatalf("evaluation %d: %+v", k, e)
			}
			g = append(g, e.GridSamples)
		}
		if last := tr.History[1].SamplesSeen; int64(len(g)) != last/100 {
			t.Fatalf("%d grid points for %d samples", len(g), last)
		}
		grids = append(grids, g)
	}
	for k := range grids[1] {
		if grids[0][k] != grids[1][k] {
			t.Fatalf("grid point %d: %d vs %d", k, grids[0][k], grids[1][k])
		}
	}
}

// TestGridResumes interrupts a run inside its second epoch, restores it
// from the checkpoint with the evaluations so far, and expects the same
// grid (points, samples, accuracies) as an uninterrupted run.
func TestGridResumes(t *testing.T) {
	train, test := subset(t, 640)
	newTrainer := func() *training.Trainer {
		o, _ := sampler.NewShuffled(train.N, 3)
		return &training.Trainer{Net: newNet(t, "mlp", 0.01, 64), Train: train, Test: test, Order: o, Epochs: 3, EvalEvery: 192}
	}
	ref := newTrainer()
	if err := ref.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := newTrainer()
	a.OnStep = func(epoch int, _ []int, _ []float32) {
		if epoch == 2 && len(a.Evals) == 4 {
			cancel()
		}
	}
	var ie *training.InterruptedError
	if err := a.Run(ctx); !errors.As(err, &ie) {
		t.Fatalf("err = %v, want an interruption", err)
	}
	ck, err := a.Snapshot("mlp", nil, &ie.Partial)
	if err != nil {
		t.Fatal(err)
	}
	b := newTrainer()
	if err := b.Restore(ck); err != nil {
		t.Fatal(err)
	}
	b.ResumeEvals(a.Evals)
	if err := b.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(b.Evals) != len(ref.Evals) {
		t.Fatalf("%d evaluations after resuming, %d without interruption", len(b.Evals), len(ref.Evals))
	}
	for k := range ref.Evals {
		r, g := ref.Evals[k], b.Evals[k]
		if r.GridSamples != g.GridSamples || r.SamplesSeen != g.SamplesSeen || r.Epoch != g.Epoch || *r.TestAcc != *g.TestAcc || *r.TestLoss != *g.TestLoss {
			t.Fatalf("evaluation %d: %+v after resuming, %+v without interruption", k, g, r)
		}
	}
}
