package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/sampler"
)

// Order chooses, epoch by epoch, which samples are visited and with which
// cost weights, and learns from the per-sample scores of every step. The
// sampler package implements it (Sequential, Shuffled, Schedule).
type Order interface {
	// Plan returns the dataset indices of epoch e (1-based) in visiting
	// order, and optional per-position cost weights (nil means 1/B).
	Plan(epoch int) (sampler.Plan, error)
	// Record stores the scores of one step at their dataset indices.
	Record(indices []int, scores []float32)
	// EndEpoch lets the order update itself after epoch e.
	EndEpoch(epoch int) error
}

// Progress receives training progress; the command line draws a bar.
type Progress interface {
	StartEpoch(epoch, samples int)
	Advance(samples int)
	EndEpoch()
}

// EpochMetrics is one line of metrics.jsonl.
type EpochMetrics struct {
	Epoch     int      `json:"epoch"`
	TrainLoss float64  `json:"train_loss"` // mean L_i over this epoch's drawn samples, from their forward passes
	TestAcc   float64  `json:"test_acc"`
	TestLoss  float64  `json:"test_loss"`
	ValAcc    *float64 `json:"val_acc,omitempty"`
	ValLoss   *float64 `json:"val_loss,omitempty"`
	// TrainSeconds and SamplesSeen are cumulative over the run; evaluation
	// time is excluded.
	TrainSeconds float64 `json:"train_seconds"`
	SamplesSeen  int64   `json:"samples_seen"`
	EpochSamples int     `json:"epoch_samples"`
	EvalSeconds  float64 `json:"eval_seconds"`
	// Order statistics, when the order reports them.
	Kept     *int `json:"kept,omitempty"`
	Distinct *int `json:"distinct,omitempty"`
}

// TargetHit records when an accuracy target was first reached.
type TargetHit struct {
	Target       float64 `json:"target"`
	Epoch        int     `json:"epoch"`
	TrainSeconds float64 `json:"train_seconds"`
	SamplesSeen  int64   `json:"samples_seen"`
}

// StatsReporter is implemented by orders that report kept-set statistics.
type StatsReporter interface {
	Stats() sampler.Stats
}

// ErrDiverged reports a NaN or infinite loss.
var ErrDiverged = errors.New("training diverged")

// Trainer runs epochs of a Net over a training set in the order an Order
// chooses, evaluating after every epoch.
type Trainer struct {
	Net   Net
	Train *data.Set
	Test  *data.Set
	Val   *data.Set // optional; targets use it when present
	Order Order
	// Score names the per-sample score recorded into the Order: "loss"
	// (default), "lastlayer" or "gradnorm" (the Net must compute norms).
	Score string
	// Epochs is the last epoch Run trains; Run may be called again after
	// raising it (to advance several trainers in lockstep).
	Epochs int
	// Targets are accuracies (on Val if set, else Test) whose first epoch,
	// time and samples are recorded.
	Targets  []float64
	Progress Progress
	// OnEpoch is called after every epoch with its metrics (for writing
	// metrics.jsonl and checkpoints); an error stops training.
	OnEpoch func(EpochMetrics) error
	// OnStep, when set, is called after every step with the step's indices
	// and losses (for analyses such as the patterns experiment).
	OnStep func(epoch int, indices []int, losses []float32)

	Hits    []TargetHit
	History []EpochMetrics

	done    int     // epochs completed
	seconds float64 // cumulative training seconds
	seen    int64   // cumulative samples
	batch   *Batch
	partial *PartialEpoch // an interrupted epoch to finish first
	bound   bool          // the training set was handed to the Net
}

// InterruptedError is returned by Run when its context is cancelled between
// two steps; Partial holds what a checkpoint needs to finish the epoch.
type InterruptedError struct {
	Partial PartialEpoch
	Err     error
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("interrupted in epoch %d after %d steps: %v", e.Partial.Epoch, e.Partial.Steps, e.Err)
}

func (e *InterruptedError) Unwrap() error { return e.Err }

// Resume makes the next Run continue after epoch done, with the cumulative
// training seconds and samples of the epochs before it and their history.
func (t *Trainer) Resume(history []EpochMetrics, hits []TargetHit) {
	t.History = append([]EpochMetrics(nil), history...)
	t.Hits = append([]TargetHit(nil), hits...)
	t.done, t.seconds, t.seen = 0, 0, 0
	if n := len(history); n > 0 {
		t.done, t.seconds, t.seen = history[n-1].Epoch, history[n-1].TrainSeconds, history[n-1].SamplesSeen
	}
}

// Done returns the number of completed epochs.
func (t *Trainer) Done() int { return t.done }

// Run trains until Epochs are done or ctx is cancelled (checked between
// steps; the epoch in progress is then abandoned and ctx.Err returned).
func (t *Trainer) Run(ctx context.Context) error {
	if t.Net == nil || t.Train == nil || t.Test == nil || t.Order == nil {
		return errors.New("trainer: Net, Train, Test and Order are required")
	}
	spec := t.Net.Spec()
	p := spec.InputSize()
	if t.Train.Pixels() != p {
		return fmt.Errorf("trainer: %s has %d values per image, model %s wants %d", t.Train.Name, t.Train.Pixels(), spec.Name, p)
	}
	if b, ok := t.Net.(interface{ BindTrain(*data.Set) error }); ok && !t.bound {
		// Backends that keep the training set on their device upload it once.
		if err := b.BindTrain(t.Train); err != nil {
			return fmt.Errorf("trainer: %w", err)
		}
		t.bound = true
	}
	B := t.Net.BatchSize()
	if t.batch == nil {
		t.batch = NewBatch(B, p)
	}
	batch := t.batch
	for epoch := t.done + 1; epoch <= t.Epochs; epoch++ {
		if err := t.runEpoch(ctx, epoch, batch); err != nil {
			return err
		}
	}
	return nil
}

