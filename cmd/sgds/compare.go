package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/sgds/sgds/bench"
	"github.com/sgds/sgds/internal/provenance"
	"github.com/sgds/sgds/run"
)

// quickCompare are the settings --quick uses for flags the user did not set.
var quickCompare = map[string]string{
	"model": "mlp", "epochs": "5", "seeds": "1,2",
}

// resumeCompareFlags may be given with --resume; every other setting
// comes from the comparison's compare.json.
var resumeCompareFlags = []string{"resume", "parallel", "quiet", "data", "force"}

// trainFlags are commonFlags and the sampler's knobs without --seed and
// --sampler (the methods set their sampler, --seeds the seeds), with
// --subset and --eval-every (unless the shared lists already have them).
func trainFlags() []cli.Flag {
	var flags []cli.Flag
	have := map[string]bool{}
	for _, f := range append(commonFlags(), samplerFlags(isSGDS)...) {
		if n := f.Names()[0]; n != "seed" && n != "sampler" {
			flags = append(flags, f)
			have[n] = true
		}
	}
	for _, f := range []cli.Flag{
		intFlag("subset", 0, "train on the first N training images only (0: all)"),
		intFlag("eval-every", 0, "evaluate every N samples, the same grid for every method (0: the largest multiple of the batch ≤ a sixth of the training set)"),
	} {
		if !have[f.Names()[0]] {
			flags = append(flags, f)
		}
	}
	return flags
}

