package run

import (
	"fmt"
	"math"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/internal/limits"
	"github.com/sgds/sgds/training"
)

// Config is the configuration of one training run. Its JSON form is the
// "config" of summary.json and part of every checkpoint.
type Config struct {
	Dataset string `json:"dataset"`
	Model   string `json:"model"`
	Device  string `json:"device"`
	// Sampling is the sampler and its settings (Methods).
	Sampling
	Epochs   int     `json:"epochs"`
	Batch    int     `json:"batch"`
	LR       float64 `json:"lr"`
	Momentum float64 `json:"momentum"`
	Seed     uint64  `json:"seed"`
	// LRSchedule and Warmup are the learning-rate schedule over the run's
	// budget (training.LRSchedule; "" is constant); LR is its peak.
	LRSchedule string  `json:"lr_schedule,omitempty"`
	Warmup     float64 `json:"warmup,omitempty"`
	// Budget > 0 ends the run once it has spent Budget·Epochs·N units
	// (training.Spent: samples trained on, plus forward-only samples at
	// training.ForwardCost); the schedule spans that budget and the sampler
	// plans PlannedEpochs. 0: Epochs epochs, the schedule over Epochs·N.
	Budget float64 `json:"budget,omitempty"`
	// OrderSeed ≠ 0 draws the sample order (and a sampler's own random
	// draws) from another stream while the initial weights stay those of
	// Seed: two runs that differ only in OrderSeed measure how far the
	// data order alone moves a method (the noise floor of a comparison).
	OrderSeed uint64 `json:"order_seed,omitempty"`
	// Val > 0 holds out the last Val training images as a validation set.
	Val int `json:"val,omitempty"`
	// Subset > 0 trains on the first Subset training images only (besides
	// the validation split).
	Subset int `json:"subset,omitempty"`
	// TestSubset > 0 evaluates on the first TestSubset test images only
	// (quick runs, tests); 0 evaluates on the whole test set.
	TestSubset int `json:"test_subset,omitempty"`
	// EvalEvery is the step of the evaluation grid in samples
	// (training.Trainer.EvalEvery): 0 for the default (the largest multiple
	// of the batch that is at most a sixth of the training set), else at
	// least the batch size.
	EvalEvery int `json:"eval_every,omitempty"`
}

// MaxEvalEvery bounds EvalEvery (2^40 samples).
const MaxEvalEvery = 1 << 40

// MaxBudget bounds Budget.
const MaxBudget = 100

// PlannedEpochs is the epochs c's sampler plans: Epochs, or with a budget
// ⌈Budget·Epochs⌉ (a method that trains on fewer samples per epoch goes on
// past them until its budget is spent).
func (c Config) PlannedEpochs() int {
	if c.Budget <= 0 {
		return c.Epochs
	}
	return max(1, int(math.Ceil(c.Budget*float64(c.Epochs)-1e-9)))
}

// Units is the budget in units (training.Spent) of c on n training samples:
// Budget·Epochs·n, or Epochs·n without a budget (the schedule's horizon).
func (c Config) Units(n int) float64 {
	f := c.Budget
	if f <= 0 {
		f = 1
	}
	return f * float64(c.Epochs) * float64(n)
}

// Complete reports whether a run of c on n samples with this history is
// over: Epochs done, or its budget spent.
func (c Config) Complete(history []training.EpochMetrics, n int) bool {
	if len(history) == 0 {
		return false
	}
	last := history[len(history)-1]
	if c.Budget > 0 {
		return training.Spent(last.SamplesSeen, last.ForwardSamples, training.ForwardCost) >= c.Units(n)
	}
	return last.Epoch >= c.Epochs
}

// MaxEpochs bounds Epochs.
const MaxEpochs = 100_000

