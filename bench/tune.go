package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"

	"github.com/sgds/sgds/internal/atomicfile"
	"github.com/sgds/sgds/internal/limits"
	"github.com/sgds/sgds/internal/provenance"
	"github.com/sgds/sgds/internal/safefile"
	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/training"
)

// Tuning picks each method's learning rate and momentum from a small grid
// by validation accuracy after a short budget. The test set is never
// used: the trainers evaluate the validation split only.

// DefaultLRs and DefaultMomenta are the grid of sgds tune.
var (
	DefaultLRs     = []float64{0.005, 0.01, 0.02, 0.05, 0.1}
	DefaultMomenta = []float64{0.5, 0.9}
)

// TuneConfig configures a tuning run.
type TuneConfig struct {
	// Base holds data, model, device, the budget (Epochs) and the
	// validation split (Val > 0, required).
	Base    run.Config   `json:"base"`
	Methods []run.Method `json:"methods"`
	LRs     []float64    `json:"lrs"`
	Momenta []float64    `json:"momenta"`
	// Schedules are the learning-rate schedules tried (training.Schedules);
	// empty: each method's own.
	Schedules []string `json:"schedules,omitempty"`
	Seeds     []uint64 `json:"seeds"`
	// Data is the folder of the data set's files ("" for the default
	// search), for tune --resume.
	Data string `json:"data,omitempty"`
	// Shard, when set, is the part of the grid's trials this tuning run
	// trains (tune --shard K/N: trial i, in grid order, when i mod N = K−1);
	// MergeTune joins the parts.
	Shard *Shard `json:"shard,omitempty"`
}

// grid calls f for every trial of c in grid order (method, schedule, lr,
// momentum, seed) with its index; f's error stops it.
func (c TuneConfig) grid(f func(i int, m run.Method, sc string, lr, mom float64, seed uint64) error) error {
	i := 0
	for _, m := range c.Methods {
		for _, sc := range c.schedulesOf(m) {
			for _, lr := range c.LRs {
				for _, mom := range c.Momenta {
					for _, seed := range c.Seeds {
						if err := f(i, m, sc, lr, mom, seed); err != nil {
							return err
						}
						i++
					}
				}
			}
		}
	}
	return nil
}

// schedulesOf lists the schedules tried for m ("" is constant).
func (c TuneConfig) schedulesOf(m run.Method) []string {
	if len(c.Schedules) == 0 {
		return []string{m.LRSchedule}
	}
	return c.Schedules
}

// TuneTrial is one method at one setting on one seed.
type TuneTrial struct {
	Method       string  `json:"method"`
	LR           float64 `json:"lr"`
	Momentum     float64 `json:"momentum"`
	Schedule     string  `json:"schedule,omitempty"`
	Seed         uint64  `json:"seed"`
	ValAcc       float64 `json:"val_acc"` // after the budget; 0 when diverged
	ValLoss      float64 `json:"val_loss,omitempty"`
	TrainSeconds float64 `json:"train_seconds"`
	Diverged     string  `json:"diverged,omitempty"`
}

// TuneChoice is the setting chosen for a method: the highest mean
// validation accuracy over the seeds (the first in grid order on a tie).
type TuneChoice struct {
	Method   string  `json:"method"`
	LR       float64 `json:"lr"`
	Momentum float64 `json:"momentum"`
	Schedule string  `json:"schedule,omitempty"`
	ValAcc   float64 `json:"val_acc"` // mean over the seeds
}

// TuneResult is tune.json.
type TuneResult struct {
	// Provenance is that of the invocation that started the tuning run;
	// Resumes those of each tune --resume after it.
	Provenance provenance.Provenance   `json:"provenance"`
	Resumes    []provenance.Provenance `json:"resumes,omitempty"`
	Config     TuneConfig              `json:"config"`
	// Data identifies the data the trials trained on (nil in older files).
	Data     *run.DataPrint `json:"data_print,omitempty"`
	Complete bool           `json:"complete"`
	Trials   []TuneTrial    `json:"trials"`
	Chosen   []TuneChoice   `json:"chosen"`
	// Shards are the provenances of the shards a merged tuning run was
	// joined from (sgds merge).
	Shards []ShardProvenance `json:"shards,omitempty"`
}

