package training

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sgds/sgds/engine"

	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/sampler"
)

// Progress receives training progress; the command line draws a bar.
type Progress interface {
	StartEpoch(epoch, samples int)
	Advance(samples int)
	EndEpoch()
}

// EpochMetrics is one line of metrics.jsonl.
type EpochMetrics struct {
	Epoch int `json:"epoch"`
	// TrainLoss is the mean L_i over this epoch's drawn samples, from
	// their forward passes (for a SelectiveOrder or KFOrder: over the
	// epoch's candidates, each forwarded once).
	TrainLoss float64  `json:"train_loss"`
	TestAcc   float64  `json:"test_acc"`
	TestLoss  float64  `json:"test_loss"`
	ValAcc    *float64 `json:"val_acc,omitempty"`
	ValLoss   *float64 `json:"val_loss,omitempty"`
	// TrainSeconds and SamplesSeen are cumulative over the run; evaluation
	// time is excluded.
	TrainSeconds float64 `json:"train_seconds"`
	SamplesSeen  int64   `json:"samples_seen"`
	// ForwardSamples and BackwardSamples are cumulative over the run:
	// the samples through a forward pass (every step's, and those of the
	// forward-only passes of Selective-Backprop's and KF's candidates
	// and of KAKURENBO's refresh) and through a backward pass (the
	// samples trained on: SamplesSeen). See Trainer.
	ForwardSamples  int64 `json:"forward_samples"`
	BackwardSamples int64 `json:"backward_samples"`
	// EpochSamples are this epoch's samples trained on (with a backward
	// pass).
	EpochSamples int     `json:"epoch_samples"`
	EvalSeconds  float64 `json:"eval_seconds"`
	// Order statistics, when the order reports them.
	Kept     *int `json:"kept,omitempty"`
	Distinct *int `json:"distinct,omitempty"`
}

// GridEval is one evaluation on the evaluation grid: a line of
// evals.jsonl. The grid is the same for every run with the same EvalEvery:
// the points g = k·EvalEvery of cumulative samples seen, each evaluated at
// the first step boundary where samples_seen ≥ g.
type GridEval struct {
	GridSamples int64 `json:"grid_samples"` // the grid point g = k·EvalEvery
	SamplesSeen int64 `json:"samples_seen"` // cumulative samples where it was evaluated (≥ g, < g + batch)
	Epoch       int   `json:"epoch"`        // the epoch in progress
	// TrainSeconds is cumulative training time at the evaluation, all
	// evaluation time excluded.
	TrainSeconds float64 `json:"train_seconds"`
	// ForwardSamples and BackwardSamples are cumulative at the evaluation
	// (see EpochMetrics); BackwardSamples = SamplesSeen.
	ForwardSamples  int64 `json:"forward_samples"`
	BackwardSamples int64 `json:"backward_samples"`
	// The accuracies and losses evaluated: validation when the trainer has
	// a validation set, else test.
	ValAcc      *float64 `json:"val_acc,omitempty"`
	ValLoss     *float64 `json:"val_loss,omitempty"`
	TestAcc     *float64 `json:"test_acc,omitempty"`
	TestLoss    *float64 `json:"test_loss,omitempty"`
	EvalSeconds float64  `json:"eval_seconds"` // time this evaluation took
}

// Acc returns the accuracy the grid evaluated (validation if evaluated,
// else test).
func (g GridEval) Acc() float64 {
	if g.ValAcc != nil {
		return *g.ValAcc
	}
	if g.TestAcc != nil {
		return *g.TestAcc
	}
	return math.NaN()
}

// TargetHit records when an accuracy target was first reached on the
// evaluation grid: the shape of time-to-target in every result file,
// {target, reached, epoch, grid_samples, samples_seen, train_seconds}. A
// target not reached has Epoch 0 and is written {target, reached: false}.
type TargetHit struct {
	Target       float64 `json:"target"`
	Epoch        int     `json:"epoch,omitempty"`        // the epoch in progress at the grid point; 0: not reached
	GridSamples  int64   `json:"grid_samples,omitempty"` // the grid point
	SamplesSeen  int64   `json:"samples_seen,omitempty"` // cumulative samples at its evaluation
	TrainSeconds float64 `json:"train_seconds,omitempty"`
}