func compareCommand() *cli.Command {
	flags := append(trainFlags(),
		stringFlag("seeds", "1,2,3,4,5", "comma-separated seeds; every method starts from the same weights per seed"),
		withDefaultText(stringFlag("targets", "", "comma-separated accuracy targets in (0, 1]"),
			"by data set: mnist 0.98,0.985,0.99 (with --quick 0.95,0.96,0.97), fashion-mnist 0.85,0.87,0.88 (--quick 0.8,0.82,0.84), none for idx"),
		intFlag("parallel", 1, "seeds trained at once (each seed's methods still alternate epoch by epoch on one goroutine)"),
		boolFlag("variants", "also run SGD-S biased (debias 0), unbiased (debias 1) and the post's SGD-S (no mixing, independent draws, biased)"),
		&cli.StringSliceFlag{Name: "method", EnvVars: env("method"), Usage: "a method to run (repeatable): name[:key=value,…] with keys sampler (uniform, uniform-replace, rs2, sequential, sgds, infobatch, selective-backprop, kf-is, kakurenbo; default the name if it is a sampler, else sgds), lr, momentum, batch, tuned=NAME (lr and momentum from --tuned), order-seed=N (another data order from the same initial weights: two uniform runs that differ only in it give a comparison's noise floor), frac (rs2), score and the SGD-S knobs (sgds), r and anneal (infobatch), beta and window (selective-backprop), k, threshold and tau-momentum (kf-is), hide and tau (kakurenbo) — the peers' keys are train's --infobatch-r, --sb-beta, --kf-k, --kakurenbo-hide and the like, with their defaults; e.g. uniform, u-tuned:sampler=uniform,tuned=uniform, rs2:frac=0.3, d30:drop=0.3,mix=0.1, infobatch:r=0.3, kakurenbo:hide=0.2,tau=0.8; uniform at the base settings is added first unless a method samples uniformly"},
		&cli.StringSliceFlag{Name: "baseline", EnvVars: env("baseline"), Usage: "speedups are measured against this method (repeatable; default the first method)"},
		stringFlag("tuned", "", "the tune.json `FILE` written by sgds tune: methods may take its learning rate and momentum with tuned=NAME"),
		stringFlag("resume", "", "continue the comparison in this folder (its compare.json): finished runs are kept, unfinished runs restart from their first epoch"),
		boolFlag("quick", "a reduced run in a few minutes: the MLP, 5 epochs, seeds 1,2, the data set's quick targets (flags you set win)"),
		withDefaultText(stringFlag("budgets", "", "comma-separated budgets `LIST` (shares of --epochs × training samples of compute, e.g. 0.1,0.2,0.3,0.5,1): every method runs once per budget, each run with its schedule spanning its budget; compare.md and acc_vs_budget.png give the final accuracy at each budget"), "none: one run per method and seed, no budget"),
		stringFlag("clock", "stays", "when a run counts as having reached a target: `stays` (the grid point from which it stays at or above the target) or first (its first crossing, which rewards noise)"),
		withDefaultText(stringFlag("shard", "", "train only part `K/N` of the runs (every N-th run from the K-th, method × seed × budget), into its own --out; sgds merge joins the N folders into the whole comparison"), "none: every run"),
		boolFlag("ablations", "also run SGD-S's parts as methods: loss-proportional sampling without pruning (sgds-sample, drop 0), pruning without it (sgds-prune, uniform over the kept set: mix 1), and both (sgds-both), the sampling ones at debias 0, 0.75 and 1"),
		stringFlag("out", "runs/compare", "output folder for compare.json, compare.md and the plots (a folder holding results needs --resume or --force)"),
		boolFlag("force", "start over in an --out folder that holds results, deleting them (without it such a folder is refused); with --resume, continue a compare.json written by another binary or machine"),
	)
	return &cli.Command{
		Name:  "compare",
		Usage: "train several methods from the same weights on several seeds and measure time and samples to target accuracy on one evaluation grid",
		Flags: flags,
		Action: func(c *cli.Context) error {
			start := time.Now()
			if dir := c.String("resume"); dir != "" {
				for _, name := range c.LocalFlagNames() {
					if !slices.Contains(resumeCompareFlags, name) && c.IsSet(name) {
						return fmt.Errorf("--resume continues the comparison recorded in %s/compare.json; --%s cannot be changed", dir, name)
					}
				}
				prev, err := bench.ReadCompare(dir)
				if err != nil {
					return fmt.Errorf("--resume: %w", err)
				}
				cfg := prev.Config
				if c.IsSet("parallel") {
					cfg.Parallel = c.Int("parallel")
				}
				if c.IsSet("data") {
					cfg.Data = c.String("data")
				}
				return runCompare(c, cfg, dir, prev, start)
			}
			if c.Bool("quick") {
				for name, v := range quickCompare {
					if !c.IsSet(name) {
						if err := c.Set(name, v); err != nil {
							return err
						}
					}
				}
			}
			cfg, err := compareConfigFrom(c)
			if err != nil {
				return err
			}
			return runCompare(c, cfg, c.String("out"), nil, start)
		},
	}
}

