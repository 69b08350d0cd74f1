package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/sgds/sgds/internal/atomicfile"
	"github.com/sgds/sgds/internal/limits"
	"github.com/sgds/sgds/internal/safefile"
	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/training"
)

// CompareFiles are the files WriteCompare writes: the result, its tables,
// and each plot as PNG, SVG and PDF.
var CompareFiles = []string{"compare.json", "compare.md",
	"acc_vs_seconds.png", "acc_vs_seconds.svg", "acc_vs_seconds.pdf", "acc_vs_samples.png", "acc_vs_samples.svg", "acc_vs_samples.pdf",
	"epoch_fraction.png", "epoch_fraction.svg", "epoch_fraction.pdf"}

// SaveCompare writes compare.json and compare.md into dir (atomically): the
// result so far, after every epoch of every run.
func SaveCompare(res *CompareResult, dir string) error {
	if err := atomicfile.WriteJSON(filepath.Join(dir, "compare.json"), res); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, "compare.md"), []byte(CompareMarkdown(res)))
}

// WriteCompare writes compare.json, compare.md and the plots into dir.
func WriteCompare(res *CompareResult, dir string) error {
	if err := SaveCompare(res, dir); err != nil {
		return err
	}
	return PlotCompare(res, dir)
}

// RedrawFiles are the files RedrawCompare writes: every file of
// CompareFiles but compare.json.
var RedrawFiles = CompareFiles[1:]

// RedrawCompare writes compare.md and the plots of res into dir: the
// outputs of sgds plot, which reads compare.json and never rewrites it
// (a reader writes only its own outputs). It stops between files when
// ctx is done.
func RedrawCompare(ctx context.Context, res *CompareResult, dir string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, "compare.md"), []byte(CompareMarkdown(res))); err != nil {
		return err
	}
	return PlotCompareContext(ctx, res, dir)
}

// MaxCompareBytes bounds the compare.json that ReadCompare reads.
const MaxCompareBytes = 256 << 20