// Reached reports whether the target was reached.
func (h TargetHit) Reached() bool { return h.Epoch > 0 }

// MarshalJSON adds "reached" and writes every field of a reached target
// (zeros included), only target and reached otherwise.
func (h TargetHit) MarshalJSON() ([]byte, error) {
	if !h.Reached() {
		return json.Marshal(struct {
			Target  float64 `json:"target"`
			Reached bool    `json:"reached"`
		}{h.Target, false})
	}
	return json.Marshal(struct {
		Target       float64 `json:"target"`
		Reached      bool    `json:"reached"`
		Epoch        int     `json:"epoch"`
		GridSamples  int64   `json:"grid_samples"`
		SamplesSeen  int64   `json:"samples_seen"`
		TrainSeconds float64 `json:"train_seconds"`
	}{h.Target, true, h.Epoch, h.GridSamples, h.SamplesSeen, h.TrainSeconds})
}

// DefaultEvalEvery is the evaluation grid's step when none is set: the
// largest multiple of the batch B that is at most n/6, so that a uniform
// epoch over n samples is evaluated at least 6 times (B when n/6 < B).
func DefaultEvalEvery(n, B int) int {
	if B < 1 {
		return max(1, n/6)
	}
	return max(B, n/6/B*B)
}

// EpochRunner is an order that runs its own epochs through the trainer:
// a method that scores candidates with forward passes before it trains
// on some of them (SelectiveOrder, KFOrder). RunEpoch trains epoch on
// t's Net with batch, through the trainer's steps, grid and accounting.
type EpochRunner interface {
	sampler.Order
	RunEpoch(ctx context.Context, t *Trainer, epoch int, batch *engine.Batch) error
}

// ErrDiverged reports a NaN or infinite loss.
var ErrDiverged = errors.New("training diverged")

// Trainer runs epochs of a Net over a training set in the order an Order
// chooses, evaluating after every epoch.
//
// An ordinary Order's plan is trained in steps of B consecutive plan
// positions. Three kinds of order run differently (selection.go), all
// through the Net interface, so on every backend:
//
//   - a Refresher (KAKURENBO): its plan is trained as any other; after the
//     epoch's steps its hidden samples go through Net.Forward in batches
//     of B and their losses are recorded, then EndEpoch;
//   - a SelectiveOrder (Selective-Backprop): candidate batches are
//     forwarded and only the selected samples are trained on, B at a time;
//   - a KFOrder (Katharopoulos & Fleuret): each step forwards k·B
//     candidates and trains on B drawn from them, with weights.
//
// Counting: samples_seen (SamplesSeen, EpochSamples) are the samples trained
// on with a backward pass, and the evaluation grid stays on them, so that
// every method is evaluated at the same numbers of samples trained on.
// forward_samples counts every sample through a forward pass (those of the
// steps and of the forward-only passes), backward_samples the samples
// through a backward pass (= samples_seen). The forward-only passes are
// training time: a method that forwards more than it backpropagates pays
// for it in train_seconds, and so in time to target.
//
// Interrupts: an ordinary order's epoch (KAKURENBO's included) stops
// between two steps with an InterruptedError that a checkpoint resumes
// exactly (for a Refresher, the hidden set is recomputed as the samples
// the saved plan leaves out; the refresh itself is not interrupted). A
// SelectiveOrder's or KFOrder's epoch cannot be resumed inside (candidates
// forwarded, selections pending): cancelled, it is abandoned and rolled
// back to its start (parameters, momentum and the order's state as they
// were after the epoch before), and Run returns an AbandonedError; a
// checkpoint then resumes from the end of the previous epoch.
type Trainer struct {
	Net   engine.Net
	Train *data.Set
	Test  *data.Set
	Val   *data.Set // optional; targets use it when present
	Order sampler.Order
	// Score names the per-sample score recorded into the Order: "loss"
	// (default), "lastlayer" or "gradnorm" (the Net must compute norms).
	Score string
	// Epochs is the last epoch Run trains; Run may be called again after
	// raising it (to advance several trainers in lockstep).
	Epochs int
	// EvalEvery is the step of the evaluation grid in samples (0:
	// DefaultEvalEvery of the training set and the batch). At the first
	// step boundary where the cumulative samples seen reach a grid point
	// k·EvalEvery, the Net is evaluated on Val if set, else on Test; the
	// evaluation is appended to Evals and its time excluded from training
	// time.
	EvalEvery int
	// Targets are accuracies (on Val if set, else Test) whose first grid
	// point, time and samples are recorded in Hits.
	Targets  []float64
	Progress Progress
	// OnEpoch is called after every epoch with its metrics (for writing
	// metrics.jsonl and checkpoints); an error stops training.
	OnEpoch func(EpochMetrics) error
	// OnStep, when set, is called after every step with the step's indices
	// and losses (for analyses such as the patterns experiment).
	OnStep func(epoch int, indices []int, losses []float32)

	// LR is the peak learning rate of Schedule; Schedule, when not
	// constant, sets the Net's rate before every step to LR·Factor(u) at
	// position u = spent/Horizon (spent: Spent of the samples so far).
	LR       float64
	Schedule LRSchedule
	// Horizon is the budget, in units, the schedule spans (0: Epochs ×
	// the training samples).
	Horizon float64
	// Budget > 0 ends the run at the first step boundary where the units
	// spent reach it, inside an epoch if need be (that epoch is recorded
	// as it stands); epochs then go on past Epochs until it is spent.
	// ForwardCost is the cost of a forward-only sample in units
	// (ForwardCost when 0).
	Budget      float64
	ForwardCost float64

	Hits    []TargetHit // the targets reached, in the order reached
	History []EpochMetrics
	Evals   []GridEval // the evaluations on the grid, in order

	done    int     // epochs completed
	seconds float64 // cumulative training seconds
	seen    int64   // cumulative samples (backward passes)
	fwd     int64   // cumulative samples through a forward pass
	broken  error   // an abandoned epoch could not be rolled back: Run refuses
	batch   *engine.Batch
	partial *PartialEpoch // an interrupted epoch to finish first
	bound   bool          // the training set was handed to the Net
	lr      float64       // the rate last set by the schedule (0: none yet)
	spentUp bool          // the budget is spent: the run is over
}