// compareConfigFrom reads the flags of a new comparison.
func compareConfigFrom(c *cli.Context) (bench.CompareConfig, error) {
	base, err := runConfigFrom(c, "sgds")
	if err != nil {
		return bench.CompareConfig{}, err
	}
	base.EvalEvery = c.Int("eval-every")
	if err := base.Validate(); err != nil {
		return bench.CompareConfig{}, err
	}
	seeds, err := parseSeeds(c.String("seeds"))
	if err != nil {
		return bench.CompareConfig{}, err
	}
	ts := c.String("targets")
	if !c.IsSet("targets") {
		defaults := defaultTargets
		if c.Bool("quick") {
			defaults = quickTargets
		}
		ts = defaults[base.Dataset]
		if ts == "" {
			fmt.Fprintf(c.App.ErrWriter, "sgds: no accuracy targets for data set %s: the tables give final accuracies only (set them with --targets)\n", base.Dataset)
		} else {
			fmt.Fprintf(c.App.ErrWriter, "sgds: targets %s, the defaults for %s (set others with --targets)\n", ts, base.Dataset)
		}
	}
	targets, err := parseTargets(ts)
	if err != nil {
		return bench.CompareConfig{}, fmt.Errorf("--targets: %w", err)
	}
	if c.Int("parallel") < 1 {
		return bench.CompareConfig{}, fmt.Errorf("--parallel must be ≥ 1, got %d", c.Int("parallel"))
	}
	cfg := bench.CompareConfig{Base: base, Seeds: seeds, Targets: targets, Parallel: c.Int("parallel"),
		Baselines: c.StringSlice("baseline"), Data: c.String("data"), Clock: c.String("clock")}
	if !slices.Contains(bench.Clocks, cfg.Clock) {
		return cfg, fmt.Errorf("--clock %s: want one of %s", cfg.Clock, strings.Join(bench.Clocks, ", "))
	}
	if s := c.String("shard"); s != "" {
		if cfg.Shard, err = parseShard(s); err != nil {
			return cfg, err
		}
	}
	if s := c.String("budgets"); s != "" {
		if base.Budget > 0 {
			return cfg, fmt.Errorf("--budget and --budgets: give one (--budgets runs every method at each budget)")
		}
		if cfg.Budgets, err = parseBudgets(s); err != nil {
			return cfg, err
		}
	}
	if path := c.String("tuned"); path != "" {
		t, err := bench.ReadTune(path)
		if err != nil {
			return cfg, fmt.Errorf("--tuned: %w", err)
		}
		if tb := t.Config.Base; tb.Model != base.Model || tb.Dataset != base.Dataset {
			return cfg, fmt.Errorf("--tuned %s: tuned for the %s on %s, this comparison trains the %s on %s (tune again with --model %s --dataset %s, or leave --tuned out)",
				path, tb.Model, tb.Dataset, base.Model, base.Dataset, base.Model, base.Dataset)
		}
		cfg.Tuned, cfg.TunedFrom = t.Choices(), path
	}
	specs := c.StringSlice("method")
	if c.Bool("ablations") {
		if len(specs) == 0 {
			specs = []string{"uniform", "sgds"}
		}
		specs = append(specs, ablationSpecs...)
	}
	cfg.Methods, err = methodsFrom(specs, base, cfg.Tuned, c.Bool("variants"))
	if err != nil {
		return cfg, err
	}
	if len(cfg.Budgets) > 0 {
		// Speedups are measured against the baselines at the largest
		// budget; compare.md's budget tables pair every budget.
		if len(cfg.Baselines) == 0 {
			cfg.Baselines = []string{cfg.Methods[0].Name}
		}
		top := slices.Max(cfg.Budgets)
		for i, b := range cfg.Baselines {
			cfg.Baselines[i] = bench.BudgetName(b, top)
		}
		cfg.Methods = bench.ExpandBudgets(cfg.Methods, cfg.Budgets)
	}
	cfg.Base.Sampling = run.Sampling{}
	return cfg, cfg.Validate()
}

// methodsFrom parses the --method specs; uniform at the base settings comes
// first unless a method samples uniformly. Without specs: uniform and
// SGD-S (and its variants).
func methodsFrom(specs []string, base run.Config, tuned map[string]run.Choice, variants bool) ([]run.Method, error) {
	if len(specs) == 0 {
		return bench.DefaultMethods(base, variants)
	}
	if len(specs) > bench.MaxMethods {
		return nil, fmt.Errorf("--method: %d methods, at most %d", len(specs), bench.MaxMethods)
	}
	var ms []run.Method
	hasUniform := false
	for _, spec := range specs {
		m, err := run.ParseMethod(spec, base, tuned)
		if err != nil {
			return nil, fmt.Errorf("--method: %w", err)
		}
		hasUniform = hasUniform || m.Sampler == "uniform"
		ms = append(ms, m)
	}
	if !hasUniform {
		for i, m := range ms {
			if m.Name == "uniform" {
				return nil, fmt.Errorf("--method %s: compare adds the uniform baseline under the name uniform when no method samples uniformly; give this method another name, or add --method uniform", specs[i])
			}
		}
		u, err := run.ParseMethod("uniform", base, nil)
		if err != nil {
			return nil, err
		}
		ms = append([]run.Method{u}, ms...)
	}
	return ms, nil
}