// ReadCompare reads dir/compare.json and checks it: a configuration that
// validates, and exactly one run per method and seed.
func ReadCompare(dir string) (*CompareResult, error) {
	path := filepath.Join(dir, "compare.json")
	b, err := safefile.ReadAll(path, MaxCompareBytes)
	if err != nil {
		return nil, err
	}
	res := &CompareResult{}
	if err := json.Unmarshal(b, res); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := res.checkValues(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := res.Config.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if res.Config.Base.EvalEvery <= 0 {
		return nil, fmt.Errorf("%s: the evaluation grid (config.base.eval_every) is %d", path, res.Config.Base.EvalEvery)
	}
	want := len(res.Config.Methods) * len(res.Config.Seeds)
	if len(res.Runs) != want {
		return nil, fmt.Errorf("%s: %d runs for %d methods × %d seeds", path, len(res.Runs), len(res.Config.Methods), len(res.Config.Seeds))
	}
	for i, r := range res.Runs {
		m, s := res.Config.Methods[i%len(res.Config.Methods)], res.Config.Seeds[i/len(res.Config.Methods)]
		if r == nil || r.Method != m.Name || r.Seed != s {
			return nil, fmt.Errorf("%s: run %d is not method %s on seed %d", path, i, m.Name, s)
		}
		if r.Done && r.Diverged == "" && m.Budget > 0 && (len(r.Epochs) == 0 || len(r.Epochs) > training.MaxBudgetEpochs) {
			return nil, fmt.Errorf("%s: run %s seed %d is done after %d epochs", path, r.Method, r.Seed, len(r.Epochs))
		}
		if r.Done && r.Diverged == "" && m.Budget == 0 && len(r.Epochs) != res.Config.Base.Epochs {
			return nil, fmt.Errorf("%s: run %s seed %d is done after %d of %d epochs", path, r.Method, r.Seed, len(r.Epochs), res.Config.Base.Epochs)
		}
	}
	res.Summarise()
	return res, nil
}

// gridBands returns, per method, the mean over its finished runs of the
// grid accuracy and its 95% interval, against the mean training seconds
// (bySeconds) or the grid point.
func gridBands(res *CompareResult, bySeconds bool) []Band {
	var out []Band
	for _, m := range res.Config.Methods {
		var runs []*RunResult
		for _, s := range res.Config.Seeds {
			if r := res.Run(m.Name, s); r != nil && r.Done && r.Diverged == "" && len(r.Evals) > 0 {
				runs = append(runs, r)
			}
		}
		if len(runs) == 0 {
			continue
		}
		K := len(runs[0].Evals)
		for _, r := range runs {
			K = min(K, len(r.Evals))
		}
		b := Band{Name: m.Name, Runs: len(runs)}
		for k := 0; k < K; k++ {
			var acc, secs []float64
			for _, r := range runs {
				acc = append(acc, r.Evals[k].Acc())
				secs = append(secs, r.Evals[k].TrainSeconds)
			}
			iv := BoundedMeanCI(acc, 0, 1)
			x := float64(runs[0].Evals[k].GridSamples)
			if bySeconds {
				x = meanOr(secs, 0)
			}
			b.X, b.Y, b.Lo, b.Hi = append(b.X, x), append(b.Y, iv.Mean), append(b.Lo, iv.Lo), append(b.Hi, iv.Hi)
		}
		out = append(out, b)
	}
	return out
}

// fractionBands returns, per method, the mean share of the training set
// each epoch visits, with its interval.
func fractionBands(res *CompareResult) []Band {
	var out []Band
	for _, m := range res.Config.Methods {
		b := Band{Name: m.Name}
		for e := 0; e < res.Config.Base.Epochs; e++ {
			var fr []float64
			for _, s := range res.Config.Seeds {
				if r := res.Run(m.Name, s); r != nil && r.Done && r.Diverged == "" && e < len(r.Epochs) && res.TrainSamples > 0 {
					fr = append(fr, float64(r.Epochs[e].EpochSamples)/float64(res.TrainSamples))
				}
			}
			if len(fr) == 0 {
				break
			}
			iv := BoundedMeanCI(fr, 0, 1)
			b.X, b.Y, b.Lo, b.Hi = append(b.X, float64(e+1)), append(b.Y, iv.Mean), append(b.Lo, iv.Lo), append(b.Hi, iv.Hi)
			b.Runs = max(b.Runs, len(fr))
		}
		if len(b.X) > 0 {
			out = append(out, b)
		}
	}
	return out
}

// PlotOptions choose what PlotCompareWith draws and how; start from
// DefaultPlotOptions.
type PlotOptions struct {
	// Methods are the methods drawn, by name (nil: every method).
	Methods []string
	// X are the x axes of the accuracy plots drawn: "seconds"
	// (acc_vs_seconds), "samples" (acc_vs_samples), "budget" (acc_vs_budget,
	// a comparison with budgets); nil: all. The share
	// of the data per epoch (epoch_fraction) is always drawn.
	X []string
	// YMin and YMax are the accuracy axis's range; a NaN end comes from the
	// drawn methods' curves and the targets.
	YMin, YMax float64
	// Width and Height are the size of each plot.
	Width, Height vg.Length
	// Formats are the files written per plot, from PlotFormats.
	Formats []string
}

// DefaultPlotOptions draws every method and plot, 9 × 5 inches, as PNG,
// SVG and PDF, with the accuracy range from the data.
func DefaultPlotOptions() PlotOptions {
	return PlotOptions{YMin: math.NaN(), YMax: math.NaN(), Width: 9 * vg.Inch, Height: 5 * vg.Inch, Formats: PlotFormats}
}

// PlotAxes are the values of PlotOptions.X.
var PlotAxes = []string{"seconds", "samples", "budget"}

// check reports an option that names nothing res has.
func (o PlotOptions) check(res *CompareResult) error {
	for _, m := range o.Methods {
		if !slices.ContainsFunc(res.Config.Methods, func(x run.Method) bool { return x.Name == m || x.Group == m }) {
			var names []string
			for _, x := range res.Config.Methods {
				names = append(names, x.Name)
			}
			return fmt.Errorf("method %q is not in the comparison (its methods: %s)", m, strings.Join(names, ", "))
		}
	}
	for _, x := range o.X {
		if !slices.Contains(PlotAxes, x) {
			return fmt.Errorf("x axis %q: want one of %s", x, strings.Join(PlotAxes, ", "))
		}
		if x == "budget" && len(res.Config.Budgets) == 0 {
			return fmt.Errorf("x axis budget: the comparison ran no budgets (compare --budgets)")
		}
	}
	for _, f := range o.Formats {
		if !slices.Contains(PlotFormats, f) {
			return fmt.Errorf("format %q: want one of %s", f, strings.Join(PlotFormats, ", "))
		}
	}
	if len(o.Formats) == 0 {
		return fmt.Errorf("no format to write: want some of %s", strings.Join(PlotFormats, ", "))
	}
	if !(o.Width > 0 && o.Height > 0) {
		return fmt.Errorf("plot size %v × %v: both must be positive", o.Width, o.Height)
	}
	if o.YMin >= o.YMax || o.YMin < 0 || o.YMax > 1 {
		return fmt.Errorf("accuracy range [%v, %v]: want 0 ≤ min < max ≤ 1", o.YMin, o.YMax)
	}
	return nil
}

// accuracyRange returns the accuracy axis's range for bands and targets:
// from the lowest of every band's mean curve after its first tenth of the
// x range (the initial climb would squeeze the rest) and the targets, to
// the highest mean or interval end, with a little room, within [0, 1].
func accuracyRange(bands []Band, targets []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, b := range bands {
		if len(b.X) == 0 {
			continue
		}
		x0, x1 := slices.Min(b.X), slices.Max(b.X)
		for j := range b.Y {
			if b.X[j] >= x0+0.1*(x1-x0) || len(b.X) < 3 {
				lo = math.Min(lo, b.Y[j])
			}
			hi = math.Max(hi, b.Y[j])
			if !math.IsNaN(b.Hi[j]) {
				hi = math.Max(hi, b.Hi[j])
			}
		}
	}
	for _, t := range targets {
		lo, hi = math.Min(lo, t), math.Max(hi, t)
	}
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return 0, 1
	}
	pad := math.Max(0.005, 0.04*(hi-lo))
	return math.Max(0, lo-pad), math.Min(1, hi+pad)
}