// MaxBudgetEpochs bounds the epochs of a run with a budget.
const MaxBudgetEpochs = 100_000

// forwardCost is ForwardCost or its default.
func (t *Trainer) forwardCost() float64 {
	if t.ForwardCost > 0 {
		return t.ForwardCost
	}
	return ForwardCost
}

// Spent returns the budget units spent so far.
func (t *Trainer) Spent() float64 { return Spent(t.seen, t.fwd, t.forwardCost()) }

// Finished reports whether the run is over: its budget spent, or, without
// a budget, its Epochs done.
func (t *Trainer) Finished() bool {
	if t.Budget > 0 {
		return t.spentUp || t.Spent() >= t.Budget
	}
	return t.done >= t.Epochs
}

// pace runs before a step at bwd samples trained on and fwd forwarded
// (cumulative): it reports whether the budget is spent, and otherwise sets
// the schedule's rate for the step.
func (t *Trainer) pace(bwd, fwd int64) (over bool, err error) {
	spent := Spent(bwd, fwd, t.forwardCost())
	if t.Budget > 0 && spent >= t.Budget {
		t.spentUp = true
		return true, nil
	}
	if t.Schedule.Constant() {
		return false, nil
	}
	h := t.Horizon
	if h <= 0 {
		h = float64(t.Epochs) * float64(t.Train.N)
	}
	lr := t.LR * t.Schedule.Factor(spent/h)
	if lr != t.lr {
		if err := t.Net.SetLR(lr); err != nil {
			return false, fmt.Errorf("learning-rate schedule: %w", err)
		}
		t.lr = lr
	}
	return false, nil
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
// The grid
// needs no state but the samples seen: the next grid point is the first
// multiple of EvalEvery above them; ResumeEvals restores the evaluations
// made so far.
func (t *Trainer) Resume(history []EpochMetrics, hits []TargetHit) {
	t.History = append([]EpochMetrics(nil), history...)
	t.Hits = append([]TargetHit(nil), hits...)
	t.done, t.seconds, t.seen, t.fwd, t.broken, t.lr, t.spentUp = 0, 0, 0, 0, nil, 0, false
	if n := len(history); n > 0 {
		t.done, t.seconds, t.seen = history[n-1].Epoch, history[n-1].TrainSeconds, history[n-1].SamplesSeen
		t.fwd = history[n-1].ForwardSamples
		if t.fwd == 0 {
			// A history written before forward_samples existed: every
			// order then forwarded exactly what it trained on.
			t.fwd = t.seen
		}
	}
}

// ResumeEvals restores the grid evaluations of a run continued by Resume
// (those of an interrupted epoch included).
func (t *Trainer) ResumeEvals(evals []GridEval) {
	t.Evals = append([]GridEval(nil), evals...)
}

// GridStep returns the step of the evaluation grid: EvalEvery, or its
// default for the training set and the Net's batch.
func (t *Trainer) GridStep() int {
	if t.EvalEvery > 0 {
		return t.EvalEvery
	}
	B := 1
	if t.Net != nil {
		B = t.Net.BatchSize()
	}
	n := 0
	if t.Train != nil {
		n = t.Train.N
	}
	return DefaultEvalEvery(n, B)
}

// GridSeconds returns the time spent evaluating on the grid.
func (t *Trainer) GridSeconds() float64 {
	s := 0.0
	for _, e := range t.Evals {
		s += e.EvalSeconds
	}
	return s
}

// Done returns the number of completed epochs.
func (t *Trainer) Done() int { return t.done }

// Run trains until Epochs are done or ctx is cancelled (checked between
// steps; the epoch in progress is then abandoned and ctx.Err returned).
func (t *Trainer) Run(ctx context.Context) error {
	if t.Net == nil || t.Train == nil || t.Test == nil || t.Order == nil {
		return errors.New("trainer: Net, Train, Test and Order are required")
	}
	if t.EvalEvery < 0 {
		return fmt.Errorf("trainer: EvalEvery is %d, want ≥ 0 (0: the default grid)", t.EvalEvery)
	}
	if err := t.Schedule.Validate(); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	if !t.Schedule.Constant() && !(t.LR > 0) {
		return fmt.Errorf("trainer: a learning-rate schedule needs the peak rate LR > 0, got %v", t.LR)
	}
	if t.broken != nil {
		return fmt.Errorf("trainer: %w; restore a checkpoint before training on", t.broken)
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
		t.batch = engine.NewBatch(B, p)
	}
	batch := t.batch
	for epoch := t.done + 1; t.more(epoch); epoch++ {
		seen := t.seen
		if err := t.runEpoch(ctx, epoch, batch); err != nil {
			return err
		}
		if t.Budget > 0 && t.seen == seen && !t.Finished() {
			return fmt.Errorf("trainer: epoch %d trained on no sample; the budget of %g units cannot be spent", epoch, t.Budget)
		}
	}
	return nil
}

// more reports whether Run trains epoch: without a budget up to Epochs;
// with one until it is spent (at most MaxBudgetEpochs; Epochs then only
// paces a lockstep caller, which raises it epoch by epoch).
func (t *Trainer) more(epoch int) bool {
	if t.Budget > 0 {
		return !t.Finished() && epoch <= min(t.Epochs, MaxBudgetEpochs)
	}
	return epoch <= t.Epochs
}

// runEpoch trains, evaluates and reports one epoch.
func (t *Trainer) runEpoch(ctx context.Context, epoch int, batch *engine.Batch) error {
	if r, ok := t.Order.(EpochRunner); ok {
		return r.RunEpoch(ctx, t, epoch, batch)
	}
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
	start := time.Now()      // the sampler's work (Plan) is training time
	refresher, refreshing := t.Order.(Refresher)
	var hidden []int // a Refresher's hidden samples, scored after the steps
	if p := t.partial; p != nil && p.Epoch == epoch {
		plan, pos0, steps0, lossSum, prior, stats = p.Plan, p.Pos, p.Steps, p.LossSum, p.Seconds, p.Stats
		t.partial = nil
		if refreshing {
			if hidden, err = t.leftOut(plan); err != nil {
				return fmt.Errorf("epoch %d: %w", epoch, err)
			}
		}
	} else {
		if plan, err = t.Order.Plan(epoch); err != nil {
			return fmt.Errorf("epoch %d: %w", epoch, err)
		}
		if sr, ok := t.Order.(sampler.StatsReporter); ok {
			st := sr.Stats()
			stats = &st
		}
		if refreshing {
			if hidden, err = t.checkHidden(plan, refresher.Hidden()); err != nil {
				return fmt.Errorf("epoch %d: %w", epoch, err)
			}
		}
	}
	if plan.Weights != nil && len(plan.Weights) != len(plan.Indices) {
		return fmt.Errorf("epoch %d: plan has %d indices but %d weights", epoch, len(plan.Indices), len(plan.Weights))
	}
	if t.Progress != nil {
		t.Progress.StartEpoch(epoch, len(plan.Indices))
		t.Progress.Advance(pos0)
	}
	every := int64(t.GridStep())
	var evalTime time.Duration // grid evaluations of this epoch, excluded from training time
	trained := func() float64 { return prior + (time.Since(start) - evalTime).Seconds() }
	done := len(plan.Indices) // the plan's samples trained on (fewer when the budget ends the epoch)
	for s, pos := steps0, pos0; pos < len(plan.Indices); s, pos = s+1, pos+B {
		if err := ctx.Err(); err != nil {
			return &InterruptedError{Err: err, Partial: PartialEpoch{Epoch: epoch, Plan: plan, Pos: pos, Steps: s,
				LossSum: lossSum, Seconds: trained(), Stats: stats}}
		}
		if over, err := t.pace(t.seen+int64(pos), t.fwd+int64(pos)); err != nil {
			return fmt.Errorf("epoch %d step %d: %w", epoch, s+1, err)
		} else if over {
			done = pos
			break
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
		scores, err := engine.PickScore(st, t.Score)
		if err != nil {
			return err
		}
		if err := t.Order.Record(idx, scores); err != nil {
			return fmt.Errorf("epoch %d step %d: %w", epoch, s+1, err)
		}
		if t.OnStep != nil {
			t.OnStep(epoch, idx, st.Losses)
		}
		if t.Progress != nil {
			t.Progress.Advance(len(idx))
		}
		before, after := t.seen+int64(pos), t.seen+int64(pos+len(idx))
		if after/every > before/every {
			// A step longer than the grid's step crosses several points:
			// the last one is evaluated.
			evalStart := time.Now()
			seconds := t.seconds + trained()
			if err := t.evalGrid(epoch, after/every*every, after, t.fwd+int64(pos+len(idx)), seconds); err != nil {
				return err
			}
			evalTime += time.Since(evalStart)
		}
	}
	if done < len(plan.Indices) && stats != nil {
		// The budget ended the epoch: the distinct samples are those of
		// the part trained.
		st := *stats
		seen := make(map[int]bool, done)
		for _, k := range plan.Indices[:done] {
			seen[k] = true
		}
		st.Distinct = len(seen)
		stats = &st
	}
	fwd := int64(done)
	if len(hidden) > 0 && !t.spentUp {
		if err := t.refresh(epoch, batch, hidden); err != nil {
			return err
		}
		fwd += int64(len(hidden))
	}
	t.seconds += trained()
	t.seen += int64(done)
	t.fwd += fwd
	return t.endEpoch(epoch, done, lossSum, done, stats)
}

// endEpoch reports an epoch whose training time and samples were added to
// the totals: its metrics, the evaluation, the order's EndEpoch, the
// history and OnEpoch. Its train loss is lossSum/lossN.
func (t *Trainer) endEpoch(epoch, samples int, lossSum float64, lossN int, stats *sampler.Stats) error {
	seconds, seen := t.seconds, t.seen
	if t.Progress != nil {
		t.Progress.EndEpoch()
	}
	m := EpochMetrics{Epoch: epoch, TrainSeconds: seconds, SamplesSeen: seen, EpochSamples: samples,
		ForwardSamples: t.fwd, BackwardSamples: seen}
	if lossN > 0 {
		m.TrainLoss = lossSum / float64(lossN)
	}
	if stats != nil {
		m.Kept, m.Distinct = &stats.Kept, &stats.Distinct
	}
	var err error
	evalStart := time.Now()
	if m.TestAcc, m.TestLoss, err = t.Net.Evaluate(t.Test); err != nil {
		return fmt.Errorf("epoch %d: evaluating on %s: %w", epoch, t.Test.Name, err)
	}
	if t.Val != nil {
		acc, loss, err := t.Net.Evaluate(t.Val)
		if err != nil {
			return fmt.Errorf("epoch %d: evaluating on %s: %w", epoch, t.Val.Name, err)
		}
		m.ValAcc, m.ValLoss = &acc, &loss
	}
	m.EvalSeconds = time.Since(evalStart).Seconds()
	// The sampler's end of epoch (pruning, re-adding, rebuilding its
	// tables) is training time.
	endStart := time.Now()
	if err := t.Order.EndEpoch(epoch); err != nil {
		return fmt.Errorf("epoch %d: %w", epoch, err)
	}
	t.seconds += time.Since(endStart).Seconds()
	m.TrainSeconds = t.seconds
	t.History = append(t.History, m)
	t.done = epoch
	if t.OnEpoch != nil {
		if err := t.OnEpoch(m); err != nil {
			return err
		}
	}
	return nil
}

// evalGrid evaluates grid point g, reached at seen samples (forwarded
// through a forward pass) after seconds of training in epoch, and records
// the targets it reaches.
func (t *Trainer) evalGrid(epoch int, g, seen, forwarded int64, seconds float64) error {
	start := time.Now()
	set := t.Test
	if t.Val != nil {
		set = t.Val
	}
	acc, loss, err := t.Net.Evaluate(set)
	if err != nil {
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return fmt.Errorf("%w at epoch %d after %d samples: the loss on %s is %v; the learning rate (--lr) is the most likely cause, try a smaller one",
				ErrDiverged, epoch, seen, set.Name, loss)
		}
		return fmt.Errorf("epoch %d: evaluating on %s at %d samples: %w", epoch, set.Name, seen, err)
	}
	e := GridEval{GridSamples: g, SamplesSeen: seen, Epoch: epoch, TrainSeconds: seconds,
		ForwardSamples: forwarded, BackwardSamples: seen}
	if t.Val != nil {
		e.ValAcc, e.ValLoss = &acc, &loss
	} else {
		e.TestAcc, e.TestLoss = &acc, &loss
	}
	e.EvalSeconds = time.Since(start).Seconds()
	t.Evals = append(t.Evals, e)
	for _, target := range t.Targets {
		if acc >= target && !t.hit(target) {
			t.Hits = append(t.Hits, TargetHit{Target: target, Epoch: epoch, GridSamples: g, SamplesSeen: seen, TrainSeconds: seconds})
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

// Hit returns the record of the first grid point that reached target, if
// any.
func (t *Trainer) Hit(target float64) (TargetHit, bool) {
	for _, h := range t.Hits {
		if h.Target == target {
			return h, true
		}
	}
	return TargetHit{Target: target}, false
}

// TargetHits returns one record per target of Targets, in their order:
// the hit when reached, else {Target} alone.
func (t *Trainer) TargetHits() []TargetHit {
	out := make([]TargetHit, len(t.Targets))
	for i, tg := range t.Targets {
		out[i], _ = t.Hit(tg)
	}
	return out
}

// StaysAbove returns, for each target, the grid point from which the run
// stays at or above it: the first evaluation of evals after which none is
// below the target (so the last evaluation reaches it), as a hit record;
// {Target} alone when the last evaluation is below it. Unlike the first
// crossing (Hits), a noisy curve that touches a target and falls back does
// not count.
func StaysAbove(evals []GridEval, targets []float64) []TargetHit {
	out := make([]TargetHit, len(targets))
	for i, target := range targets {
		out[i] = TargetHit{Target: target}
		for j := len(evals) - 1; j >= 0 && evals[j].Acc() >= target; j-- {
			e := evals[j]
			out[i] = TargetHit{Target: target, Epoch: e.Epoch, GridSamples: e.GridSamples, SamplesSeen: e.SamplesSeen, TrainSeconds: e.TrainSeconds}
		}
	}
	return out
}
