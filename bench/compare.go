package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sgds/sgds/internal/provenance"
	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/training"
)

// The compare experiment (docs/METHOD.md §3 and §7): every method trains
// on every seed from the seed's initial weights, all on one evaluation
// grid (the same cumulative sample counts for every method), and
// time-to-target is the training time (evaluation excluded) at the first
// grid point whose accuracy reaches the target. Speedups are paired by
// seed against each named baseline, geometric means of the per-seed ratios
// with 95% intervals on the log scale. Time to target is also given split
// into its two factors, samples to target (exact: the same grid for every
// method) times the run's cost per sample (its median over epochs), which
// a shared machine's noise disturbs far less than the raw wall clock.

// DefaultMethods returns uniform and SGD-S (the base's schedule and
// score), and with variants also SGD-S biased (β = 0), SGD-S unbiased
// (β = 1) and the post's SGD-S (λ = 0, independent draws, biased).
func DefaultMethods(base run.Config, variants bool) ([]run.Method, error) {
	specs := []string{"uniform", "sgds"}
	if variants {
		specs = append(specs, "sgds-biased:debias=0", "sgds-unbiased:unbiased=true", "sgds-post:mix=0,systematic=false,debias=0")
	}
	var ms []run.Method
	for _, s := range specs {
		m, err := run.ParseMethod(s, base, nil)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// CompareConfig configures the compare experiment.
type CompareConfig struct {
	// Base holds the data set, model, device, epochs, splits and the
	// evaluation grid (EvalEvery, resolved before training); each run
	// takes its sampler and optimiser from its method and its seed from
	// Seeds.
	Base    run.Config   `json:"base"`
	Seeds   []uint64     `json:"seeds"`
	Targets []float64    `json:"targets"`
	Methods []run.Method `json:"methods"`
	// Baselines name the methods speedups are measured against (default:
	// the first method).
	Baselines []string `json:"baselines"`
	// Parallel is how many seeds train at once (default 1). The methods of
	// a seed always share their goroutine and alternate epoch by epoch.
	Parallel int `json:"parallel,omitempty"`
	// Tuned is the tuning file's choice per method (--tuned), and
	// TunedFrom the file, when one was given.
	Tuned     map[string]run.Choice `json:"tuned,omitempty"`
	TunedFrom string                `json:"tuned_from,omitempty"`
	// Data is the folder of the data set's files ("" for the default
	// search, see data.Locate).
	Data string `json:"data,omitempty"`
	// Clock is when a run counts as having reached a target: "stays" at
	// the grid point after which it never falls below it again
	// (training.StaysAbove), "first" (or "", in files from before there was
	// a choice) at its first crossing.
	Clock string `json:"clock,omitempty"`
	// Budgets, when set, are the budgets every method ran at (each method
	// expanded into one per budget by ExpandBudgets; Method.Budget).
	Budgets []float64 `json:"budgets,omitempty"`
	// Shard, when set, is the part of the runs this comparison trains
	// (compare --shard K/N); Merge joins the parts.
	Shard *Shard `json:"shard,omitempty"`
}

// Shard is the K-th (1-based) of N disjoint parts of a comparison's runs:
// the runs whose index in Runs (seed-major) is K−1 modulo N.
type Shard struct {
	K int `json:"k"`
	N int `json:"n"`
}

// Owns reports whether the shard (nil: the whole comparison) trains run i.
func (sh *Shard) Owns(i int) bool { return sh == nil || i%sh.N == sh.K-1 }

// String is "K/N".
func (sh *Shard) String() string { return fmt.Sprintf("%d/%d", sh.K, sh.N) }

// MaxShards bounds Shard.N.
const MaxShards = 100_000

// Clocks are the values of CompareConfig.Clock.
var Clocks = []string{"stays", "first"}

// Validate checks the comparison: seeds, targets in (0, 1], methods with
// distinct names whose configurations validate, and baselines among them.
func (c CompareConfig) Validate() error {
	if len(c.Seeds) == 0 {
		return errors.New("compare needs at least one seed")
	}
	if len(c.Seeds) > MaxSeeds {
		return fmt.Errorf("--seeds: %d seeds, at most %d", len(c.Seeds), MaxSeeds)
	}
	if len(c.Targets) > MaxTargets {
		return fmt.Errorf("--targets: %d targets, at most %d", len(c.Targets), MaxTargets)
	}
	if len(c.Methods) > MaxMethods {
		return fmt.Errorf("--method: %d methods, at most %d", len(c.Methods), MaxMethods)
	}
	seen := map[uint64]bool{}
	for _, s := range c.Seeds {
		if seen[s] {
			return fmt.Errorf("--seeds: seed %d is listed twice", s)
		}
		seen[s] = true
	}
	for _, t := range c.Targets {
		if !(t > 0 && t <= 1) {
			return fmt.Errorf("--targets: accuracy target %v must be in (0, 1]", t)
		}
	}
	if len(c.Methods) == 0 {
		return errors.New("compare needs at least one method")
	}
	names := map[string]bool{}
	for _, m := range c.Methods {
		if names[m.Name] {
			return fmt.Errorf("--method: name %q used twice", m.Name)
		}
		names[m.Name] = true
		if err := m.Config(c.Base).Validate(); err != nil {
			return fmt.Errorf("method %s: %w", m.Name, err)
		}
	}
	for _, b := range c.Baselines {
		if !names[b] {
			return fmt.Errorf("--baseline %s: no method of that name", b)
		}
	}
	if c.Parallel < 0 {
		return fmt.Errorf("--parallel must be ≥ 1, got %d", c.Parallel)
	}
	if sh := c.Shard; sh != nil && !(sh.N >= 1 && sh.N <= MaxShards && sh.K >= 1 && sh.K <= sh.N) {
		return fmt.Errorf("--shard %d/%d: want K/N with 1 ≤ K ≤ N ≤ %d", sh.K, sh.N, MaxShards)
	}
	return nil
}

// RunResult is one method on one seed.
type RunResult struct {
	Method string `json:"method"`
	Seed   uint64 `json:"seed"`
	// Done: every epoch trained (or the run diverged). An unfinished run
	// is restarted from its beginning by compare --resume.
	Done     bool   `json:"done"`
	Diverged string `json:"diverged,omitempty"` // the error, when the run diverged
	// Session is the invocation that trained the run: 0 the one that
	// started the comparison, k the k-th of its Resumes.
	Session int `json:"session,omitempty"`
	// Targets are the time-to-target records, one per target: the first
	// grid point reaching it. StaysAbove are the grid points from which
	// the run stays at or above each target (training.StaysAbove).
	Targets    []training.TargetHit `json:"targets"`
	StaysAbove []training.TargetHit `json:"stays_above,omitempty"`
	// TestAcc (and ValAcc, with a validation split) per epoch, from Epochs.
	TestAcc []float64               `json:"test_acc"`
	ValAcc  []float64               `json:"val_acc,omitempty"`
	Epochs  []training.EpochMetrics `json:"epochs"`
	Evals   []training.GridEval     `json:"evals"`
}

func (r *RunResult) last() (training.EpochMetrics, bool) {
	if len(r.Epochs) == 0 {
		return training.EpochMetrics{}, false
	}
	return r.Epochs[len(r.Epochs)-1], true
}

// trained returns the run's total training seconds and samples.
func (r *RunResult) trained() (float64, int64) {
	secs, seen := 0.0, int64(0)
	if e, ok := r.last(); ok {
		secs, seen = e.TrainSeconds, e.SamplesSeen
	}
	if n := len(r.Evals); n > 0 && r.Evals[n-1].TrainSeconds > secs {
		secs, seen = r.Evals[n-1].TrainSeconds, max(seen, r.Evals[n-1].SamplesSeen)
	}
	return secs, seen
}

// costPerSample returns the run's training seconds per sample trained on
// (evaluation excluded, everything else the method does included): the
// median over its epochs of the epoch's training seconds over the epoch's
// samples with a backward pass, 0 when no epoch trained a sample. Epochs,
// not steps: the work a method does between steps (scoring passes,
// presampling, pruning) counts once per epoch, and an epoch is the
// smallest record that holds all of it; the median drops the epochs a
// shared machine slowed down.
func (r *RunResult) costPerSample() float64 {
	var per []float64
	prevS, prevN := 0.0, int64(0)
	for _, e := range r.Epochs {
		if dn := e.SamplesSeen - prevN; dn > 0 && e.TrainSeconds > prevS {
			per = append(per, (e.TrainSeconds-prevS)/float64(dn))
		}
		prevS, prevN = e.TrainSeconds, e.SamplesSeen
	}
	if len(per) == 0 {
		return 0
	}
	return median(per)
}

// hit returns the run's record of target on the clock: the first
// crossing, or the point from which it stays above (computed from the
// evaluations when the file predates the record).
func (r *RunResult) hit(target float64, clock string) (training.TargetHit, bool) {
	hits := r.Targets
	if clock == "stays" {
		hits = r.StaysAbove
		if len(hits) == 0 {
			hits = training.StaysAbove(r.Evals, []float64{target})
		}
	}
	for _, h := range hits {
		if h.Target == target {
			return h, h.Reached()
		}
	}
	return training.TargetHit{Target: target}, false
}

// CompareResult is compare.json.
type CompareResult struct {
	// Provenance is that of the invocation that started the comparison;
	// Resumes those of each compare --resume after it, in order.
	Provenance provenance.Provenance   `json:"provenance"`
	Resumes    []provenance.Provenance `json:"resumes,omitempty"`
	Config     CompareConfig           `json:"config"`
	// TrainSamples is the size of the training set (after the validation
	// split and --subset).
	TrainSamples int `json:"train_samples"`
	// TargetOn is the accuracy the grid evaluates and targets use: "val"
	// with a validation split, else "test".
	TargetOn string `json:"target_on"`
	// Data identifies the data the runs trained on; compare --resume
	// checks the data it is given against it (nil in older files).
	Data *run.DataPrint `json:"data_print,omitempty"`
	// Complete is false while runs remain (a partial result).
	Complete bool `json:"complete"`
	// Shards are the provenances of the shards a merged comparison was
	// joined from (sgds merge).
	Shards  []ShardProvenance `json:"shards,omitempty"`
	Runs    []*RunResult      `json:"runs"`
	Summary []*MethodSummary  `json:"summary"` // over the finished runs
	// BudgetSummary is the final accuracy of every method at every budget
	// (compare --budgets; SummariseBudgets), over the finished runs.
	BudgetSummary []BudgetRow `json:"budget_summary,omitempty"`
}

// Run returns the run of method on seed, or nil.
func (res *CompareResult) Run(method string, seed uint64) *RunResult {
	for _, r := range res.Runs {
		if r.Method == method && r.Seed == seed {
			return r
		}
	}
	return nil
}

// Summary of one method.
func (res *CompareResult) Method(name string) *MethodSummary {
	for _, s := range res.Summary {
		if s.Method == name {
			return s
		}
	}
	return nil
}

// CompareOptions are the optional parts of a comparison.
type CompareOptions struct {
	// Log receives one line per epoch of every run (nil: none).
	Log io.Writer
	// Progress is called after every epoch of every run.
	Progress func(ProgressEvent)
	// Save is called after every epoch of every run with the result so far
	// (runs unfinished included), e.g. to write compare.json; an error
	// stops the comparison.
	Save func(*CompareResult) error
	// Previous is the partial result of an earlier invocation (compare
	// --resume): its finished runs are kept, the others restarted.
	Previous *CompareResult
	// Provenance is recorded in the result.
	Provenance provenance.Provenance
	// OnStep, when set, is called after every training step of every run.
	OnStep func()
}

// ProgressEvent describes the comparison after an epoch of one run.
type ProgressEvent struct {
	Run, Runs      int // the run (1-based, seed-major) and the number of runs
	Method         string
	Seed           uint64
	Epoch, Epochs  int
	EpochsDone     int // epochs trained over all runs (finished runs of a resumed comparison included)
	EpochsTotal    int
	ETA            time.Duration // estimated from each method's mean epoch time so far
	EpochLine      string
	FinishedRuns   int
	DivergedMethod bool // the run just diverged
}

// Compare trains every method on every seed. The methods of a seed start
// from the seed's initial weights and advance in lockstep, one epoch each
// in an order that rotates every epoch, so that machine noise hits them
// alike. A run that diverges is recorded as such (its targets not
// reached); any other error stops the comparison, as does ctx (the result
// saved so far stays readable).
func Compare(ctx context.Context, c CompareConfig, d *run.Data, o CompareOptions) (*CompareResult, error) {
	if len(c.Baselines) == 0 && len(c.Methods) > 0 {
		c.Baselines = []string{c.Methods[0].Name}
	}
	if c.Base.EvalEvery == 0 {
		c.Base.EvalEvery = training.DefaultEvalEvery(d.Train.N, c.Base.Batch)
	}
	c.Base.Sampling = run.Sampling{}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := CheckCompareSize(c, d.Train.N); err != nil {
		return nil, err
	}
	// One net per seed trains at a time, --parallel seeds at once; the
	// seed's other methods are parked between their epochs.
	big := c.Base
	for _, m := range c.Methods {
		big.Batch = max(big.Batch, m.Batch)
	}
	par := max(1, min(c.Parallel, len(c.Seeds)))
	if err := run.CheckNets(big, d, par, len(c.Methods)*par, fmt.Sprintf("%d methods × %d seeds in parallel", len(c.Methods), par)); err != nil {
		return nil, err
	}
	dp := d.Print()
	if p := o.Previous; p != nil && p.Data != nil {
		if err := p.Data.CheckData(dp, c.Data); err != nil {
			return nil, err
		}
	} else if p != nil && p.TrainSamples != d.Train.N { // an older compare.json
		return nil, fmt.Errorf("--data %s: not the data the comparison trained on: %d training samples, the comparison had %d", c.Data, d.Train.N, p.TrainSamples)
	}
	res := &CompareResult{Provenance: o.Provenance, Config: c, TrainSamples: d.Train.N, TargetOn: "test", Data: &dp}
	if p := o.Previous; p != nil {
		res.Provenance = p.Provenance
		res.Resumes = append(slices.Clone(p.Resumes), o.Provenance)
	}
	if d.Val != nil {
		res.TargetOn = "val"
	}
	for _, seed := range c.Seeds {
		for _, m := range c.Methods {
			r := &RunResult{Method: m.Name, Seed: seed, Session: len(res.Resumes)}
			if o.Previous != nil {
				if p := o.Previous.Run(m.Name, seed); p != nil && p.Done {
					r = p
				}
			}
			res.Runs = append(res.Runs, r)
		}
	}
	s := &compareState{res: res, c: c, d: d, o: o, epochSecs: map[string][]float64{}}
	s.summarise()
	if o.Save != nil {
		if err := o.Save(res); err != nil {
			return nil, err
		}
	}
	errs := make([]error, len(c.Seeds))
	next := make(chan int, len(c.Seeds)) // seeds in their order
	for k := range c.Seeds {
		next <- k
	}
	close(next)
	var wg sync.WaitGroup
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				if errs[k] = s.seed(ctx, k); errs[k] != nil && ctx.Err() != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.summarise()
	if err := joinDistinct(errs); err != nil {
		if o.Save != nil {
			o.Save(res)
		}
		return res, err
	}
	if o.Save != nil {
		if err := o.Save(res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// joinDistinct joins the errors of errs, each message once: seeds
// trained in parallel that fail alike (a full disk) report it once.
func joinDistinct(errs []error) error {
	var out []error
	seen := map[string]bool{}
	for _, err := range errs {
		if err != nil && !seen[err.Error()] {
			seen[err.Error()] = true
			out = append(out, err)
		}
	}
	return errors.Join(out...)
}

// compareState is a comparison in progress.
type compareState struct {
	c   CompareConfig
	d   *run.Data
	o   CompareOptions
	mu  sync.Mutex // guards res, epochSecs and the log
	res *CompareResult
	// epochSecs are the wall seconds of each method's epochs so far
	// (training and evaluation), for the ETA.
	epochSecs map[string][]float64
}

// seed trains the unfinished runs of seed number k in lockstep.
func (s *compareState) seed(ctx context.Context, k int) error {
	seed := s.c.Seeds[k]
	// A run's net is built for each of its epochs and closed after it;
	// between epochs the run is parked as a snapshot (its parameters,
	// momentum, sampler state and metrics: what a resume restores), so
	// that one net per seed is allocated at a time, not one per method.
	type active struct {
		i   int // method index
		run *RunResult
		rc  run.Config
		h   run.Hooks
		ck  *training.Checkpoint // the run after its last epoch; nil before the first
	}
	var runs []*active
	for i, m := range s.c.Methods {
		r := s.res.Runs[k*len(s.c.Methods)+i]
		if r.Done || !s.c.Shard.Owns(k*len(s.c.Methods)+i) {
			continue
		}
		rc := m.Config(s.c.Base)
		rc.Seed = seed
		h := run.Hooks{Targets: s.c.Targets}
		if step := s.o.OnStep; step != nil {
			h.OnStep = func(int, []int, []float32) { step() }
		}
		if err := rc.Validate(); err != nil {
			return fmt.Errorf("method %s, seed %d: %w", m.Name, seed, err)
		}
		runs = append(runs, &active{i: i, run: r, rc: rc, h: h})
	}
	// build makes the trainer of run a at its last epoch.
	build := func(a *active) (*training.Trainer, error) {
		t, err := run.NewTrainer(a.rc, s.d, nil, a.h)
		if err != nil {
			return nil, fmt.Errorf("method %s, seed %d: %w", s.c.Methods[a.i].Name, seed, err)
		}
		if a.ck != nil {
			if err := t.Restore(a.ck); err != nil {
				t.Net.Close()
				return nil, fmt.Errorf("method %s, seed %d: %w", s.c.Methods[a.i].Name, seed, err)
			}
		}
		return t, nil
	}
	E := s.c.Base.Epochs
	for epoch := 1; epoch <= training.MaxBudgetEpochs; epoch++ {
		active := 0
		for j := range runs {
			a := runs[(j+epoch-1)%len(runs)]
			if a.run.Done {
				continue
			}
			active++
			name := s.c.Methods[a.i].Name
			t, err := build(a)
			if err != nil {
				return err
			}
			t.Epochs = epoch
			start := time.Now()
			err = t.Run(ctx)
			wall := time.Since(start).Seconds()
			diverged := errors.Is(err, training.ErrDiverged)
			if err != nil && !diverged {
				t.Net.Close()
				return fmt.Errorf("seed %d, method %s: %w", seed, name, err)
			}
			m := s.c.Methods[a.i]
			// A budgeted run is done when its budget is spent, any other
			// after its last epoch.
			done := diverged || (m.Budget > 0 && t.Finished()) || (m.Budget == 0 && epoch == E)
			var serr error
			if !done {
				a.ck, serr = t.Snapshot(t.Net.Spec().Name, nil, nil)
			}
			history, evals, hits := slices.Clone(t.History), slices.Clone(t.Evals), t.TargetHits()
			t.Net.Close()
			if serr != nil {
				return fmt.Errorf("seed %d, method %s: %w", seed, name, serr)
			}
			s.mu.Lock()
			r := a.run
			r.Epochs = history
			r.Evals = evals
			r.Targets = hits
			r.StaysAbove = training.StaysAbove(r.Evals, s.c.Targets)
			r.TestAcc, r.ValAcc = nil, nil
			for _, e := range r.Epochs {
				r.TestAcc = append(r.TestAcc, e.TestAcc)
				if e.ValAcc != nil {
					r.ValAcc = append(r.ValAcc, *e.ValAcc)
				}
			}
			r.Done = done
			line := ""
			if diverged {
				r.Diverged = err.Error()
				line = "diverged: " + err.Error()
			} else {
				s.epochSecs[name] = append(s.epochSecs[name], wall)
				line = run.EpochLine(r.Epochs[len(r.Epochs)-1], m.Config(s.c.Base).PlannedEpochs())
			}
			if s.o.Log != nil {
				fmt.Fprintf(s.o.Log, "seed %d  %-16s %s\n", seed, name, line)
			}
			s.summarise()
			if s.o.Save != nil {
				serr = s.o.Save(s.res)
			}
			ev := s.progress(k*len(s.c.Methods)+a.i, name, seed, epoch, line, diverged)
			s.mu.Unlock()
			if serr != nil {
				return serr
			}
			if s.o.Progress != nil {
				s.o.Progress(ev)
			}
		}
		if active == 0 {
			break
		}
	}
	return nil
}

// progress describes the comparison after an epoch of run i; s.mu is held.
func (s *compareState) progress(i int, method string, seed uint64, epoch int, line string, diverged bool) ProgressEvent {
	E := s.c.Base.Epochs
	ev := ProgressEvent{Run: i + 1, Runs: len(s.res.Runs), Method: method, Seed: seed, Epoch: epoch, Epochs: E,
		EpochsTotal: E * len(s.res.Runs), EpochLine: line, DivergedMethod: diverged}
	var all []float64
	for _, xs := range s.epochSecs {
		all = append(all, xs...)
	}
	remaining := 0.0
	for _, r := range s.res.Runs {
		done := len(r.Epochs)
		if r.Done {
			done = E
			ev.FinishedRuns++
		}
		ev.EpochsDone += done
		per := meanOr(s.epochSecs[r.Method], meanOr(all, 0))
		remaining += float64(E-done) * per
	}
	par := max(1, min(s.c.Parallel, len(s.c.Seeds)))
	ev.ETA = time.Duration(remaining / float64(par) * float64(time.Second))
	return ev
}

func meanOr(xs []float64, or float64) float64 {
	if len(xs) == 0 {
		return or
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// summarise fills res.Summary and res.Complete; s.mu is held.
func (s *compareState) summarise() { s.res.Summarise() }

// MethodSummary aggregates a method over its finished runs.
type MethodSummary struct {
	Method   string `json:"method"`
	Finished int    `json:"finished"` // runs finished (diverged included)
	Diverged int    `json:"diverged"`
	// Over the finished runs that did not diverge:
	FinalTestAcc Interval `json:"final_test_acc"`
	BestTestAcc  Interval `json:"best_test_acc"`
	TrainSeconds Interval `json:"train_seconds"`
	SamplesSeen  Interval `json:"samples_seen"`
	// CostPerSample is the training seconds per sample trained on, per run
	// the median over its epochs (see RunResult.costPerSample).
	CostPerSample Interval `json:"cost_per_sample_seconds"`
	// ForwardSamples and BackwardSamples are the run's samples through a
	// forward pass and through a backward pass (training.EpochMetrics).
	ForwardSamples  Interval `json:"forward_samples"`
	BackwardSamples Interval `json:"backward_samples"`
	// EpochFraction is the last epoch's samples over the training set: 1
	// for uniform, F for RS2, the kept fraction for SGD-S.
	EpochFraction Interval `json:"epoch_fraction_final"`
	// GridEvalShare is the grid evaluations' time over the training time.
	GridEvalShare Interval `json:"grid_eval_share"`
	// Against the first baseline, paired by seed: FinalGap is the final
	// test accuracy minus the baseline's; WorstDip is, per seed, the
	// minimum over the grid points after the first full pass (grid
	// samples > training set) of the method's grid accuracy minus the
	// baseline's at the same point. Both are nil for the baseline itself.
	FinalGap *Interval        `json:"final_gap_vs_baseline,omitempty"`
	WorstDip *Interval        `json:"worst_dip_vs_baseline,omitempty"`
	Targets  []*TargetSummary `json:"targets"`
}

// worstDip returns min over the grid points g > after that both runs
// evaluated of acc_m(g) − acc_b(g), and false if they share none.
func worstDip(m, b *RunResult, after int64) (float64, bool) {
	base := make(map[int64]float64, len(b.Evals))
	for _, e := range b.Evals {
		base[e.GridSamples] = e.Acc()
	}
	worst, ok := math.Inf(1), false
	for _, e := range m.Evals {
		if a, shared := base[e.GridSamples]; shared && e.GridSamples > after {
			worst, ok = math.Min(worst, e.Acc()-a), true
		}
	}
	return worst, ok
}

// gaps returns the FinalGap and WorstDip of method m against the first
// baseline (see MethodSummary), or nils for the baseline itself.
func (res *CompareResult) gaps(m string) (final, dip *Interval) {
	c := res.Config
	if len(c.Baselines) == 0 || c.Baselines[0] == m {
		return nil, nil
	}
	var fg, wd []float64
	for _, seed := range c.Seeds {
		r, b := res.Run(m, seed), res.Run(c.Baselines[0], seed)
		if r == nil || b == nil || !r.Done || !b.Done || r.Diverged != "" || b.Diverged != "" {
			continue
		}
		em, okM := r.last()
		eb, okB := b.last()
		if okM && okB {
			fg = append(fg, em.TestAcc-eb.TestAcc)
		}
		if d, ok := worstDip(r, b, int64(res.TrainSamples)); ok {
			wd = append(wd, d)
		}
	}
	f, d := BoundedMeanCI(fg, -1, 1), BoundedMeanCI(wd, -1, 1)
	return &f, &d
}

// TargetSummary is one method and one target over the finished runs.
type TargetSummary struct {
	Target  float64 `json:"target"`
	Reached int     `json:"reached"` // runs that reached it
	Of      int     `json:"of"`      // finished runs
	// TrainSeconds (the wall clock) and GridSamples at the first grid
	// point reaching the target, over the runs that reached it.
	TrainSeconds Interval `json:"train_seconds"`
	GridSamples  Interval `json:"grid_samples"`
	// SplitSeconds is time to target from its factors, per run the grid
	// samples to target times the run's cost per sample.
	SplitSeconds Interval   `json:"split_seconds"`
	Speedups     []*Speedup `json:"speedups"`
}

// Speedup of a method over one baseline for one target, paired by seed.
type Speedup struct {
	Baseline string `json:"baseline"`
	Time     Ratio  `json:"time"`    // baseline's training seconds over the method's
	Samples  Ratio  `json:"samples"` // baseline's grid samples over the method's
	// Split is the ratio of the times from samples × cost per sample: the
	// samples ratio times the ratio of the costs per sample.
	Split Ratio `json:"split"`
}

// Ratio is a speedup over the seeds where both runs finished. Exact is the
// geometric mean of the per-seed ratios with its 95% interval on the log
// scale (a paired interval: the ratio of the geometric means over those
// seeds) over the seeds where both reached the target.
// A seed where only the baseline reached it gives an upper bound (the
// method would need more than all its training: speedup < baseline's time
// / the method's total), a seed where only the method reached it a lower
// bound (speedup > the baseline's total / the method's time). When bounds
// of one direction occur, Bound is "<" or ">" and BoundMean is the
// geometric mean over seeds of the exact ratios and the bounds, itself a
// bound on the geometric mean speedup; "?" when both directions occur.
type Ratio struct {
	Exact     Interval    `json:"exact"`
	Bound     string      `json:"bound,omitempty"`
	BoundMean float64     `json:"bound_mean,omitempty"`
	PerSeed   []SeedRatio `json:"per_seed"`
}

// SeedRatio is the speedup on one seed: Kind "=" (both reached), ">" or
// "<" (a bound), or "none" (neither reached).
type SeedRatio struct {
	Seed  uint64  `json:"seed"`
	Kind  string  `json:"kind"`
	Value float64 `json:"value,omitempty"`
}

// Summarise fills Summary (over the finished runs) and Complete.
func (res *CompareResult) Summarise() {
	defer func() { res.BudgetSummary = res.SummariseBudgets() }()
	c := res.Config
	res.Complete = true
	for i, r := range res.Runs {
		if !r.Done && c.Shard.Owns(i) {
			res.Complete = false
		}
	}
	res.Summary = nil
	for _, m := range c.Methods {
		ms := &MethodSummary{Method: m.Name}
		var final, best, secs, seen, frac, share, fwd, bwd, cost []float64
		for _, seed := range c.Seeds {
			r := res.Run(m.Name, seed)
			if r == nil || !r.Done {
				continue
			}
			ms.Finished++
			if r.Diverged != "" {
				ms.Diverged++
				continue
			}
			e, ok := r.last()
			if !ok {
				continue
			}
			final = append(final, e.TestAcc)
			b := 0.0
			for _, x := range r.Epochs {
				b = math.Max(b, x.TestAcc)
			}
			best = append(best, b)
			secs = append(secs, e.TrainSeconds)
			seen = append(seen, float64(e.SamplesSeen))
			if c := r.costPerSample(); c > 0 {
				cost = append(cost, c)
			}
			fwd, bwd = append(fwd, float64(e.ForwardSamples)), append(bwd, float64(e.BackwardSamples))
			if res.TrainSamples > 0 {
				frac = append(frac, float64(e.EpochSamples)/float64(res.TrainSamples))
			}
			g := 0.0
			for _, ev := range r.Evals {
				g += ev.EvalSeconds
			}
			if e.TrainSeconds > 0 {
				share = append(share, g/e.TrainSeconds)
			}
		}
		inf := math.Inf(1)
		ms.FinalTestAcc, ms.BestTestAcc = BoundedMeanCI(final, 0, 1), BoundedMeanCI(best, 0, 1)
		ms.TrainSeconds, ms.CostPerSample = GeoMeanCI(secs), GeoMeanCI(cost)
		ms.SamplesSeen, ms.EpochFraction, ms.GridEvalShare = BoundedMeanCI(seen, 0, inf), BoundedMeanCI(frac, 0, 1), BoundedMeanCI(share, 0, inf)
		ms.ForwardSamples, ms.BackwardSamples = BoundedMeanCI(fwd, 0, inf), BoundedMeanCI(bwd, 0, inf)
		ms.FinalGap, ms.WorstDip = res.gaps(m.Name)
		for _, tg := range c.Targets {
			ts := &TargetSummary{Target: tg}
			var tt, gs, split []float64
			for _, seed := range c.Seeds {
				r := res.Run(m.Name, seed)
				if r == nil || !r.Done {
					continue
				}
				ts.Of++
				if h, ok := r.hit(tg, res.Config.Clock); ok {
					ts.Reached++
					tt = append(tt, h.TrainSeconds)
					gs = append(gs, float64(h.GridSamples))
					split = append(split, float64(h.GridSamples)*r.costPerSample())
				}
			}
			ts.TrainSeconds, ts.GridSamples, ts.SplitSeconds = GeoMeanCI(tt), GeoMeanCI(gs), GeoMeanCI(split)
			for _, b := range c.Baselines {
				ts.Speedups = append(ts.Speedups, res.speedup(m.Name, b, tg))
			}
			ms.Targets = append(ms.Targets, ts)
		}
		res.Summary = append(res.Summary, ms)
	}
}

// speedup pairs method with baseline seed by seed for target tg.
func (res *CompareResult) speedup(method, baseline string, tg float64) *Speedup {
	sp := &Speedup{Baseline: baseline}
	var exT, exS, exC, allT, allS, allC []float64
	lower, upper := false, false
	for _, seed := range res.Config.Seeds {
		m, b := res.Run(method, seed), res.Run(baseline, seed)
		if m == nil || b == nil || !m.Done || !b.Done {
			continue
		}
		hm, okM := m.hit(tg, res.Config.Clock)
		hb, okB := b.hit(tg, res.Config.Clock)
		mSecs, mSeen := m.trained()
		bSecs, bSeen := b.trained()
		// The cost ratio of the time split: baseline's cost per sample over
		// the method's (1 when either ran no epoch).
		cr := 1.0
		if cm, cb := m.costPerSample(), b.costPerSample(); cm > 0 && cb > 0 {
			cr = cb / cm
		}
		var rt, rs, rc SeedRatio
		switch {
		case okM && okB:
			rt = SeedRatio{seed, "=", hb.TrainSeconds / hm.TrainSeconds}
			rs = SeedRatio{seed, "=", float64(hb.GridSamples) / float64(hm.GridSamples)}
			exT, exS = append(exT, rt.Value), append(exS, rs.Value)
		case okB: // the method needs more than all its training
			rt = SeedRatio{seed, "<", hb.TrainSeconds / mSecs}
			rs = SeedRatio{seed, "<", float64(hb.GridSamples) / float64(mSeen)}
			upper = true
		case okM: // the baseline needs more than all its training
			rt = SeedRatio{seed, ">", bSecs / hm.TrainSeconds}
			rs = SeedRatio{seed, ">", float64(bSeen) / float64(hm.GridSamples)}
			lower = true
		default:
			rt, rs = SeedRatio{Seed: seed, Kind: "none"}, SeedRatio{Seed: seed, Kind: "none"}
		}
		rc = SeedRatio{Seed: seed, Kind: rs.Kind}
		if rs.Kind != "none" {
			rc.Value = rs.Value * cr
			allT, allS, allC = append(allT, rt.Value), append(allS, rs.Value), append(allC, rc.Value)
		}
		if rs.Kind == "=" {
			exC = append(exC, rc.Value)
		}
		sp.Time.PerSeed = append(sp.Time.PerSeed, rt)
		sp.Samples.PerSeed = append(sp.Samples.PerSeed, rs)
		sp.Split.PerSeed = append(sp.Split.PerSeed, rc)
	}
	sp.Time.Exact, sp.Samples.Exact, sp.Split.Exact = GeoMeanCI(exT), GeoMeanCI(exS), GeoMeanCI(exC)
	bound := ""
	switch {
	case lower && upper:
		bound = "?"
	case lower:
		bound = ">"
	case upper:
		bound = "<"
	}
	if bound != "" {
		sp.Time.Bound, sp.Samples.Bound, sp.Split.Bound = bound, bound, bound
		if bound != "?" {
			sp.Time.BoundMean, sp.Samples.BoundMean, sp.Split.BoundMean = geoMean(allT), geoMean(allS), geoMean(allC)
		}
	}
	return sp
}

// TargetKey formats a target ("0.985").
func TargetKey(t float64) string { return strconv.FormatFloat(t, 'f', -1, 64) }

// fmtInterval formats a mean with its interval: "12.3 [10.1, 14.5]".
func fmtInterval(iv Interval, format string) string {
	if iv.N == 0 || math.IsNaN(iv.Mean) {
		return "—"
	}
	if iv.N == 1 || math.IsNaN(iv.Lo) {
		return fmt.Sprintf(format, iv.Mean)
	}
	lo := fmt.Sprintf(format, iv.Lo)
	if iv.Scale == ScaleLog && iv.Lo > 0 {
		if z, err := strconv.ParseFloat(lo, 64); err == nil && z == 0 {
			lo = strconv.FormatFloat(iv.Lo, 'g', 2, 64) // positive: not rounded to 0
		}
	}
	return fmt.Sprintf(format+" [%s, "+format+"]", iv.Mean, lo, iv.Hi)
}

// scaled returns iv in other units (its values times k > 0).
func scaled(iv Interval, k float64) Interval {
	iv.Mean, iv.Lo, iv.Hi = iv.Mean*k, iv.Lo*k, iv.Hi*k
	if iv.Scale == "" {
		iv.SD *= k
	}
	return iv
}

// seedsBehind is the number of runs behind the summary's intervals: the
// fewest finished runs that did not diverge of any method (the number of
// seeds before any run finished).
func (res *CompareResult) seedsBehind() int {
	n := len(res.Config.Seeds)
	for _, s := range res.Summary {
		if k := s.Finished - s.Diverged; k > 0 {
			n = min(n, k)
		}
	}
	return n
}

// fmtRatio formats a speedup cell; E is the number of epochs.
func fmtRatio(r Ratio, E int) string {
	var notM, notB, none int
	for _, p := range r.PerSeed {
		switch p.Kind {
		case "<":
			notM++
		case ">":
			notB++
		case "none":
			none++
		}
	}
	switch {
	case len(r.PerSeed) == 0:
		return "no finished pair"
	case r.Exact.N == 0 && r.Bound == "":
		return fmt.Sprintf("neither reached in %d epochs", E)
	}
	var s string
	switch r.Bound {
	case "":
		s = fmtInterval(r.Exact, "%.2f") + "×"
	case ">":
		s = fmt.Sprintf("> %.2f× (baseline not reached in %d epochs on %d of %d seeds)", r.BoundMean, E, notB, len(r.PerSeed))
	case "<":
		s = fmt.Sprintf("< %.2f× (not reached in %d epochs on %d of %d seeds)", r.BoundMean, E, notM, len(r.PerSeed))
	default:
		if r.Exact.N == 0 {
			s = fmt.Sprintf("no seed where both reached it: method not reached on %d, baseline on %d", notM, notB)
		} else {
			s = fmt.Sprintf("%s on %d seeds; method not reached on %d, baseline on %d", fmtInterval(r.Exact, "%.2f")+"×", r.Exact.N, notM, notB)
		}
	}
	if none > 0 {
		s += fmt.Sprintf("; neither reached on %d", none)
	}
	return s
}

// CompareMarkdown renders compare.md: the tables a person reads.
func CompareMarkdown(res *CompareResult) string {
	if len(res.Summary) != len(res.Config.Methods) {
		res.Summarise()
	}
	c := res.Config
	var b strings.Builder
	seeds := make([]string, len(c.Seeds))
	for i, s := range c.Seeds {
		seeds[i] = strconv.FormatUint(s, 10)
	}
	E := c.Base.Epochs
	fmt.Fprintf(&b, "# compare: %s on %s, %d epochs, seeds %s, device %s\n\n", c.Base.Model, c.Base.Dataset, E, strings.Join(seeds, ","), c.Base.Device)
	if !res.Complete {
		done := 0
		for _, r := range res.Runs {
			if r.Done {
				done++
			}
		}
		fmt.Fprintf(&b, "**Partial result: %d of %d runs finished** (continue with `sgds compare --resume DIR`).\n\n", done, len(res.Runs))
	}
	clock := "the first grid point reaching the target"
	if c.Clock == "stays" {
		clock = "the grid point from which the run stays at or above the target to its end (a curve that touches it and falls back does not count)"
	}
	fmt.Fprintf(&b, "Training set %d images; evaluation grid every %d samples on **%s** accuracy, the same points for every method. "+
		"Samples to target = %s (exact, free of machine noise); cost per sample = a run's training seconds "+
		"(evaluation excluded) per sample trained on, the median over its epochs; time to target = samples × cost per sample, per seed; "+
		"the wall clock = training seconds at that grid point, which a shared machine's load also moves. "+
		"Accuracies: means with 95%% t intervals [lo, hi] cut to [0, 1]; counts: means with intervals cut at 0; times, costs and speedups: "+
		"geometric means with 95%% intervals on the log scale. Speedups are the baseline's samples (time) over the method's, paired by seed.\n\n",
		res.TrainSamples, c.Base.EvalEvery, res.TargetOn, clock)
	switch n := res.seedsBehind(); {
	case n == 1:
		b.WriteString("**n = 1: no intervals** (one seed per method).\n\n")
	case n < 3:
		fmt.Fprintf(&b, "**n = %d: intervals are indicative only** (fewer than 3 seeds per method).\n\n", n)
	}
	bl := "the baseline"
	if len(c.Baselines) > 0 {
		bl = c.Baselines[0]
	}
	fmt.Fprintf(&b, "| method | sampler | lr | momentum | batch | final test acc | final − %s | worst dip below %s on the grid after epoch 1 | best test acc | train s | cost per sample µs | samples seen (backward) | forward samples | data per epoch at end | grid eval / train time |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n", bl, bl)
	for _, m := range c.Methods {
		s := res.Method(m.Name)
		sampler := m.Describe()
		lr := fmt.Sprintf("%g", m.LR)
		if m.Tuned != "" {
			lr += " (tuned)"
		}
		runs := fmt.Sprintf("%s (%d/%d runs", m.Name, s.Finished, len(c.Seeds))
		if s.Diverged > 0 {
			runs += fmt.Sprintf(", %d diverged", s.Diverged)
		}
		gap, dip := "(baseline)", "(baseline)"
		if s.FinalGap != nil {
			gap, dip = fmtInterval(*s.FinalGap, "%+.4f"), fmtInterval(*s.WorstDip, "%+.4f")
		}
		fmt.Fprintf(&b, "| %s) | %s | %s | %g | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", runs, sampler, lr, m.Momentum, m.Batch,
			fmtInterval(s.FinalTestAcc, "%.4f"), gap, dip, fmtInterval(s.BestTestAcc, "%.4f"), fmtInterval(s.TrainSeconds, "%.1f"),
			fmtInterval(scaled(s.CostPerSample, 1e6), "%.2f"),
			fmtInterval(s.SamplesSeen, "%.0f"), fmtInterval(s.ForwardSamples, "%.0f"), fmtInterval(s.EpochFraction, "%.3f"), fmtInterval(s.GridEvalShare, "%.2f"))
	}
	for ti, tg := range c.Targets {
		fmt.Fprintf(&b, "\n### Target %s (%s accuracy)\n\n| method | reached | samples to target | time to target s (samples × cost) | wall clock s at target |", TargetKey(tg), res.TargetOn)
		for _, bl := range c.Baselines {
			fmt.Fprintf(&b, " speedup over %s (samples) | (samples × cost) | (wall clock) |", bl)
		}
		b.WriteString("\n|---|---|---|---|---|" + strings.Repeat("---|---|---|", len(c.Baselines)) + "\n")
		for _, m := range c.Methods {
			ts := res.Method(m.Name).Targets[ti]
			gs, st, tt := fmtInterval(ts.GridSamples, "%.0f"), fmtInterval(ts.SplitSeconds, "%.1f"), fmtInterval(ts.TrainSeconds, "%.1f")
			if ts.Reached == 0 {
				gs, st, tt = fmt.Sprintf("not reached in %d epochs", E), "—", "—"
			} else if ts.Reached < ts.Of {
				gs += fmt.Sprintf(" (reached on %d; not in %d epochs on %d)", ts.Reached, E, ts.Of-ts.Reached)
			}
			fmt.Fprintf(&b, "| %s | %d/%d | %s | %s | %s |", m.Name, ts.Reached, ts.Of, gs, st, tt)
			for _, sp := range ts.Speedups {
				if sp.Baseline == m.Name {
					b.WriteString(" (baseline) | | |")
					continue
				}
				fmt.Fprintf(&b, " %s | %s | %s |", fmtRatio(sp.Samples, E), fmtRatio(sp.Split, E), fmtRatio(sp.Time, E))
			}
			b.WriteString("\n")
		}
	}
	b.WriteString(BudgetMarkdown(res))
	return b.String()
}