// keep returns the bands of the methods opts draws.
func (o PlotOptions) keep(bands []Band) []Band {
	if o.Methods == nil {
		return bands
	}
	var out []Band
	for _, b := range bands {
		if slices.Contains(o.Methods, b.Name) {
			out = append(out, b)
		}
	}
	return out
}

// PlotCompare draws the comparison's plots into dir with the default
// options (see PlotCompareWith).
func PlotCompare(res *CompareResult, dir string) error {
	return PlotCompareWith(context.Background(), res, dir, DefaultPlotOptions())
}

// PlotCompareContext is PlotCompare, stopping before each plot when ctx
// is done.
func PlotCompareContext(ctx context.Context, res *CompareResult, dir string) error {
	return PlotCompareWith(ctx, res, dir, DefaultPlotOptions())
}

// PlotCompareWith draws the comparison's plots into dir, in each of
// opts.Formats: accuracy on the grid against training seconds and against
// samples seen (per method the mean over seeds with its shaded 95%
// interval cut to [0, 1], the targets as labelled dotted lines), and the
// share of the data each epoch visits; it stops before each plot when ctx
// is done.
func PlotCompareWith(ctx context.Context, res *CompareResult, dir string, opts PlotOptions) error {
	ylo, yhi := opts.YMin, opts.YMax
	check := opts
	check.YMin, check.YMax = 0, 1
	if !math.IsNaN(ylo) {
		check.YMin = ylo
	}
	if !math.IsNaN(yhi) {
		check.YMax = yhi
	}
	if err := check.check(res); err != nil {
		return err
	}
	if opts.X == nil || slices.Contains(opts.X, "budget") {
		if err := PlotBudgets(res, dir, opts); err != nil {
			return err
		}
	}
	if opts.Methods != nil { // a method run at several budgets is named by its group
		var names []string
		for _, m := range res.Config.Methods {
			if slices.Contains(opts.Methods, m.Name) || slices.Contains(opts.Methods, m.Group) {
				names = append(names, m.Name)
			}
		}
		opts.Methods = names
	}
	c := res.Config
	title := fmt.Sprintf("%s on %s, %d seeds", c.Base.Model, c.Base.Dataset, len(c.Seeds))
	acc := res.TargetOn + " accuracy (mean, 95% CI)"
	plots := []struct {
		file, axis, title, x, y string
		bands                   []Band
		targets                 bool
	}{
		{"acc_vs_seconds", "seconds", title + ": accuracy against training time", "training seconds (evaluation excluded; mean over seeds at each grid point)", acc, gridBands(res, true), true},
		{"acc_vs_samples", "samples", title + ": accuracy against samples seen", fmt.Sprintf("samples seen (grid every %d)", c.Base.EvalEvery), acc, gridBands(res, false), true},
		{"epoch_fraction", "", title + ": share of the training set per epoch", "epoch", "samples per epoch / training set", fractionBands(res), false},
	}
	for _, pl := range plots {
		if err := ctx.Err(); err != nil {
			return err
		}
		if pl.axis != "" && opts.X != nil && !slices.Contains(opts.X, pl.axis) {
			continue
		}
		bands := opts.keep(pl.bands)
		p, leg, err := bandPlot(pl.title, pl.x, pl.y, bands)
		if err != nil {
			return err
		}
		if pl.targets && len(bands) > 0 {
			lo, hi := accuracyRange(bands, c.Targets)
			if !math.IsNaN(ylo) {
				lo = ylo
			}
			if !math.IsNaN(yhi) {
				hi = yhi
			}
			x0, x1 := math.Inf(1), math.Inf(-1)
			for _, b := range bands {
				x0, x1 = math.Min(x0, slices.Min(b.X)), math.Max(x1, slices.Max(b.X))
			}
			for _, tg := range c.Targets {
				if tg < lo || tg > hi {
					continue
				}
				ls, err := targetLine(tg, x0, x1)
				if err != nil {
					return err
				}
				p.Add(ls...)
			}
			p.Y.Min, p.Y.Max = lo, hi
		}
		if pl.file == "acc_vs_samples" {
			p.X.Tick.Marker = countTicks{}
		}
		if pl.file == "epoch_fraction" {
			p.Y.Min, p.Y.Max = 0, 1.05
		}
		if err := saveOutside(p, leg, filepath.Join(dir, pl.file), opts.Width, opts.Height, opts.Formats); err != nil {
			return err
		}
	}
	return nil
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// Bounds of a comparison's counts, checked by CompareConfig.Validate
// before anything is allocated or written, on the command line as in a
// compare.json read back; CheckCompareSize bounds their product.
const (
	MaxTargets = 100
	MaxSeeds   = 1000
	MaxMethods = 256
)

// widest is a value of every numeric field at its widest JSON form, so
// that the sizes below are upper bounds.
const (
	wideFloat = -1.2345678901234567e-300
	wideInt   = -1 << 63
)

// jsonWidth is the length of v in compare.json's indented form at the
// given nesting depth, with its comma and line break.
func jsonWidth(v any, depth int) int64 {
	indent := strings.Repeat("  ", depth)
	b, _ := json.MarshalIndent(v, indent, "  ")
	return int64(len(b) + len(indent) + 2)
}

// The widest entries of compare.json, at their depths.
var (
	wideEpoch, wideEval, wideHit, wideFloatEntry, wideRun int64
	wideMethodSummary, wideTargetSummary, wideSpeedup     int64
	wideSeedRatio                                         int64
)

func init() {
	f, i, n := wideFloat, int(wideInt), int64(wideInt)
	wideEpoch = jsonWidth(training.EpochMetrics{Epoch: i, TrainLoss: f, TestAcc: f, TestLoss: f, ValAcc: &f, ValLoss: &f, TrainSeconds: f,
		SamplesSeen: n, ForwardSamples: n, BackwardSamples: n, EpochSamples: i, EvalSeconds: f, Kept: &i, Distinct: &i}, 4)
	wideEval = jsonWidth(training.GridEval{GridSamples: n, SamplesSeen: n, Epoch: i, TrainSeconds: f, ForwardSamples: n, BackwardSamples: n,
		ValAcc: &f, ValLoss: &f, TestAcc: &f, TestLoss: &f, EvalSeconds: f}, 4)
	wideHit = jsonWidth(training.TargetHit{Target: f, Epoch: i, GridSamples: n, SamplesSeen: n, TrainSeconds: f}, 4)
	wideFloatEntry = jsonWidth(f, 4)
	wideRun = jsonWidth(RunResult{Method: strings.Repeat("m", 64), Seed: 1<<64 - 1, Diverged: strings.Repeat("d", 1000)}, 2)
	iv := Interval{Mean: f, Lo: f, Hi: f, SD: f, N: i}
	wideMethodSummary = jsonWidth(MethodSummary{Method: strings.Repeat("m", 64), Finished: i, Diverged: i, FinalTestAcc: iv, BestTestAcc: iv,
		TrainSeconds: iv, SamplesSeen: iv, ForwardSamples: iv, BackwardSamples: iv, EpochFraction: iv, GridEvalShare: iv, FinalGap: &iv, WorstDip: &iv}, 2)
	wideTargetSummary = jsonWidth(TargetSummary{Target: f, Reached: i, Of: i, TrainSeconds: iv, GridSamples: iv}, 4)
	r := Ratio{Exact: iv, Bound: "?", BoundMean: f}
	wideSpeedup = jsonWidth(Speedup{Baseline: strings.Repeat("m", 64), Time: r, Samples: r}, 6)
	wideSeedRatio = jsonWidth(SeedRatio{Seed: 1<<64 - 1, Kind: "none", Value: f}, 9)
}

// CompareBytes is an upper bound on the size of the compare.json of
// comparison c over trainN training samples (c.Base.EvalEvery resolved),
// and false when it exceeds an int64.
func CompareBytes(c CompareConfig, trainN int) (int64, bool) {
	cfg, err := json.MarshalIndent(c, "  ", "  ")
	if err != nil {
		return 0, false
	}
	E, T, M, S, B := int64(c.Base.Epochs), int64(len(c.Targets)), int64(len(c.Methods)), int64(len(c.Seeds)), int64(max(1, len(c.Baselines)))
	for _, m := range c.Methods {
		// A budgeted run trains up to F·E epochs' samples, in epochs that
		// may be shorter than a full pass (a tenth of it for RS2 at 0.1).
		if m.Budget > 0 {
			E = max(E, 10*int64(math.Ceil(m.Budget*float64(c.Base.Epochs))))
		}
	}
	step := int64(max(1, c.Base.EvalEvery))
	batch := int64(c.Base.Batch)
	for _, m := range c.Methods {
		batch = max(batch, int64(m.Batch))
	}
	// An epoch visits at most the training set (a last batch rounds it
	// up); the grid has a point every step samples.
	grid, ok1 := limits.Mul(E, (int64(trainN)+batch)/step+1)
	perRun, ok2 := sum(mul(E, wideEpoch+2*wideFloatEntry), mul(grid, wideEval), mul(2*T, wideHit), just(wideRun)) // targets and stays_above
	runs, ok3 := limits.Mul(M, S, perRun)
	perSpeedup, ok4 := sum(just(wideSpeedup), mul(2*S, wideSeedRatio))
	perTarget, ok5 := sum(just(wideTargetSummary), mul(B, perSpeedup))
	perMethod, ok6 := sum(just(wideMethodSummary), mul(T, perTarget))
	summary, ok7 := limits.Mul(M, perMethod)
	total, ok8 := sum(just(int64(len(cfg))+4096), just(runs), just(summary))
	return total, ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8
}

type term struct {
	v  int64
	ok bool
}

func just(v int64) term { return term{v, v >= 0} }

func mul(a, b int64) term {
	v, ok := limits.Mul(a, b)
	return term{v, ok}
}

func sum(ts ...term) (int64, bool) {
	var s int64
	for _, t := range ts {
		if !t.ok || s > 1<<62 || t.v > 1<<62 {
			return 0, false
		}
		s += t.v
	}
	return s, true
}

// CheckCompareSize refuses a comparison whose compare.json could exceed
// MaxCompareBytes, the most ReadCompare reads back: every comparison sgds
// starts can be plotted and resumed.
func CheckCompareSize(c CompareConfig, trainN int) error {
	n, ok := CompareBytes(c, trainN)
	if ok && n <= MaxCompareBytes {
		return nil
	}
	need := "more than 8 EiB"
	if ok {
		need = limits.FormatBytes(n)
	}
	return fmt.Errorf("compare.json could grow to %s (%d methods × %d seeds × %d epochs, evaluated every %d samples, %d targets), more than the %s that sgds plot and compare --resume read back: give fewer --method, --seeds, --epochs or --targets, or a larger --eval-every",
		need, len(c.Methods), len(c.Seeds), c.Base.Epochs, c.Base.EvalEvery, len(c.Targets), limits.FormatBytes(MaxCompareBytes))
}

// Ranges of the values of a result file read back: times in seconds up
// to about 31 years, counts up to 2^53 (exact as float64, as plots take
// them).
const (
	MaxSeconds = 1e9
	MaxCount   = 1 << 53
)

// valueCheck collects the first value out of range, naming it.
type valueCheck struct{ err error }

func (v *valueCheck) fail(format string, args ...any) {
	if v.err == nil {
		v.err = fmt.Errorf(format, args...)
	}
}

func (v *valueCheck) seconds(what string, x float64) {
	if !(x >= 0 && x <= MaxSeconds) {
		v.fail("%s %v: not a time in [0, %g] seconds", what, x, float64(MaxSeconds))
	}
}

func (v *valueCheck) count(what string, n int64) {
	if n < 0 || n > MaxCount {
		v.fail("%s %d: not a count in [0, 2^53]", what, n)
	}
}

func (v *valueCheck) acc(what string, x float64) {
	if !(x >= 0 && x <= 1) {
		v.fail("%s %v: not an accuracy in [0, 1]", what, x)
	}
}

func (v *valueCheck) accp(what string, x *float64) {
	if x != nil {
		v.acc(what, *x)
	}
}

func (v *valueCheck) loss(what string, x float64) {
	if !(x >= 0 && x <= math.MaxFloat32) {
		v.fail("%s %v: not a loss in [0, %g]", what, x, math.MaxFloat32)
	}
}

func (v *valueCheck) lossp(what string, x *float64) {
	if x != nil {
		v.loss(what, *x)
	}
}

// checkValues range-checks every value of a compare.json read back that
// the tables and plots use: method names as the command line allows
// them, finite non-negative times and counts, accuracies in [0, 1].
func (res *CompareResult) checkValues() error {
	var v valueCheck
	for _, m := range res.Config.Methods {
		if err := run.CheckMethodName(m.Name); err != nil {
			return fmt.Errorf("config.methods: %w", err)
		}
	}
	for _, b := range res.Config.Baselines {
		if err := run.CheckMethodName(b); err != nil {
			return fmt.Errorf("config.baselines: %w", err)
		}
	}
	v.count("train_samples", int64(res.TrainSamples))
	if res.TargetOn != "" && res.TargetOn != "test" && res.TargetOn != "val" { // "": an older file
		v.fail("target_on %q: want test or val", res.TargetOn)
	}
	for i, r := range res.Runs {
		if r == nil {
			continue
		}
		at := fmt.Sprintf("runs[%d] (%s, seed %d)", i, r.Method, r.Seed)
		if r.Session < 0 || r.Session > len(res.Resumes) {
			v.fail("%s: session %d: not 0 or one of the %d resumes", at, r.Session, len(res.Resumes))
		}
		if strings.ContainsFunc(r.Diverged, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
			v.fail("%s: diverged: control characters in %q", at, r.Diverged)
		}
		for j, e := range r.Epochs {
			w := fmt.Sprintf("%s: epochs[%d]:", at, j)
			if e.Epoch != j+1 {
				v.fail("%s epoch %d, want %d", w, e.Epoch, j+1)
			}
			v.loss(w+" train_loss", e.TrainLoss)
			v.loss(w+" test_loss", e.TestLoss)
			v.lossp(w+" val_loss", e.ValLoss)
			v.acc(w+" test_acc", e.TestAcc)
			v.accp(w+" val_acc", e.ValAcc)
			v.seconds(w+" train_seconds", e.TrainSeconds)
			v.seconds(w+" eval_seconds", e.EvalSeconds)
			v.count(w+" samples_seen", e.SamplesSeen)
			v.count(w+" forward_samples", e.ForwardSamples)
			v.count(w+" backward_samples", e.BackwardSamples)
			v.count(w+" epoch_samples", int64(e.EpochSamples))
			if e.Kept != nil {
				v.count(w+" kept", int64(*e.Kept))
			}
			if e.Distinct != nil {
				v.count(w+" distinct", int64(*e.Distinct))
			}
		}
		for j, e := range r.Evals {
			w := fmt.Sprintf("%s: evals[%d]:", at, j)
			v.count(w+" grid_samples", e.GridSamples)
			v.count(w+" samples_seen", e.SamplesSeen)
			v.count(w+" forward_samples", e.ForwardSamples)
			v.count(w+" backward_samples", e.BackwardSamples)
			v.count(w+" epoch", int64(e.Epoch))
			v.seconds(w+" train_seconds", e.TrainSeconds)
			v.seconds(w+" eval_seconds", e.EvalSeconds)
			v.accp(w+" test_acc", e.TestAcc)
			v.accp(w+" val_acc", e.ValAcc)
			v.lossp(w+" test_loss", e.TestLoss)
			v.lossp(w+" val_loss", e.ValLoss)
		}
		for j, h := range r.Targets {
			w := fmt.Sprintf("%s: targets[%d]:", at, j)
			if !(h.Target > 0 && h.Target <= 1) {
				v.fail("%s target %v: not in (0, 1]", w, h.Target)
			}
			v.count(w+" epoch", int64(h.Epoch))
			v.count(w+" grid_samples", h.GridSamples)
			v.count(w+" samples_seen", h.SamplesSeen)
			v.seconds(w+" train_seconds", h.TrainSeconds)
		}
		for j, a := range r.TestAcc {
			v.acc(fmt.Sprintf("%s: test_acc[%d]", at, j), a)
		}
		for j, a := range r.ValAcc {
			v.acc(fmt.Sprintf("%s: val_acc[%d]", at, j), a)
		}
		if v.err != nil {
			break
		}
	}
	return v.err
}
