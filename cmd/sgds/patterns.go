package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/sgds/sgds/bench"
	"github.com/sgds/sgds/internal/provenance"
)

func patternsCommand() *cli.Command {
	flags := append(commonFlags(), subsetFlag(), stringFlag("out", "runs/patterns", "write patterns.json and the plots into folder `DIR` (a folder holding results needs --force)"), forceFlag())
	for i, f := range flags {
		if f.Names()[0] == "epochs" {
			flags[i] = intFlag("epochs", 5, fmt.Sprintf("train for `N` epochs with each order, in [2, %d]", MaxEpochs))
		}
	}
	return &cli.Command{
		Name:  "patterns",
		Usage: "do hard samples stay hard? train with shuffling off and on and track every sample's loss decile",
		Flags: flags,
		Action: func(c *cli.Context) error {
			cfg, d, err := openRun(c, "sequential")
			if err != nil {
				return err
			}
			res, err := bench.Patterns(c.Context, cfg, d, logTo(c, c.App.ErrWriter))
			if err == nil {
				p := provenance.Collect(cfg.Device, os.Args, started)
				res.Provenance = &p
			}
			return report(c, res, err, bench.WritePatterns, bench.PatternsTable, "patterns.json", "patterns_<range>.png")
		},
	}
}
