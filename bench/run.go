// Package bench holds the experiments of sgds as library functions
// (correlate, compare, patterns), their reports and plots. The per-package
// `go test -bench` suites live beside their code; figures are recorded in
// bench/RESULTS.md.
package bench

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/sampler"
)

// RunConfig is the configuration of one training run.
type RunConfig struct {
	Dataset  string  `json:"dataset"`
	Model    string  `json:"model"`
	Device   string  `json:"device"`
	Sampler  string  `json:"sampler"`
	Score    string  `json:"score,omitempty"`
	Epochs   int     `json:"epochs"`
	Batch    int     `json:"batch"`
	LR       float64 `json:"lr"`
	Momentum float64 `json:"momentum"`
	Seed     uint64  `json:"seed"`
	Val      int     `json:"val,omitempty"`
	// Subset, when > 0, trains on the first Subset training images only
	// (after the validation split).
	Subset int `json:"subset,omitempty"`
	// Schedule holds the SGD-S knobs (used when Sampler is "sgds").
	Schedule *sampler.ScheduleConfig `json:"schedule,omitempty"`
}

// Samplers lists the sample orders NewOrder knows.
var Samplers = []string{"uniform", "sequential", "sgds"}

// Validate reports the first invalid setting, naming its flag.
func (c RunConfig) Validate() error {
	if _, err := data.Lookup(c.Dataset); err != nil {
		return fmt.Errorf("--dataset: %w", err)
	}
	if _, err := engine.LookupModel(c.Model); err != nil {
		return fmt.Errorf("--model: %w", err)
	}
	if _, err := engine.LookupBackend(c.Device); err != nil {
		return fmt.Errorf("--device: %w", err)
	}
	switch {
	case c.Epochs <= 0:
		return fmt.Errorf("--epochs must be > 0, got %d", c.Epochs)
	case c.Batch <= 0:
		return fmt.Errorf("--batch must be > 0, got %d", c.Batch)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("--lr must be a positive number, got %v", c.LR)
	case !(c.Momentum >= 0 && c.Momentum < 1):
		return fmt.Errorf("--momentum must be in [0, 1), got %v", c.Momentum)
	case c.Val < 0:
		return fmt.Errorf("--val must be ≥ 0, got %d", c.Val)
	case c.Subset < 0:
		return fmt.Errorf("--subset must be ≥ 0, got %d", c.Subset)
	}
	if _, err := engine.PickScore(engine.StepStats{GradNorms: []float32{}}, c.Score); err != nil {
		return fmt.Errorf("--score: %w", err)
	}
	switch c.Sampler {
	case "uniform", "sequential":
	case "sgds":
		if c.Schedule == nil {
			return fmt.Errorf("--sampler sgds needs a schedule configuration")
		}
		sc := *c.Schedule
		sc.BatchSize = c.Batch
		if err := sc.Validate(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("--sampler: unknown sampler %q (known: %s)", c.Sampler, strings.Join(Samplers, ", "))
	}
	return nil
}

// Data is a loaded data set with an optional validation split.
type Data struct {
	Train, Val, Test *data.Set
}

// LoadData reads a data set and holds out the last val training images as
// a validation set when val > 0. Use Data.Limit for --subset.
func LoadData(name, dir string, val int) (*Data, error) {
	train, test, err := data.Load(name, dir)
	if err != nil {
		return nil, err
	}
	d := &Data{Train: train, Test: test}
	if val > 0 {
		if d.Train, d.Val, err = train.Split(val); err != nil {
			return nil, fmt.Errorf("--val: %w", err)
		}
	}
	return d, nil
}

// Limit keeps only the first n training images (n ≤ 0 keeps all).
func (d *Data) Limit(n int) error {
	if n <= 0 || n == d.Train.N {
		return nil
	}
	head, _, err := d.Train.Split(d.Train.N - n)
	if err != nil || n > d.Train.N {
		return fmt.Errorf("--subset %d: the training set has %d images", n, d.Train.N)
	}
	d.Train = head
	return nil
}

// NewOrder builds the sample order of c over n training samples. Its seed
// is derived from c.Seed so that the order and the weights are independent
// streams of the same seed.
func NewOrder(c RunConfig, n int) (engine.Order, error) {
	seed := c.Seed ^ 0x9e3779b97f4a7c15
	switch c.Sampler {
	case "uniform":
		return sampler.NewShuffled(n, seed)
	case "sequential":
		return sampler.NewSequential(n)
	case "sgds":
		sc := *c.Schedule
		sc.BatchSize = c.Batch
		return sampler.NewSchedule(n, sc, seed)
	}
	return nil, fmt.Errorf("--sampler: unknown sampler %q (known: %s)", c.Sampler, strings.Join(Samplers, ", "))
}

// NewNet builds the Net of c on its device with initial parameters init
// (InitParams of c.Seed when nil).
func NewNet(c RunConfig, init []engine.Param) (engine.Net, error) {
	m, err := engine.LookupModel(c.Model)
	if err != nil {
		return nil, err
	}
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
	Progress engine.Progress
	OnEpoch  func(t *engine.Trainer, m engine.EpochMetrics) error
	OnStep   func(epoch int, indices []int, losses []float32)
	Targets  []float64
}

// NewTrainer builds the Net and the Order of c and a Trainer over d with
// the hooks; the caller must Close the trainer's Net.
func NewTrainer(c RunConfig, d *Data, init []engine.Param, h Hooks) (*engine.Trainer, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	net, err := NewNet(c, init)
	if err != nil {
		return nil, err
	}
	order, err := NewOrder(c, d.Train.N)
	if err != nil {
		net.Close()
		return nil, err
	}
	t := &engine.Trainer{Net: net, Train: d.Train, Test: d.Test, Val: d.Val, Order: order,
		Score: c.Score, Epochs: c.Epochs, Targets: h.Targets, Progress: h.Progress, OnStep: h.OnStep}
	if h.OnEpoch != nil {
		t.OnEpoch = func(m engine.EpochMetrics) error { return h.OnEpoch(t, m) }
	}
	return t, nil
}

// Train builds a trainer for c and trains for c.Epochs on d. It returns the
// trainer (with its History and target Hits) and the Net, which the caller
// must Close.
func Train(ctx context.Context, c RunConfig, d *Data, init []engine.Param, h Hooks) (*engine.Trainer, engine.Net, error) {
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
