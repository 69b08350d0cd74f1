package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/sgds/sgds/bench"
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
			if err := bench.WriteCompare(res, dir); err != nil {
				return err
			}
			fmt.Fprint(c.App.Writer, bench.CompareMarkdown(res))
			fmt.Fprintf(c.App.Writer, "redrew compare.md and the plots (PNG and SVG) in %s\n", dir)
			return nil
		},
	}
}