// runCompare runs (or continues) the comparison cfg into out.
func runCompare(c *cli.Context, cfg bench.CompareConfig, out string, prev *bench.CompareResult, start time.Time) error {
	prov := provenance.Collect(cfg.Base.Device, os.Args, start)
	if prev != nil {
		// The runs of a comparison are compared with each other: a resume
		// by another binary or on another machine is refused unless
		// --force (each run records the invocation that trained it).
		last := prev.Provenance
		if n := len(prev.Resumes); n > 0 {
			last = prev.Resumes[n-1]
		}
		if diff := provenance.Differences(last, prov); len(diff) > 0 && !c.Bool("force") {
			return fmt.Errorf("--resume %s: compare.json was written by another binary or machine (%s); its runs would be compared with runs of this one: resume with that binary on that machine, or give --force to continue anyway (compare.json records which invocation trained each run)",
				out, strings.Join(diff, ", "))
		}
	}
	d, err := loadRun(c, cfg.Base, cfg.Data, out, prev != nil)
	if err != nil {
		return err
	}
	quiet := c.Bool("quiet")
	bar := newCompareBar(quiet)
	var log io.Writer = c.App.ErrWriter
	if quiet {
		log = nil
	} else if bar != nil {
		log = bar
	}
	fmt.Fprintf(logOr(log), "compare: %s on %s (%d training images), %d epochs, seeds %v, methods %s, baselines %v, targets %v\n",
		cfg.Base.Model, cfg.Base.Dataset, d.Train.N, cfg.Base.Epochs, cfg.Seeds, methodNames(cfg.Methods), cfg.Baselines, cfg.Targets)
	opts := bench.CompareOptions{Log: log, Previous: prev,
		Provenance: prov,
		Save:       func(r *bench.CompareResult) error { return bench.SaveCompare(r, out) },
		OnStep:     signalAfterSteps}
	if bar != nil {
		opts.Progress = bar.update
	}
	res, err := bench.Compare(c.Context, cfg, d, opts)
	if bar != nil {
		bar.finish()
	}
	if err != nil {
		if res != nil {
			// Say what compare.json holds, which is what a resume keeps
			// (a failed write leaves the one before it).
			if saved, rerr := bench.ReadCompare(out); rerr == nil {
				done := 0
				for _, r := range saved.Runs {
					if r.Done {
						done++
					}
				}
				fmt.Fprintf(c.App.ErrWriter, "sgds: partial result in %s/compare.json (%d of %d runs finished); continue with: sgds compare --resume %s\n", out, done, len(saved.Runs), out)
			} else {
				fmt.Fprintf(c.App.ErrWriter, "sgds: no readable partial result in %s: %v\n", out, rerr)
			}
		}
		return err
	}
	if err := bench.WriteCompare(res, out); err != nil {
		return err
	}
	fmt.Fprint(c.App.Writer, bench.CompareMarkdown(res))
	fmt.Fprintf(c.App.Writer, "wrote %s in %s\n", strings.Join(bench.CompareFiles, ", "), out)
	return nil
}

func logOr(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

func methodNames(ms []run.Method) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	return strings.Join(names, ",")
}

// compareBar draws one progress line over the whole comparison on a
// terminal, and prints the per-epoch lines above it.
type compareBar struct {
	mu   sync.Mutex
	w    io.Writer
	line string
}

// newCompareBar returns a bar on stderr, or nil when quiet or when stderr
// is not a terminal.
func newCompareBar(quiet bool) *compareBar {
	if quiet || !term.IsTerminal(int(os.Stderr.Fd())) {
		return nil
	}
	return &compareBar{w: os.Stderr}
}

// Write prints log lines above the bar.
func (b *compareBar) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fmt.Fprint(b.w, "\r\033[K")
	n, err := b.w.Write(p)
	fmt.Fprint(b.w, b.line)
	return n, err
}