// Validate reports the first invalid setting, naming its flag. The rules
// are those of the packages that use the settings (engine.Config for the
// optimiser, sampler.ScheduleConfig for the SGD-S knobs), checked one
// setting at a time so that the error names the flag, and the bounds of
// what a run allocates or loops over: Epochs at most MaxEpochs, and the
// batch's buffers within the memory budget (internal/limits) before
// anything is allocated. Val and Subset are checked against the data set
// by LoadData.
func (c Config) Validate() error {
	if _, err := data.Lookup(c.Dataset); err != nil {
		return fmt.Errorf("--dataset: %w", err)
	}
	model, err := engine.LookupModel(c.Model)
	if err != nil {
		return fmt.Errorf("--model: %w", err)
	}
	if _, err := engine.LookupBackend(c.Device); err != nil {
		return fmt.Errorf("--device: %w", err)
	}
	if c.Epochs < 1 || c.Epochs > MaxEpochs {
		return fmt.Errorf("--epochs must be in [1, %d], got %d", MaxEpochs, c.Epochs)
	}
	valid := engine.Config{Batch: 1, LR: 0.01}
	for _, s := range []struct {
		flag string
		set  func(*engine.Config)
	}{
		{"batch", func(e *engine.Config) { e.Batch = c.Batch }},
		{"lr", func(e *engine.Config) { e.LR = c.LR }},
		{"momentum", func(e *engine.Config) { e.Momentum = c.Momentum }},
	} {
		e := valid
		s.set(&e)
		if err := e.Validate(); err != nil {
			return fmt.Errorf("--%s: %w", s.flag, err)
		}
	}
	if err := limits.Check("--batch", int64(c.Batch), engine.BatchBytesPerSample(model)); err != nil {
		return err
	}
	if _, err := engine.PickScore(engine.StepStats{GradNorms: []float32{}}, c.Score); err != nil {
		return fmt.Errorf("--score: %w", err)
	}
	if err := (training.LRSchedule{Kind: c.LRSchedule}).Validate(); err != nil {
		return fmt.Errorf("--schedule: %w", err)
	}
	if err := (training.LRSchedule{Warmup: c.Warmup}).Validate(); err != nil {
		return fmt.Errorf("--warmup: %w", err)
	}
	if !(c.Budget >= 0 && c.Budget <= MaxBudget) {
		return fmt.Errorf("--budget must be 0 (no budget: train --epochs epochs) or in (0, %d], a share of epochs × training samples, got %v", MaxBudget, c.Budget)
	}
	if c.TestSubset < 0 {
		return fmt.Errorf("--test-subset must be ≥ 0 (0: the whole test set), got %d", c.TestSubset)
	}
	if c.EvalEvery != 0 && (c.EvalEvery < c.Batch || c.EvalEvery > MaxEvalEvery) {
		return fmt.Errorf("--eval-every must be 0 (the default grid) or in [batch %d, %d] samples, got %d", c.Batch, int64(MaxEvalEvery), c.EvalEvery)
	}
	d, err := Lookup(c.Sampler)
	if err != nil {
		return fmt.Errorf("--sampler: %w", err)
	}
	if c.Sampler != "sgds" && c.Score != "" && c.Score != "loss" {
		return fmt.Errorf("--score %s: the %s sampler does not draw by a score; --score is the sgds sampler's", c.Score, c.Sampler)
	}
	return d.validate(c)
}

// ResolveDevice replaces a device alias ("auto") by the name of the
// backend it selects here, so that the configuration a run records (in
// summary.json and its checkpoints) names the backend actually used; for
// the same reason it sets the settings of the sampler, where nil, to the
// sampler's defaults (Defaults).
func (c *Config) ResolveDevice() error {
	b, err := engine.LookupBackend(c.Device)
	if err != nil {
		return fmt.Errorf("--device: %w", err)
	}
	c.Device = b.Name()
	c.Defaults()
	return nil
}

// Defaults sets the settings of c's sampler, where c carries none, to the
// sampler's defaults.
func (c *Config) Defaults() {
	if d, err := Lookup(c.Sampler); err == nil {
		d.Ensure(&c.Sampling)
	}
}

// bind fills the run-derived fields of c's sampler settings (batch,
// epochs) from c.
func (c *Config) bind() {
	if d, err := Lookup(c.Sampler); err == nil && d.bind != nil && d.Present(&c.Sampling) {
		d.bind(c)
	}
}
