package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sgds/sgds/bench"
	"github.com/sgds/sgds/internal/provenance"
	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/training"
)

func tuneCommand() *cli.Command {
	var flags []cli.Flag
	for _, f := range trainFlags() {
		switch f.Names()[0] {
		case "val":
			f = intFlag("val", 5000, "hold out the last N training images as the validation set the choice is made on (the test set is never used)")
		case "epochs":
			f = intFlag("epochs", 2, "the short budget: epochs per trial")
		case "eval-every":
			continue // only the accuracy after the budget counts
		}
		flags = append(flags, f)
	}
	flags = append(flags,
		stringFlag("seeds", "1", "comma-separated seeds; a setting's score is its mean validation accuracy over them"),
		stringFlag("lrs", floats(bench.DefaultLRs), "comma-separated learning rates to try"),
		stringFlag("momenta", floats(bench.DefaultMomenta), "comma-separated momenta to try"),
		withDefaultText(stringFlag("schedules", "", "comma-separated learning-rate schedules `LIST` to try (of "+strings.Join(training.Schedules, ", ")+"), the same for every method"), "none: each method's own --schedule"),
		&cli.StringSliceFlag{Name: "method", EnvVars: env("method"), Usage: "a method to tune (repeatable), as in compare (its lr and momentum are replaced by the grid's); default uniform and sgds"},
		stringFlag("out", "runs/tune", "output folder for tune.json and tune.md (a folder holding results needs --resume or --force)"),
		withDefaultText(stringFlag("shard", "", "train only part `K/N` of the grid's trials (every N-th from the K-th) into its own --out; sgds merge joins the N folders"), "none: every trial"),
		forceFlag(),
		stringFlag("resume", "", "continue the interrupted tuning run in this folder (its tune.json): its trials are kept, the others trained"),
	)
	return &cli.Command{
		Name:  "tune",
		Usage: "choose each method's learning rate and momentum from a small grid by validation accuracy after a short budget; writes tune.json for compare --tuned",
		Flags: flags,
		Action: func(c *cli.Context) error {
			start := time.Now()
			var prev *bench.TuneResult
			var cfg bench.TuneConfig
			out := c.String("out")
			if dir := c.String("resume"); dir != "" {
				for _, name := range c.LocalFlagNames() {
					if !slices.Contains(resumeTuneFlags, name) && c.IsSet(name) {
						return fmt.Errorf("--resume continues the tuning run recorded in %s/tune.json; --%s cannot be changed", dir, name)
					}
				}
				var err error
				if prev, err = bench.ReadTunePartial(filepath.Join(dir, "tune.json")); err != nil {
					return fmt.Errorf("--resume: %w", err)
				}
				cfg, out = prev.Config, dir
				if c.IsSet("data") {
					cfg.Data = c.String("data")
				}
			} else {
				var err error
				if cfg, err = tuneConfigFrom(c); err != nil {
					return err
				}
			}
			d, err := loadRun(c, cfg.Base, cfg.Data, out, prev != nil)
			if err != nil {
				return err
			}
			res, err := bench.TuneFrom(c.Context, cfg, d, provenance.Collect(cfg.Base.Device, os.Args, start), logTo(c, c.App.ErrWriter),
				func(r *bench.TuneResult) error { return bench.WriteTune(r, out) }, prev)
			if err != nil {
				if res != nil {
					// Say what tune.json holds, which is what a resume keeps.
					if saved, rerr := bench.ReadTunePartial(filepath.Join(out, "tune.json")); rerr == nil {
						total := len(cfg.Methods) * len(cfg.LRs) * len(cfg.Momenta) * len(cfg.Seeds)
						fmt.Fprintf(c.App.ErrWriter, "sgds: partial result in %s/tune.json (%d of %d trials); continue with: sgds tune --resume %s\n", out, len(saved.Trials), total, out)
					}
				}
				return err
			}
			fmt.Fprint(c.App.Writer, bench.TuneMarkdown(res))
			for _, ch := range res.Chosen {
				fmt.Fprintf(c.App.Writer, "%s: lr %g, momentum %g, schedule %s (validation accuracy %.4f)\n", ch.Method, ch.LR, ch.Momentum, scheduleLabel(ch.Schedule), ch.ValAcc)
			}
			fmt.Fprintf(c.App.Writer, "wrote tune.json, tune.md in %s; use with: sgds compare --tuned %s/tune.json --method NAME:sampler=S,tuned=METHOD\n", out, out)
			return nil
		},
	}
}