func (b *compareBar) update(ev bench.ProgressEvent) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.line = barLine(ev, 24)
	fmt.Fprint(b.w, "\r\033[K"+b.line)
}

func (b *compareBar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	fmt.Fprint(b.w, "\r\033[K")
	b.line = ""
}

// barLine renders the comparison's progress with a bar of width cells.
func barLine(ev bench.ProgressEvent, width int) string {
	frac := 0.0
	if ev.EpochsTotal > 0 {
		frac = float64(ev.EpochsDone) / float64(ev.EpochsTotal)
	}
	full := int(frac * float64(width))
	return fmt.Sprintf("[%s%s] %3.0f%%  run %d/%d  %s  seed %d  epoch %d/%d  ETA %s",
		strings.Repeat("█", full), strings.Repeat("░", width-full), 100*frac,
		ev.Run, ev.Runs, ev.Method, ev.Seed, ev.Epoch, ev.Epochs, ev.ETA.Round(time.Second))
}

// defaultTargets and quickTargets are compare's accuracy targets by data
// set, when --targets is not given: MNIST's would never be reached on
// Fashion-MNIST.
var (
	defaultTargets = map[string]string{"mnist": "0.98,0.985,0.99", "fashion-mnist": "0.85,0.87,0.88"}
	quickTargets   = map[string]string{"mnist": "0.95,0.96,0.97", "fashion-mnist": "0.8,0.82,0.84"}
)

// parseShard parses --shard K/N.
func parseShard(s string) (*bench.Shard, error) {
	var sh bench.Shard
	if _, err := fmt.Sscanf(s, "%d/%d", &sh.K, &sh.N); err != nil || fmt.Sprintf("%d/%d", sh.K, sh.N) != s {
		return nil, fmt.Errorf("--shard %q: want K/N, e.g. 2/8", s)
	}
	return &sh, nil
}

// ablationSpecs are SGD-S's parts as methods (compare --ablations).
var ablationSpecs = []string{
	"sgds-sample-d0:drop=0,readd=0,debias=0", "sgds-sample-d0.75:drop=0,readd=0,debias=0.75", "sgds-sample-d1:drop=0,readd=0,debias=1",
	"sgds-prune:mix=1",
	"sgds-both-d0:debias=0", "sgds-both-d1:debias=1",
}

// MaxBudgets bounds the number of --budgets.
const MaxBudgets = 32

// parseBudgets parses --budgets: distinct budgets in (0, run.MaxBudget],
// sorted ascending.
func parseBudgets(s string) ([]float64, error) {
	fs := strings.Split(s, ",")
	if len(fs) > MaxBudgets {
		return nil, fmt.Errorf("--budgets: %d budgets, at most %d", len(fs), MaxBudgets)
	}
	var out []float64
	for _, f := range fs {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(v > 0 && v <= run.MaxBudget) {
			return nil, fmt.Errorf("--budgets: %q is not a budget in (0, %d]", f, run.MaxBudget)
		}
		if slices.Contains(out, v) {
			return nil, fmt.Errorf("--budgets: %v is listed twice", v)
		}
		out = append(out, v)
	}
	slices.Sort(out)
	return out, nil
}

// parseSeeds parses a comma-separated list of distinct seeds.
func parseSeeds(s string) ([]uint64, error) {
	if n := strings.Count(s, ",") + 1; n > bench.MaxSeeds {
		return nil, fmt.Errorf("--seeds: %d seeds, at most %d", n, bench.MaxSeeds)
	}
	var out []uint64
	seen := map[uint64]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" || strings.TrimLeft(f, "0123456789") != "" {
			return nil, fmt.Errorf("--seeds: %q is not a seed (a non-negative decimal integer)", f)
		}
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--seeds: %q is not a seed (a non-negative decimal integer)", f)
		}
		if seen[v] {
			return nil, fmt.Errorf("--seeds: seed %d is listed twice", v)
		}
		seen[v] = true
		out = append(out, v)
	}
	return out, nil
}
