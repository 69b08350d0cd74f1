package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sgds/sgds/bench"
	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/internal/provenance"
	"github.com/sgds/sgds/run"
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
		withDefaultText(stringFlag("schedules", "", "comma-separated learning-rate schedules `LIST` to try (of "+strings.Join(engine.Schedules, ", ")+"), the same for every method"), "none: each method's own --schedule"),
		&cli.StringSliceFlag{Name: "method", EnvVars: env("method"), Usage: "a method to tune (repeatable), as in compare (its lr and momentum are replaced by the grid's); default uniform and sgds"},
		stringFlag("out", "runs/tune", "output folder for tune.json and tune.md"),
	)
	return &cli.Command{
		Name:  "tune",
		Usage: "choose each method's learning rate and momentum from a small grid by validation accuracy after a short budget; writes tune.json for compare --tuned",
		Flags: flags,
		Action: func(c *cli.Context) error {
			start := time.Now()
			base, err := runConfigFrom(c, "sgds")
			if err != nil {
				return err
			}
			seeds, err := parseSeeds(c.String("seeds"))
			if err != nil {
				return err
			}
			lrs, err := parseFloats("lrs", c.String("lrs"))
			if err != nil {
				return err
			}
			momenta, err := parseFloats("momenta", c.String("momenta"))
			if err != nil {
				return err
			}
			specs := c.StringSlice("method")
			if len(specs) == 0 {
				specs = []string{"uniform", "sgds"}
			}
			var ms []run.Method
			for _, spec := range specs {
				m, err := run.ParseMethod(spec, base, nil)
				if err != nil {
					return fmt.Errorf("--method: %w", err)
				}
				if err := steadyState(m, base); err != nil {
					return err
				}
				ms = append(ms, m)
			}
			base.Sampling = run.Sampling{}
			cfg := bench.TuneConfig{Base: base, Methods: ms, LRs: lrs, Momenta: momenta, Seeds: seeds}
			if l := c.String("schedules"); l != "" {
				for _, sc := range strings.Split(l, ",") {
					sc = strings.TrimSpace(sc)
					if err := (engine.LRSchedule{Kind: sc}).Validate(); err != nil {
						return fmt.Errorf("--schedules: %w", err)
					}
					if sc == "constant" {
						sc = ""
					}
					if slices.Contains(cfg.Schedules, sc) {
						return fmt.Errorf("--schedules: %s is listed twice", scheduleLabel(sc))
					}
					cfg.Schedules = append(cfg.Schedules, sc)
				}
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			out := c.String("out")
			d, err := loadRun(base, c.String("data"), out)
			if err != nil {
				return err
			}
			res, err := bench.Tune(c.Context, cfg, d, provenance.Collect(base.Device, os.Args, start), logTo(c, c.App.ErrWriter),
				func(r *bench.TuneResult) error { return bench.WriteTune(r, out) })
			if err != nil {
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

func floats(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

// parseFloats parses the comma-separated decimal numbers of flag name.
func parseFloats(name, s string) ([]float64, error) {
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
