package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sgds/sgds/bench"
	"github.com/sgds/sgds/run"
)

func mergeCommand() *cli.Command {
	return &cli.Command{
		Name:      "merge",
		Usage:     "join the shards of a comparison (compare --shard K/N, each in its own folder) into the comparison one process would have run",
		ArgsUsage: "SHARD…",
		Flags: []cli.Flag{
			withDefaultText(stringFlag("out", "", "output folder `DIR` for the merged compare.json, compare.md and plots (a folder holding a comparison is refused)"), "none: required"),
		},
		Action: func(c *cli.Context) error {
			for _, a := range c.Args().Slice() {
				if strings.HasPrefix(a, "-") {
					return fmt.Errorf("%s: flags go before the folders (sgds merge --out DIR SHARD…)", a)
				}
			}
			if c.NArg() < 1 {
				return fmt.Errorf("merge takes the shards' folders (each holding compare.json), got none")
			}
			out := c.String("out")
			if out == "" {
				return fmt.Errorf("--out: name the folder for the merged comparison")
			}
			var parts []*bench.CompareResult
			for _, dir := range c.Args().Slice() {
				p, err := bench.ReadCompare(dir)
				if err != nil {
					return err
				}
				if !p.Complete {
					return fmt.Errorf("%s: shard %v has runs left; finish it with sgds compare --resume %s", dir, p.Config.Shard, dir)
				}
				parts = append(parts, p)
			}
			res, err := bench.Merge(parts)
			if err != nil {
				return err
			}
			f, err := run.OpenFolder(out, notes)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := bench.ReadCompare(out); err == nil {
				return fmt.Errorf("--out %s holds a comparison already; merge into another folder", out)
			}
			if err := bench.WriteCompare(res, out); err != nil {
				return err
			}
			fmt.Fprint(c.App.Writer, bench.CompareMarkdown(res))
			fmt.Fprintf(c.App.Writer, "merged %d shards into %s\n", len(parts), out)
			return nil
		},
	}
}
