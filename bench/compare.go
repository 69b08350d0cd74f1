package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/plot/vg"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/internal/atomicfile"
	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/sampler"
)

// Method is one way of choosing samples that compare runs.
type Method struct {
	Name     string                  `json:"name"`
	Sampler  string                  `json:"sampler"`
	Score    string                  `json:"score,omitempty"`
	Schedule *sampler.ScheduleConfig `json:"schedule,omitempty"`
}

// Methods returns uniform and SGD-S with the given schedule, and with
// variants also SGD-S unbiased and SGD-S mixed with uniform (λ = 0.2 unless
// the schedule already mixes).
func Methods(sc sampler.ScheduleConfig, score string, variants bool) []Method {
	ms := []Method{{Name: "uniform", Sampler: "uniform"}, {Name: "sgds", Sampler: "sgds", Score: score, Schedule: &sc}}
	if variants {
		ub := sc
		ub.Unbiased = true
		mix := sc
		if mix.Mix == 0 {
			mix.Mix = 0.2
		}
		ms = append(ms, Method{Name: "sgds-unbiased", Sampler: "sgds", Score: score, Schedule: &ub},
			Method{Name: fmt.Sprintf("sgds-mix%.2g", mix.Mix), Sampler: "sgds", Score: score, Schedule: &mix})
	}
	return ms
}

// CompareConfig configures the compare experiment (docs/METHOD.md §3 and §5).
type CompareConfig struct {
	Base    run.Config `json:"base"` // model, data, optimiser, epochs; Sampler and Seed are set per run
	Seeds   []uint64   `json:"seeds"`
	Targets []float64  `json:"targets"`
	Methods []Method   `json:"methods"`
	// Parallel is how many seeds train at once (default 1). The methods of
	// a seed always share their goroutine and alternate epoch by epoch.
	Parallel int `json:"parallel,omitempty"`
}

// RunResult is one method on one seed.
type RunResult struct {
	Method       string                `json:"method"`
	Seed         uint64                `json:"seed"`
	TestAcc      []float64             `json:"test_acc"`
	ValAcc       []float64             `json:"val_acc,omitempty"`
	TrainSeconds []float64             `json:"train_seconds"` // cumulative, per epoch
	SamplesSeen  []int64               `json:"samples_seen"`  // cumulative, per epoch
	KeptFraction []float64             `json:"kept_fraction"` // per epoch
	Targets      map[string]*TargetRec `json:"targets"`       // by target; null if not reached
	Epochs       []engine.EpochMetrics `json:"epochs"`
}

// TargetRec records when a run first reached a target accuracy.
type TargetRec struct {
	Epoch           int     `json:"epoch"`
	TimeToTarget    float64 `json:"time_to_target"`
	SamplesToTarget int64   `json:"samples_to_target"`
}

// Stat is a mean and sample standard deviation over N values.
type Stat struct {
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
	N    int     `json:"n"`
}

func statOf(xs []float64) Stat {
	s := Stat{N: len(xs), Mean: math.NaN(), SD: math.NaN()}
	if len(xs) > 0 {
		s.Mean = stat.Mean(xs, nil)
	}
	if len(xs) > 1 {
		s.SD = stat.StdDev(xs, nil)
	}
	return s
}

// MethodSummary aggregates a method over seeds.
type MethodSummary struct {
	FinalTestAcc    Stat            `json:"final_test_acc"`
	BestTestAcc     Stat            `json:"best_test_acc"`
	TrainSeconds    Stat            `json:"train_seconds"`
	SamplesSeen     Stat            `json:"samples_seen"`
	KeptFraction    Stat            `json:"kept_fraction_final"`
	MaxDipBelowUnif Stat            `json:"max_dip_below_uniform"` // max over epochs of uniform's minus this method's accuracy
	TimeToTarget    map[string]Stat `json:"time_to_target"`
	SamplesToTarget map[string]Stat `json:"samples_to_target"`
	Reached         map[string]int  `json:"reached"`
}

// Speedup of a method over uniform for one target, paired by seed over the
// seeds where both reached it.
type Speedup struct {
	SpeedupTime    Stat `json:"speedup_time"`
	SpeedupSamples Stat `json:"speedup_samples"`
}

// CompareResult is compare.json.
type CompareResult struct {
	Config    CompareConfig                 `json:"config"`
	TargetOn  string                        `json:"target_on"` // "val" or "test"
	Runs      []*RunResult                  `json:"runs"`
	PerMethod map[string]*MethodSummary     `json:"per_method"`
	PerTarget map[string]map[string]Speedup `json:"per_target"`
}