// runEpoch trains, evaluates and reports one epoch.
func (t *Trainer) runEpoch(ctx context.Context, epoch int, batch *Batch) error {
	B := len(batch.Labels)
	var (
		plan    sampler.Plan
		err     error
		pos0    int
		steps0  int
		lossSum float64
		prior   float64
	)
	var stats *sampler.Stats // the order's statistics of this epoch's plan
	if p := t.partial; p != nil && p.Epoch == epoch {
		plan, pos0, steps0, lossSum, prior, stats = p.Plan, p.Pos, p.Steps, p.LossSum, p.Seconds, p.Stats
		t.partial = nil
	} else {
		if plan, err = t.Order.Plan(epoch); err != nil {
			return fmt.Errorf("epoch %d: %w", epoch, err)
		}
		if sr, ok := t.Order.(StatsReporter); ok {
			st := sr.Stats()
			stats = &st
		}
	}
	if plan.Weights != nil && len(plan.Weights) != len(plan.Indices) {
		return fmt.Errorf("epoch %d: plan has %d indices but %d weights", epoch, len(plan.Indices), len(plan.Weights))
	}
	if t.Progress != nil {
		t.Progress.StartEpoch(epoch, len(plan.Indices))
		t.Progress.Advance(pos0)
	}
	start := time.Now()
	for s, pos := steps0, pos0; pos < len(plan.Indices); s, pos = s+1, pos+B {
		if err := ctx.Err(); err != nil {
			return &InterruptedError{Err: err, Partial: PartialEpoch{Epoch: epoch, Plan: plan, Pos: pos, Steps: s,
				LossSum: lossSum, Seconds: prior + time.Since(start).Seconds(), Stats: stats}}
		}
		idx := plan.Indices[pos:min(pos+B, len(plan.Indices))]
		var w []float64
		if plan.Weights != nil {
			w = plan.Weights[pos : pos+len(idx)]
		}
		if err := batch.Gather(t.Train, idx, w); err != nil {
			return fmt.Errorf("epoch %d step %d: %w", epoch, s+1, err)
		}
		st, err := t.Net.Step(batch)
		if err != nil {
			return fmt.Errorf("epoch %d step %d: %w", epoch, s+1, err)
		}
		for i, l := range st.Losses {
			if math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) {
				return fmt.Errorf("%w at epoch %d, step %d: loss of sample %d is %v; the learning rate (--lr) is the most likely cause, try a smaller one",
					ErrDiverged, epoch, s+1, idx[i], l)
			}
			lossSum += float64(l)
		}
		scores, err := PickScore(st, t.Score)
		if err != nil {
			return err
		}
		t.Order.Record(idx, scores)
		if t.OnStep != nil {
			t.OnStep(epoch, idx, st.Losses)
		}
		if t.Progress != nil {
			t.Progress.Advance(len(idx))
		}
	}
	t.seconds += prior + time.Since(start).Seconds()
	t.seen += int64(len(plan.Indices))
	seconds, seen := t.seconds, t.seen
	if t.Progress != nil {
		t.Progress.EndEpoch()
	}
	m := EpochMetrics{Epoch: epoch, TrainSeconds: seconds, SamplesSeen: seen, EpochSamples: len(plan.Indices)}
	if len(plan.Indices) > 0 {
		m.TrainLoss = lossSum / float64(len(plan.Indices))
	}
	if stats != nil {
		m.Kept, m.Distinct = &stats.Kept, &stats.Distinct
	}
	evalStart := time.Now()
	if m.TestAcc, m.TestLoss, err = t.Net.Evaluate(t.Test); err != nil {
		return fmt.Errorf("epoch %d: evaluating on %s: %w", epoch, t.Test.Name, err)
	}
	targetAcc := m.TestAcc
	if t.Val != nil {
		acc, loss, err := t.Net.Evaluate(t.Val)
		if err != nil {
			return fmt.Errorf("epoch %d: evaluating on %s: %w", epoch, t.Val.Name, err)
		}
		m.ValAcc, m.ValLoss = &acc, &loss
		targetAcc = acc
	}
	m.EvalSeconds = time.Since(evalStart).Seconds()
	for _, target := range t.Targets {
		if targetAcc >= target && !t.hit(target) {
			t.Hits = append(t.Hits, TargetHit{Target: target, Epoch: epoch, TrainSeconds: seconds, SamplesSeen: seen})
		}
	}
	if err := t.Order.EndEpoch(epoch); err != nil {
		return fmt.Errorf("epoch %d: %w", epoch, err)
	}
	t.History = append(t.History, m)
	t.done = epoch
	if t.OnEpoch != nil {
		if err := t.OnEpoch(m); err != nil {
			return err
		}
	}
	return nil
}

func (t *Trainer) hit(target float64) bool {
	for _, h := range t.Hits {
		if h.Target == target {
			return true
		}
	}
	return false
}

// Hit returns the record of the first epoch that reached target, if any.
func (t *Trainer) Hit(target float64) (TargetHit, bool) {
	for _, h := range t.Hits {
		if h.Target == target {
			return h, true
		}
	}
	return TargetHit{}, false
}
