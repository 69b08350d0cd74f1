package run

import (
	"context"
	"errors"
	"fmt"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/sampler"
	"github.com/sgds/sgds/training"
)

// Data is a loaded data set with an optional validation split.
type Data struct {
	Train, Val, Test *data.Set
}

// LoadData reads the data set of c from dir (see data.Locate for an empty
// dir) and keeps the training images c selects: the last c.Val as the
// validation set when c.Val > 0, and only the first c.Subset of the rest
// when c.Subset > 0; and only the first c.TestSubset test images when
// c.TestSubset > 0.
func LoadData(c Config, dir string) (*Data, error) {
	train, test, err := data.LoadWith(c.Dataset, dir, data.Options{Val: c.Val, Subset: c.Subset})
	if err != nil {
		if dir != "" && c.Dataset != data.Custom && (errors.Is(err, data.ErrCorruptData) || errors.Is(err, data.ErrUnsupported)) {
			// Files of another shape or classes read as the named set:
			// most likely the user's own data without --dataset idx.
			return nil, fmt.Errorf("%w (--data %s was read as %s; if it holds your own data set, add --dataset idx)", err, dir, c.Dataset)
		}
		return nil, err
	}
	d := &Data{Train: train, Test: test}
	switch {
	case c.TestSubset > test.N:
		return nil, fmt.Errorf("--test-subset %d: the test set of %s has %d images", c.TestSubset, c.Dataset, test.N)
	case c.TestSubset > 0 && c.TestSubset < test.N:
		if d.Test, _, err = test.Split(test.N - c.TestSubset); err != nil {
			return nil, fmt.Errorf("--test-subset: %w", err)
		}
	}
	if c.Val > 0 {
		if d.Train, d.Val, err = train.Split(c.Val); err != nil {
			return nil, fmt.Errorf("--val: %w", err)
		}
	}
	return d, nil
}

// orderStream maps Config.OrderSeed to the bits it flips in the order's
// seeds: 0 for 0 (the orders of every earlier run stay as they were),
// else a SplitMix64 finalizer of it, so that neighbouring order seeds
// give unrelated streams.
func orderStream(o uint64) uint64 {
	if o == 0 {
		return 0
	}
	o += 0x9e3779b97f4a7c15
	o = (o ^ o>>30) * 0xbf58476d1ce4e5b9
	o = (o ^ o>>27) * 0x94d049bb133111eb
	return o ^ o>>31
}

// NewOrder builds the sample order of c over n training samples (the
// descriptor of c.Sampler in Methods), with c's settings (the sampler's
// defaults where nil). Its seed is derived from c.Seed so that the order
// and the weights are independent streams of the same seed; the peers' own
// draws (selections, importance draws) use a stream apart from the
// shuffles of their candidates.
func NewOrder(c Config, n int) (sampler.Order, error) {
	d, err := Lookup(c.Sampler)
	if err != nil {
		return nil, fmt.Errorf("--sampler: %w", err)
	}
	c.Sampling = c.Sampling.Clone()
	c.Epochs = c.PlannedEpochs()
	d.Ensure(&c.Sampling)
	c.bind()
	seed := c.Seed ^ 0x9e3779b97f4a7c15 ^ orderStream(c.OrderSeed)
	draw := c.Seed ^ 0x6a09e667f3bcc909 ^ orderStream(c.OrderSeed)
	return d.order(c, n, seed, draw)
}

// NewNet builds the Net of c's model for MNIST-sized data (28×28 images,
// 10 classes: engine.LookupModel) on its device with initial parameters
// init (engine.InitParams of c.Seed when nil). NewNetFor sizes the model
// from the data set.
func NewNet(c Config, init []engine.Param) (engine.Net, error) {
	m, err := engine.LookupModel(c.Model)
	if err != nil {
		return nil, err
	}
	return newNet(c, m, init)
}

// newNet builds model m on c's device.
func newNet(c Config, m engine.ModelSpec, init []engine.Param) (engine.Net, error) {
	b, err := engine.LookupBackend(c.Device)
	if err != nil {
		return nil, err
	}
	if init == nil {
		init = engine.InitParams(m, c.Seed)
	}
	return b.New(m, init, engine.Config{Batch: c.Batch, LR: c.LR, Momentum: c.Momentum, GradNorms: c.Score == "gradnorm"})
}

// Hooks are optional callbacks of a training run.
type Hooks struct {
	Progress training.Progress
	OnEpoch  func(t *training.Trainer, m training.EpochMetrics) error
	OnStep   func(epoch int, indices []int, losses []float32)
	Targets  []float64
}

// NewTrainer validates c, builds its Net sized for d (NewNetFor: from
// init, or from c.Seed when init is nil) and its Order, and returns a
// Trainer over d with the hooks; the caller must Close the trainer's Net.
func NewTrainer(c Config, d *Data, init []engine.Param, h Hooks) (*training.Trainer, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	net, err := NewNetFor(c, d, init)
	if err != nil {
		return nil, err
	}
	order, err := NewOrder(c, d.Train.N)
	if err != nil {
		net.Close()
		return nil, err
	}
	t := &training.Trainer{Net: net, Train: d.Train, Test: d.Test, Val: d.Val, Order: order,
		Score: c.Score, Epochs: c.Epochs, EvalEvery: c.EvalEvery, Targets: h.Targets, Progress: h.Progress, OnStep: h.OnStep,
		LR: c.LR, Schedule: training.LRSchedule{Kind: c.LRSchedule, Warmup: c.Warmup}, Horizon: c.Units(d.Train.N)}
	if c.Budget > 0 {
		t.Budget, t.Epochs = c.Units(d.Train.N), training.MaxBudgetEpochs
	}
	if h.OnEpoch != nil {
		t.OnEpoch = func(m training.EpochMetrics) error { return h.OnEpoch(t, m) }
	}
	return t, nil
}

// Train builds a trainer for c and trains for c.Epochs on d. It returns the
// trainer (with its History and target Hits) and the Net, which the caller
// must Close.
func Train(ctx context.Context, c Config, d *Data, init []engine.Param, h Hooks) (*training.Trainer, engine.Net, error) {
	t, err := NewTrainer(c, d, init, h)
	if err != nil {
		return nil, nil, err
	}
	if err := t.Run(ctx); err != nil {
		t.Net.Close()
		return t, nil, err
	}
	return t, t.Net, nil
}

// EpochLine is the one-line report of an epoch of a run of epochs epochs.
func EpochLine(e training.EpochMetrics, epochs int) string {
	s := fmt.Sprintf("epoch %2d/%d  train_loss %.4f  test_acc %.4f", e.Epoch, epochs, e.TrainLoss, e.TestAcc)
	if e.ValAcc != nil {
		s += fmt.Sprintf("  val_acc %.4f", *e.ValAcc)
	}
	if e.Kept != nil {
		s += fmt.Sprintf("  kept %5d", *e.Kept)
	}
	s += fmt.Sprintf("  train %6.1fs  samples %d", e.TrainSeconds, e.SamplesSeen)
	if e.ForwardSamples > e.SamplesSeen {
		s += fmt.Sprintf("  forward %d", e.ForwardSamples)
	}
	return s
}
