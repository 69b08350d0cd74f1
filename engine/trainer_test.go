package engine_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/cpu"
	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/engine/enginetest"
	"github.com/sgds/sgds/sampler"
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

func (o *recordingOrder) Record(indices []int, scores []float32) {
	for i, k := range indices {
		o.scores[k] = scores[i]
	}
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
	tr := &engine.Trainer{Net: net, Train: train, Test: test, Order: order, Epochs: 2, Targets: []float64{0.01, 1},
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
	run := func(stepwise bool) []engine.EpochMetrics {
		o, _ := sampler.NewShuffled(train.N, 9)
		tr := &engine.Trainer{Net: newNet(t, "mlp", 0.01, 64), Train: train, Test: test, Order: o}
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
	tr := &engine.Trainer{Net: newNet(t, "mlp", 1e6, 64), Train: train, Test: test, Order: o, Epochs: 3}
	err := tr.Run(context.Background())
	if !errors.Is(err, engine.ErrDiverged) {
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
	tr := &engine.Trainer{Net: newNet(t, "mlp", 0.01, 64), Train: train, Test: test, Order: o, Epochs: 1}
	if err := tr.Run(ctx); !errors.Is(err, context.Canceled) || len(tr.History) != 0 {
		t.Fatalf("err = %v, history %d", err, len(tr.History))
	}
}
