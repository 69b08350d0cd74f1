package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/sgds/sgds/bench"
	"github.com/sgds/sgds/run"
)

func plotCommand() *cli.Command {
	return &cli.Command{
		Name:      "plot",
		Usage:     "redraw the plots and tables of a comparison from its compare.json",
		ArgsUsage: "DIR",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("plot takes one folder (holding compare.json), got %d arguments", c.NArg())
			}
			dir := c.Args().First()
			res, err := bench.ReadCompare(dir)
			if err != nil {
				return err
			}
			// plot writes only its own outputs (never compare.json), under
			// the folder's lock, and stops on a signal.
			f, err := run.OpenFolder(dir, notes)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := bench.RedrawCompare(c.Context, res, dir); err != nil {
				if errors.Is(err, context.Canceled) {
					return fmt.Errorf("%w: plot stopped; compare.json is untouched, some plots may be of the earlier drawing (run sgds plot %s again)", err, dir)
				}
				return err
			}
			fmt.Fprint(c.App.Writer, bench.CompareMarkdown(res))
			fmt.Fprintf(c.App.Writer, "redrew compare.md and the plots (PNG and SVG) in %s\n", dir)
			return nil
		},
	}
}