// Choices returns the chosen settings by method name, as compare --tuned
// takes them.
func (t *TuneResult) Choices() map[string]run.Choice {
	m := map[string]run.Choice{}
	for _, c := range t.Chosen {
		m[c.Method] = run.Choice{LR: c.LR, Momentum: c.Momentum, Schedule: c.Schedule}
	}
	return m
}

// Validate checks a tuning configuration.
// MaxTuneTrials bounds the trials of a tuning run (a tune.json of at
// most about 150 MB, which ReadTune reads back).
const MaxTuneTrials = 100_000

func (c TuneConfig) Validate() error {
	if c.Base.Val <= 0 {
		return errors.New("tune chooses on validation accuracy: --val must be > 0")
	}
	if sh := c.Shard; sh != nil && !(sh.N >= 1 && sh.N <= MaxShards && sh.K >= 1 && sh.K <= sh.N) {
		return fmt.Errorf("--shard %d/%d: want K/N with 1 ≤ K ≤ N ≤ %d", sh.K, sh.N, MaxShards)
	}
	if len(c.Methods) == 0 || len(c.LRs) == 0 || len(c.Momenta) == 0 || len(c.Seeds) == 0 {
		return errors.New("tune needs methods, learning rates, momenta and seeds")
	}
	if n, ok := limits.Mul(int64(len(c.Methods)), int64(len(c.LRs)), int64(len(c.Momenta)), int64(len(c.Seeds))); !ok || n > MaxTuneTrials {
		return fmt.Errorf("%d methods × %d --lrs × %d --momenta × %d --seeds: more than %d trials", len(c.Methods), len(c.LRs), len(c.Momenta), len(c.Seeds), MaxTuneTrials)
	}
	names := map[string]bool{}
	for _, m := range c.Methods {
		if names[m.Name] {
			return fmt.Errorf("--method: name %q used twice", m.Name)
		}
		names[m.Name] = true
		for _, sc := range c.schedulesOf(m) {
			for _, lr := range c.LRs {
				for _, mom := range c.Momenta {
					m.LR, m.Momentum, m.LRSchedule = lr, mom, sc
					if err := m.Config(c.Base).Validate(); err != nil {
						return fmt.Errorf("method %s at lr %g, momentum %g, schedule %q: %w", m.Name, lr, mom, sc, err)
					}
				}
			}
		}
	}
	return nil
}

// Tune trains every method at every grid setting on every seed for
// c.Base.Epochs on d.Train, evaluating on d.Val only, and chooses per
// method. save, when set, is called after every trial with the result so
// far.
func Tune(ctx context.Context, c TuneConfig, d *run.Data, prov provenance.Provenance, log io.Writer, save func(*TuneResult) error) (*TuneResult, error) {
	return TuneFrom(ctx, c, d, prov, log, save, nil)
}

// TuneFrom is Tune continuing prev, the tune.json of an interrupted
// tuning run of c (tune --resume): its trials are kept, in their order,
// and the others trained; the data must be the data prev trained on.
func TuneFrom(ctx context.Context, c TuneConfig, d *run.Data, prov provenance.Provenance, log io.Writer, save func(*TuneResult) error, prev *TuneResult) (*TuneResult, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if d.Val == nil {
		return nil, errors.New("tune: the data has no validation split")
	}
	dp := d.Print()
	res := &TuneResult{Provenance: prov, Config: c, Data: &dp}
	var kept []TuneTrial
	if prev != nil {
		if prev.Data != nil {
			if err := prev.Data.CheckData(dp, c.Data); err != nil {
				return nil, err
			}
		}
		res.Provenance, res.Resumes = prev.Provenance, append(slices.Clone(prev.Resumes), prov)
		kept = prev.Trials
	}
	// The trainer's "test" set is the validation split: the test set is
	// never evaluated. No grid: only the accuracy after the budget counts.
	vd := &run.Data{Train: d.Train, Test: d.Val}
	base := c.Base
	base.EvalEvery = run.MaxEvalEvery
	total := 0
	c.grid(func(i int, _ run.Method, _ string, _, _ float64, _ uint64) error {
		if c.Shard.Owns(i) {
			total++
		}
		return nil
	})
	err := c.grid(func(i int, m run.Method, sc string, lr, mom float64, seed uint64) error {
		if !c.Shard.Owns(i) {
			return nil
		}
		return tuneTrial(ctx, res, kept, m, sc, lr, mom, seed, base, vd, total, log, save)
	})
	if err != nil {
		return res, err
	}
	res.Complete = true
	res.choose()
	if save != nil {
		return res, save(res)
	}
	return res, nil
}