// resumeTuneFlags may be given with tune --resume; every other setting
// comes from the tuning run's tune.json.
var resumeTuneFlags = []string{"resume", "quiet", "data"}

// tuneConfigFrom reads the flags of a new tuning run.
func tuneConfigFrom(c *cli.Context) (bench.TuneConfig, error) {
	base, err := runConfigFrom(c, "sgds")
	if err != nil {
		return bench.TuneConfig{}, err
	}
	seeds, err := parseSeeds(c.String("seeds"))
	if err != nil {
		return bench.TuneConfig{}, err
	}
	lrs, err := parseFloats("lrs", c.String("lrs"))
	if err != nil {
		return bench.TuneConfig{}, err
	}
	momenta, err := parseFloats("momenta", c.String("momenta"))
	if err != nil {
		return bench.TuneConfig{}, err
	}
	specs := c.StringSlice("method")
	if len(specs) == 0 {
		specs = []string{"uniform", "sgds"}
	}
	var ms []run.Method
	for _, spec := range specs {
		m, err := run.ParseMethod(spec, base, nil)
		if err != nil {
			return bench.TuneConfig{}, fmt.Errorf("--method: %w", err)
		}
		if err := steadyState(m, base); err != nil {
			return bench.TuneConfig{}, err
		}
		ms = append(ms, m)
	}
	base.Sampling = run.Sampling{}
	cfg := bench.TuneConfig{Base: base, Methods: ms, LRs: lrs, Momenta: momenta, Seeds: seeds, Data: c.String("data")}
	if s := c.String("shard"); s != "" {
		sh, err := parseShard(s)
		if err != nil {
			return cfg, err
		}
		cfg.Shard = sh
	}
	if l := c.String("schedules"); l != "" {
		for _, sc := range strings.Split(l, ",") {
			sc = strings.TrimSpace(sc)
			if err := (training.LRSchedule{Kind: sc}).Validate(); err != nil {
				return cfg, fmt.Errorf("--schedules: %w", err)
			}
			if sc == "constant" {
				sc = ""
			}
			if slices.Contains(cfg.Schedules, sc) {
				return cfg, fmt.Errorf("--schedules: %s is listed twice", scheduleLabel(sc))
			}
			cfg.Schedules = append(cfg.Schedules, sc)
		}
	}
	return cfg, cfg.Validate()
}

func floats(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

// maxGrid bounds the values of --lrs and of --momenta.
const maxGrid = 1000

// parseFloats parses the comma-separated decimal numbers of flag name.
func parseFloats(name, s string) ([]float64, error) {
	if n := strings.Count(s, ",") + 1; n > maxGrid {
		return nil, fmt.Errorf("--%s: %d values, at most %d", name, n, maxGrid)
	}
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v != v || v-v != 0 {
			return nil, fmt.Errorf("--%s: %q is not a number", name, f)
		}
		out = append(out, v)
	}
	return out, nil
}

// scheduleLabel is a schedule's name ("" is constant).
func scheduleLabel(sc string) string {
	if sc == "" {
		return "constant"
	}
	return sc
}

// steadyState refuses to tune an sgds method whose run never leaves its
// first, uniform epochs (SGD-S plans an epoch from the scores recorded
// before it): its grid would tune uniform SGD.
func steadyState(m run.Method, base run.Config) error {
	c := m.Config(base)
	if c.Sampler != "sgds" || c.Schedule == nil {
		return nil
	}
	uniform := max(c.Schedule.TransientEpochs, 1)
	if planned := c.PlannedEpochs(); planned <= uniform {
		return fmt.Errorf("--method %s: tune trains %d epoch(s), and SGD-S's first %d are uniform SGD (its transient epochs, and the epoch that scores every sample): the grid would tune uniform SGD; give --epochs (× --budget) above %d", m.Name, planned, uniform, uniform)
	}
	return nil
}