// TargetKey formats a target as a map key ("0.985").
func TargetKey(t float64) string { return strconv.FormatFloat(t, 'f', -1, 64) }

// Compare trains every method on every seed from the same initial weights
// per seed. The methods of a seed advance in lockstep, one epoch each in a
// rotating order, so that machine noise hits them alike.
func Compare(ctx context.Context, c CompareConfig, d *run.Data, log io.Writer) (*CompareResult, error) {
	if len(c.Seeds) == 0 || len(c.Methods) == 0 {
		return nil, fmt.Errorf("compare needs at least one seed and one method")
	}
	res := &CompareResult{Config: c, TargetOn: "test"}
	if d.Val != nil {
		res.TargetOn = "val"
	}
	m, err := engine.LookupModel(c.Base.Model)
	if err != nil {
		return nil, err
	}
	par := max(1, min(c.Parallel, len(c.Seeds)))
	perSeed := make([][]*RunResult, len(c.Seeds))
	errs := make([]error, len(c.Seeds))
	var logMu sync.Mutex
	logf := func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		fmt.Fprintf(log, format, args...)
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for k, seed := range c.Seeds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			perSeed[k], errs[k] = compareSeed(ctx, c, d, engine.InitParams(m, seed), seed, logf)
		}()
	}
	wg.Wait()
	for k := range c.Seeds {
		if errs[k] != nil {
			return nil, errs[k]
		}
		res.Runs = append(res.Runs, perSeed[k]...)
	}
	res.summarise()
	return res, nil
}

// compareSeed trains every method from the same initial weights, in
// lockstep: one epoch each, in an order that rotates every epoch.
func compareSeed(ctx context.Context, c CompareConfig, d *run.Data, init []engine.Param, seed uint64, logf func(string, ...any)) ([]*RunResult, error) {
	trainers := make([]*engine.Trainer, len(c.Methods))
	runs := make([]*RunResult, len(c.Methods))
	for i, meth := range c.Methods {
		rc := c.Base
		rc.Seed, rc.Sampler, rc.Score, rc.Schedule = seed, meth.Sampler, meth.Score, meth.Schedule
		t, err := run.NewTrainer(rc, d, init, run.Hooks{Targets: c.Targets})
		if err != nil {
			return nil, fmt.Errorf("method %s: %w", meth.Name, err)
		}
		defer t.Net.Close()
		trainers[i] = t
		runs[i] = &RunResult{Method: meth.Name, Seed: seed}
	}
	for epoch := 1; epoch <= c.Base.Epochs; epoch++ {
		for k := range c.Methods {
			i := (k + epoch - 1) % len(c.Methods)
			t := trainers[i]
			t.Epochs = epoch
			if err := t.Run(ctx); err != nil {
				return nil, fmt.Errorf("seed %d, method %s: %w", seed, c.Methods[i].Name, err)
			}
			e := t.History[len(t.History)-1]
			logf("seed %d  %-14s %s\n", seed, c.Methods[i].Name, run.EpochLine(e, c.Base.Epochs))
		}
	}
	for i, t := range trainers {
		runs[i].fill(t, d.Train.N, c.Targets)
	}
	return runs, nil
}

func (r *RunResult) fill(t *engine.Trainer, n int, targets []float64) {
	r.Epochs = t.History
	for _, e := range t.History {
		r.TestAcc = append(r.TestAcc, e.TestAcc)
		if e.ValAcc != nil {
			r.ValAcc = append(r.ValAcc, *e.ValAcc)
		}
		r.TrainSeconds = append(r.TrainSeconds, e.TrainSeconds)
		r.SamplesSeen = append(r.SamplesSeen, e.SamplesSeen)
		kept := float64(n)
		if e.Kept != nil {
			kept = float64(*e.Kept)
		}
		r.KeptFraction = append(r.KeptFraction, kept/float64(n))
	}
	r.Targets = map[string]*TargetRec{}
	for _, tg := range targets {
		r.Targets[TargetKey(tg)] = nil
		if h, ok := t.Hit(tg); ok {
			r.Targets[TargetKey(tg)] = &TargetRec{Epoch: h.Epoch, TimeToTarget: h.TrainSeconds, SamplesToTarget: h.SamplesSeen}
		}
	}
}

func (res *CompareResult) run(method string, seed uint64) *RunResult {
	for _, r := range res.Runs {
		if r.Method == method && r.Seed == seed {
			return r
		}
	}
	return nil
}

