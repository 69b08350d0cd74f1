package main

import (
	"fmt"

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
			cfg, err := runConfigFrom(c, "sequential")
			if err != nil {
				return err
			}
			d, err := openRun(c, cfg)
			if err != nil {
				return err
			}
			res, err := bench.Patterns(c.Context, cfg, d, logTo(c, c.App.ErrWriter))
			if err != nil {
				return err
			}
			out := c.String("out")
			if err := bench.WritePatterns(res, out); err != nil {
				return err
			}
			fmt.Fprint(c.App.Writer, bench.PatternsTable(res))
			fmt.Fprintf(c.App.Writer, "wrote %s/patterns.json and patterns_<range>.png\n", out)
			return nil
		},
	}
}
