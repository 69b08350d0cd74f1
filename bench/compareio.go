package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/internal/atomicfile"
	"github.com/sgds/sgds/internal/safefile"
	"github.com/sgds/sgds/run"
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
		if r.Done && r.Diverged == "" && m.Budget > 0 && (len(r.Epochs) == 0 || len(r.Epochs) > engine.MaxBudgetEpochs) {
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
	return PlotCompareWith(res, dir, DefaultPlotOptions())
}

// PlotCompareWith draws the comparison's plots into dir, in each of
// opts.Formats: accuracy on the grid against training seconds and against
// samples seen (per method the mean over seeds with its shaded 95%
// interval cut to [0, 1], the targets as labelled dotted lines), and the
// share of the data each epoch visits.
func PlotCompareWith(res *CompareResult, dir string, opts PlotOptions) error {
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