// summarise fills PerMethod and PerTarget.
func (res *CompareResult) summarise() {
	c := res.Config
	res.PerMethod = map[string]*MethodSummary{}
	res.PerTarget = map[string]map[string]Speedup{}
	for _, meth := range c.Methods {
		ms := &MethodSummary{TimeToTarget: map[string]Stat{}, SamplesToTarget: map[string]Stat{}, Reached: map[string]int{}}
		var final, best, secs, seen, kept, dip []float64
		for _, seed := range c.Seeds {
			r := res.run(meth.Name, seed)
			u := res.run("uniform", seed)
			last := len(r.TestAcc) - 1
			final = append(final, r.TestAcc[last])
			b := 0.0
			for _, a := range r.TestAcc {
				b = math.Max(b, a)
			}
			best = append(best, b)
			secs = append(secs, r.TrainSeconds[last])
			seen = append(seen, float64(r.SamplesSeen[last]))
			kept = append(kept, r.KeptFraction[last])
			if u != nil {
				worst := math.Inf(-1)
				for e := range r.TestAcc {
					worst = math.Max(worst, u.TestAcc[e]-r.TestAcc[e])
				}
				dip = append(dip, worst)
			}
		}
		ms.FinalTestAcc, ms.BestTestAcc, ms.TrainSeconds = statOf(final), statOf(best), statOf(secs)
		ms.SamplesSeen, ms.KeptFraction, ms.MaxDipBelowUnif = statOf(seen), statOf(kept), statOf(dip)
		for _, tg := range c.Targets {
			key := TargetKey(tg)
			var tt, ss, st, sp []float64
			for _, seed := range c.Seeds {
				r := res.run(meth.Name, seed)
				h := r.Targets[key]
				if h == nil {
					continue
				}
				ms.Reached[key]++
				tt = append(tt, h.TimeToTarget)
				ss = append(ss, float64(h.SamplesToTarget))
				if u := res.run("uniform", seed); u != nil && u.Targets[key] != nil {
					st = append(st, u.Targets[key].TimeToTarget/h.TimeToTarget)
					sp = append(sp, float64(u.Targets[key].SamplesToTarget)/float64(h.SamplesToTarget))
				}
			}
			ms.TimeToTarget[key], ms.SamplesToTarget[key] = statOf(tt), statOf(ss)
			if res.PerTarget[key] == nil {
				res.PerTarget[key] = map[string]Speedup{}
			}
			res.PerTarget[key][meth.Name] = Speedup{SpeedupTime: statOf(st), SpeedupSamples: statOf(sp)}
		}
		res.PerMethod[meth.Name] = ms
	}
}

func fmtStat(s Stat, format string) string {
	if s.N == 0 || math.IsNaN(s.Mean) {
		return "—"
	}
	if s.N == 1 || math.IsNaN(s.SD) {
		return fmt.Sprintf(format, s.Mean)
	}
	return fmt.Sprintf(format+" ± "+format, s.Mean, s.SD)
}

// CompareMarkdown renders compare.md: the table a person reads.
func CompareMarkdown(res *CompareResult) string {
	c := res.Config
	var b strings.Builder
	seeds := make([]string, len(c.Seeds))
	for i, s := range c.Seeds {
		seeds[i] = strconv.FormatUint(s, 10)
	}
	fmt.Fprintf(&b, "# compare: %s on %s, %d epochs, seeds %s, device %s\n\n", c.Base.Model, c.Base.Dataset, c.Base.Epochs, strings.Join(seeds, ","), c.Base.Device)
	fmt.Fprintf(&b, "Batch %d, lr %g, momentum %g. Targets are on **%s** accuracy; mean ± sd over seeds; speedups are uniform's time (samples) over the method's, paired by seed.\n\n",
		c.Base.Batch, c.Base.LR, c.Base.Momentum, res.TargetOn)
	b.WriteString("| method | final test acc | best test acc | train s | samples seen | kept at end | worst dip below uniform |\n|---|---|---|---|---|---|---|\n")
	for _, m := range c.Methods {
		s := res.PerMethod[m.Name]
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", m.Name, fmtStat(s.FinalTestAcc, "%.4f"), fmtStat(s.BestTestAcc, "%.4f"),
			fmtStat(s.TrainSeconds, "%.1f"), fmtStat(s.SamplesSeen, "%.0f"), fmtStat(s.KeptFraction, "%.3f"), fmtStat(s.MaxDipBelowUnif, "%.4f"))
	}
	targets := append([]float64(nil), c.Targets...)
	sort.Float64s(targets)
	for _, tg := range targets {
		key := TargetKey(tg)
		fmt.Fprintf(&b, "\n**Target %s** (%s accuracy)\n\n| method | reached | time to target s | samples to target | speedup (time) | speedup (samples) |\n|---|---|---|---|---|---|\n", key, res.TargetOn)
		for _, m := range c.Methods {
			s := res.PerMethod[m.Name]
			sp := res.PerTarget[key][m.Name]
			fmt.Fprintf(&b, "| %s | %d/%d | %s | %s | %s | %s |\n", m.Name, s.Reached[key], len(c.Seeds),
				fmtStat(s.TimeToTarget[key], "%.1f"), fmtStat(s.SamplesToTarget[key], "%.0f"),
				fmtStat(sp.SpeedupTime, "%.2f×"), fmtStat(sp.SpeedupSamples, "%.2f×"))
		}
	}
	return b.String()
}

