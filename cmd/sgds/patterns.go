package main

import (
	"github.com/urfave/cli/v2"

	"github.com/sgds/sgds/bench"
)

func patternsCommand() *cli.Command {
	flags := append(commonFlags(), stringFlag("out", "runs/patterns", "output folder for patterns.json and the plots"))
	return &cli.Command{
		Name:  "patterns",
		Usage: "do hard samples stay hard? train with shuffling off and on and track every sample's loss decile",
		Flags: flags,
		Action: func(c *cli.Context) error {
			if !c.IsSet("epochs") {
				if err := c.Set("epochs", "5"); err != nil {
					return err
				}
			}
			cfg, d, err := openRun(c, "sequential")
			if err != nil {
				return err
			}
			res, err := bench.Patterns(c.Context, cfg, d, logTo(c, c.App.ErrWriter))
			return report(c, res, err, bench.WritePatterns, bench.PatternsTable, "patterns.json", "patterns_<range>.png")
		},
	}
}