// tuneTrial trains method m at one grid setting on one seed and records
// the trial in res; a trial kept from an interrupted run (tune --resume)
// is taken as it was, after checking it is this grid point.
func tuneTrial(ctx context.Context, res *TuneResult, kept []TuneTrial, m run.Method, sc string, lr, mom float64, seed uint64, base run.Config, vd *run.Data,
	total int, log io.Writer, save func(*TuneResult) error) error {
	m.LR, m.Momentum, m.LRSchedule = lr, mom, sc
	rc := m.Config(base)
	rc.Seed = seed
	tr := TuneTrial{Method: m.Name, LR: lr, Momentum: mom, Schedule: sc, Seed: seed}
	if i := len(res.Trials); i < len(kept) {
		k := kept[i]
		if k.Method != tr.Method || k.LR != lr || k.Momentum != mom || k.Schedule != sc || k.Seed != seed {
			return fmt.Errorf("tune.json: trial %d is %s at lr %g, momentum %g, schedule %s, seed %d; the grid's is %s at lr %g, momentum %g, schedule %s, seed %d",
				i+1, k.Method, k.LR, k.Momentum, scheduleName(k.Schedule), k.Seed, tr.Method, lr, mom, scheduleName(sc), seed)
		}
		res.Trials = append(res.Trials, k)
		return nil
	}
	t, err := run.NewTrainer(rc, vd, nil, run.Hooks{})
	if err != nil {
		return err
	}
	err = t.Run(ctx)
	t.Net.Close()
	switch {
	case errors.Is(err, training.ErrDiverged):
		tr.Diverged = err.Error()
	case err != nil:
		return err
	default:
		e := t.History[len(t.History)-1]
		tr.ValAcc, tr.ValLoss, tr.TrainSeconds = e.TestAcc, e.TestLoss, e.TrainSeconds
	}
	res.Trials = append(res.Trials, tr)
	if log != nil {
		status := fmt.Sprintf("val_acc %.4f  train %.1fs", tr.ValAcc, tr.TrainSeconds)
		if tr.Diverged != "" {
			status = "diverged"
		}
		fmt.Fprintf(log, "tune %d/%d  %-16s lr %-6g momentum %-4g %-8s seed %d  %s\n", len(res.Trials), total, m.Name, lr, mom, scheduleName(sc), seed, status)
	}
	res.choose()
	if save != nil {
		return save(res)
	}
	return nil
}

// scheduleName is sc, or constant for "".
func scheduleName(sc string) string {
	if sc == "" {
		return "constant"
	}
	return sc
}

// choose fills Chosen from the trials so far.
func (res *TuneResult) choose() {
	res.Chosen = nil
	for _, m := range res.Config.Methods {
		best := TuneChoice{Method: m.Name, ValAcc: math.Inf(-1)}
		for _, sc := range res.Config.schedulesOf(m) {
			for _, lr := range res.Config.LRs {
				for _, mom := range res.Config.Momenta {
					var accs []float64
					for _, t := range res.Trials {
						if t.Method == m.Name && t.LR == lr && t.Momentum == mom && t.Schedule == sc {
							accs = append(accs, t.ValAcc)
						}
					}
					if len(accs) == 0 {
						continue
					}
					if a := meanOr(accs, 0); a > best.ValAcc {
						best.LR, best.Momentum, best.Schedule, best.ValAcc = lr, mom, sc, a
					}
				}
			}
		}
		if !math.IsInf(best.ValAcc, -1) {
			res.Chosen = append(res.Chosen, best)
		}
	}
}