// WriteCompare writes compare.json, compare.md and the plots into dir.
func WriteCompare(res *CompareResult, dir string) error {
	if err := atomicfile.WriteJSON(filepath.Join(dir, "compare.json"), res); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, "compare.md"), []byte(CompareMarkdown(res))); err != nil {
		return err
	}
	var bySec, bySamples, kept []Series
	for _, r := range res.Runs {
		name := fmt.Sprintf("%s s%d", r.Method, r.Seed)
		var x1, x2, ep []float64
		for i := range r.TestAcc {
			x1 = append(x1, r.TrainSeconds[i])
			x2 = append(x2, float64(r.SamplesSeen[i]))
			ep = append(ep, float64(i+1))
		}
		bySec = append(bySec, Series{name, x1, r.TestAcc})
		bySamples = append(bySamples, Series{name, x2, r.TestAcc})
		kept = append(kept, Series{name, ep, r.KeptFraction})
	}
	c := res.Config
	title := fmt.Sprintf("%s on %s", c.Base.Model, c.Base.Dataset)
	plots := []struct {
		file, title, x, y string
		s                 []Series
	}{
		{"acc_vs_seconds.png", title + ": test accuracy against training time", "training seconds (evaluation excluded)", "test accuracy", bySec},
		{"acc_vs_samples.png", title + ": test accuracy against samples seen", "samples seen", "test accuracy", bySamples},
		{"kept_fraction.png", title + ": kept fraction of the data set", "epoch", "kept fraction", kept},
	}
	for _, p := range plots {
		pl, err := linePlot(p.title, p.x, p.y, p.s)
		if err != nil {
			return err
		}
		if p.y == "test accuracy" {
			lo := 1.0
			for _, s := range p.s {
				for _, v := range s.Y[min(1, len(s.Y)-1):] {
					lo = math.Min(lo, v)
				}
			}
			pl.Y.Min, pl.Y.Max = math.Max(0, lo-0.005), 1
		}
		if err := savePNG(pl, filepath.Join(dir, p.file), 8*vg.Inch, 5*vg.Inch); err != nil {
			return err
		}
	}
	return nil
}

// MarshalJSON writes NaN (no value) as null.
func (s Stat) MarshalJSON() ([]byte, error) {
	num := func(v float64) string {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "null"
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return []byte(fmt.Sprintf(`{"mean":%s,"sd":%s,"n":%d}`, num(s.Mean), num(s.SD), s.N)), nil
}

// ParseMethod parses a method spec "name:key=value,key=value" whose keys
// are the SGD-S settings (run.Knobs: transient, drop, readd, kept-floor,
// mix, readd-score, unbiased) and score, applied on top of base; "uniform"
// alone is uniform sampling.
func ParseMethod(spec string, base sampler.ScheduleConfig, baseScore string) (Method, error) {
	name, rest, _ := strings.Cut(spec, ":")
	name = strings.TrimSpace(name)
	if name == "" {
		return Method{}, fmt.Errorf("method %q: empty name", spec)
	}
	if name == "uniform" && rest == "" {
		return Method{Name: "uniform", Sampler: "uniform"}, nil
	}
	sc, score := base, baseScore
	if strings.TrimSpace(rest) != "" {
		for _, kv := range strings.Split(rest, ",") {
			k, v, ok := strings.Cut(kv, "=")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if !ok {
				return Method{}, fmt.Errorf("method %q: %q is not key=value", spec, kv)
			}
			if k == "score" {
				score = v
			} else if err := run.SetKnob(&sc, k, v); err != nil {
				return Method{}, fmt.Errorf("method %q: %w", spec, err)
			}
		}
	}
	if err := run.ValidateSchedule(sc); err != nil {
		return Method{}, fmt.Errorf("method %q: %w", spec, err)
	}
	return Method{Name: name, Sampler: "sgds", Score: score, Schedule: &sc}, nil
}
