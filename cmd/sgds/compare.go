package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sgds/sgds/bench"
)

// quickCompare are the settings --quick uses for flags the user did not set.
var quickCompare = map[string]string{
	"model": "mlp", "epochs": "5", "seeds": "1,2", "targets": "0.95,0.96,0.97",
}

func compareCommand() *cli.Command {
	flags := commonFlags()
	for _, f := range samplerFlags() {
		if f.Names()[0] != "sampler" {
			flags = append(flags, f)
		}
	}
	flags = append(flags,
		stringFlag("seeds", "1,2,3", "comma-separated seeds; every method starts from the same weights per seed"),
		stringFlag("targets", "0.98,0.985,0.99", "comma-separated accuracy targets in (0, 1]"),
		intFlag("parallel", 1, "seeds trained at once (each seed's methods still alternate epoch by epoch on one goroutine)"),
		boolFlag("variants", "also run SGD-S unbiased and SGD-S mixed with uniform"),
		&cli.StringSliceFlag{Name: "method", EnvVars: env("method"), Usage: "run this method instead of the default SGD-S (repeatable): name:key=value,… with the SGD-S knobs as keys, e.g. drop30:drop=0.3,mix=0.1; uniform always runs"},
		boolFlag("quick", "a reduced run in a few minutes: the MLP, 5 epochs, seeds 1,2, targets 0.95,0.96,0.97 (flags you set win)"),
		stringFlag("out", "runs/compare", "output folder for compare.json, compare.md and the plots"),
	)
	return &cli.Command{
		Name:  "compare",
		Usage: "train uniform SGD and SGD-S from the same weights on several seeds and measure time and samples to target accuracy",
		Flags: flags,
		Action: func(c *cli.Context) error {
			if c.Bool("quick") {
				for name, v := range quickCompare {
					if !c.IsSet(name) {
						if err := c.Set(name, v); err != nil {
							return err
						}
					}
				}
			}
			base, err := runConfigFrom(c, "sgds")
			if err != nil {
				return err
			}
			seeds, err := parseSeeds(c.String("seeds"))
			if err != nil {
				return err
			}
			targets, err := parseTargets(c.String("targets"))
			if err != nil {
				return fmt.Errorf("--targets: %w", err)
			}
			if c.Int("parallel") < 1 {
				return fmt.Errorf("--parallel must be ≥ 1, got %d", c.Int("parallel"))
			}
			cfg := bench.CompareConfig{Base: base, Seeds: seeds, Targets: targets, Parallel: c.Int("parallel"),
				Methods: bench.Methods(*base.Schedule, base.Score, c.Bool("variants"))}
			if specs := c.StringSlice("method"); len(specs) > 0 {
				cfg.Methods = cfg.Methods[:1] // uniform
				names := map[string]bool{"uniform": true}
				for _, spec := range specs {
					m, err := bench.ParseMethod(spec, *base.Schedule, base.Score)
					if err != nil {
						return fmt.Errorf("--method: %w", err)
					}
					if names[m.Name] {
						return fmt.Errorf("--method: name %q used twice", m.Name)
					}
					names[m.Name] = true
					cfg.Methods = append(cfg.Methods, m)
				}
			}
			cfg.Base.Sampler, cfg.Base.Schedule, cfg.Base.Score = "", nil, ""
			d, err := loadRun(base, c.String("data"), c.String("out"))
			if err != nil {
				return err
			}
			log := logTo(c, c.App.ErrWriter)
			fmt.Fprintf(log, "compare: %s on %s, %d epochs, seeds %v, methods %d, targets %v\n",
				base.Model, base.Dataset, base.Epochs, seeds, len(cfg.Methods), targets)
			res, err := bench.Compare(c.Context, cfg, d, log)
			return report(c, res, err, bench.WriteCompare, bench.CompareMarkdown,
				"compare.json", "compare.md", "acc_vs_seconds.png", "acc_vs_samples.png", "kept_fraction.png")
		},
	}
}

// parseSeeds parses a comma-separated list of distinct seeds.
func parseSeeds(s string) ([]uint64, error) {
	var out []uint64
	seen := map[uint64]bool{}
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--seeds: %q is not a seed (a non-negative integer)", f)
		}
		if seen[v] {
			return nil, fmt.Errorf("--seeds: seed %d is listed twice", v)
		}
		seen[v] = true
		out = append(out, v)
	}
	return out, nil
}