// TuneMarkdown renders the grid of mean validation accuracies per method.
func TuneMarkdown(res *TuneResult) string {
	var s string
	c := res.Config
	s += fmt.Sprintf("# tune: %s on %s, %d epochs, validation %d images, seeds %v\n\n", c.Base.Model, c.Base.Dataset, c.Base.Epochs, c.Base.Val, c.Seeds)
	s += "Mean validation accuracy after the budget (the test set is never evaluated); **bold** is chosen.\n"
	for _, m := range c.Methods {
		ch := TuneChoice{}
		for _, x := range res.Chosen {
			if x.Method == m.Name {
				ch = x
			}
		}
		for _, sc := range c.schedulesOf(m) {
			s += fmt.Sprintf("\n### %s, schedule %s\n\n| lr \\ momentum |", m.Name, scheduleName(sc))
			for _, mom := range c.Momenta {
				s += fmt.Sprintf(" %g |", mom)
			}
			s += "\n|---|"
			for range c.Momenta {
				s += "---|"
			}
			s += "\n"
			for _, lr := range c.LRs {
				s += fmt.Sprintf("| %g |", lr)
				for _, mom := range c.Momenta {
					var accs []float64
					div := 0
					for _, t := range res.Trials {
						if t.Method == m.Name && t.LR == lr && t.Momentum == mom && t.Schedule == sc {
							accs = append(accs, t.ValAcc)
							if t.Diverged != "" {
								div++
							}
						}
					}
					cell := "—"
					if len(accs) > 0 {
						cell = fmt.Sprintf("%.4f", meanOr(accs, 0))
						if div > 0 {
							cell += fmt.Sprintf(" (%d diverged)", div)
						}
						if lr == ch.LR && mom == ch.Momentum && sc == ch.Schedule {
							cell = "**" + cell + "**"
						}
					}
					s += " " + cell + " |"
				}
				s += "\n"
			}
		}
	}
	return s
}

// WriteTune writes tune.json and tune.md into dir (atomically).
func WriteTune(res *TuneResult, dir string) error {
	if err := atomicfile.WriteJSON(filepath.Join(dir, "tune.json"), res); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, "tune.md"), []byte(TuneMarkdown(res)))
}

// ReadTunePartial reads a tune.json, complete or not, for tune --resume
// (readTune), and checks that its configuration validates and that it
// holds at most its grid's trials.
func ReadTunePartial(path string) (*TuneResult, error) {
	res, err := readTune(path)
	if err != nil {
		return nil, err
	}
	if err := res.Config.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if total := len(res.Config.Methods) * len(res.Config.LRs) * len(res.Config.Momenta) * len(res.Config.Seeds); len(res.Trials) > total {
		return nil, fmt.Errorf("%s: %d trials, the grid has %d", path, len(res.Trials), total)
	}
	return res, nil
}

// readTune reads a tune.json and range-checks its values: method names
// as the command line allows them, accuracies in [0, 1], finite
// non-negative times and losses.
func readTune(path string) (*TuneResult, error) {
	b, err := safefile.ReadAll(path, MaxCompareBytes)
	if err != nil {
		return nil, err
	}
	res := &TuneResult{}
	if err := jsonUnmarshal(b, res); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, m := range res.Config.Methods {
		if err := run.CheckMethodName(m.Name); err != nil {
			return nil, fmt.Errorf("%s: config.methods: %w", path, err)
		}
	}
	var v valueCheck
	for i, tr := range res.Trials {
		w := fmt.Sprintf("trials[%d]:", i)
		v.acc(w+" val_acc", tr.ValAcc)
		v.loss(w+" val_loss", tr.ValLoss)
		v.seconds(w+" train_seconds", tr.TrainSeconds)
	}
	if v.err != nil {
		return nil, fmt.Errorf("%s: %w", path, v.err)
	}
	return res, nil
}

// ReadTune reads a tune.json (a complete one: every trial done).
func ReadTune(path string) (*TuneResult, error) {
	res, err := readTune(path)
	if err != nil {
		return nil, err
	}
	if !res.Complete {
		return nil, fmt.Errorf("%s: the tuning run did not finish", path)
	}
	if len(res.Chosen) == 0 {
		return nil, fmt.Errorf("%s: no method was chosen", path)
	}
	for _, ch := range res.Chosen {
		if err := run.CheckMethodName(ch.Method); err != nil {
			return nil, fmt.Errorf("%s: chosen: %w", path, err)
		}
		if !(ch.ValAcc >= 0 && ch.ValAcc <= 1) {
			return nil, fmt.Errorf("%s: method %s: validation accuracy %v not in [0, 1]", path, ch.Method, ch.ValAcc)
		}
		if !(ch.LR > 0 && ch.LR <= 1e6) || !(ch.Momentum >= 0 && ch.Momentum < 1) {
			return nil, fmt.Errorf("%s: method %s: lr %v, momentum %v out of range", path, ch.Method, ch.LR, ch.Momentum)
		}
	}
	return res, nil
}
