package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sgds/sgds/bench"
	"github.com/sgds/sgds/run"
)

func mergeCommand() *cli.Command {
	return &cli.Command{
		Name:      "merge",
		Usage:     "join the shards of a comparison or a tuning run (compare or tune --shard K/N, each in its own folder) into the result one process would have made",
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
			if _, err := os.Stat(filepath.Join(c.Args().First(), "tune.json")); err == nil {
				return mergeTune(c, out)
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
			return writeMerged(c, out, "compare.json", "a comparison", func() error { return bench.WriteCompare(res, out) }, bench.CompareMarkdown(res), len(parts))
		},
	}
}

// mergeTune joins the shards of a tuning run (tune --shard K/N) into out.
func mergeTune(c *cli.Context, out string) error {
	var parts []*bench.TuneResult
	for _, dir := range c.Args().Slice() {
		p, err := bench.ReadTune(filepath.Join(dir, "tune.json"))
		if err != nil {
			return err
		}
		parts = append(parts, p)
	}
	res, err := bench.MergeTune(parts)
	if err != nil {
		return err
	}
	return writeMerged(c, out, "tune.json", "a tuning run", func() error { return bench.WriteTune(res, out) }, bench.TuneMarkdown(res), len(parts))
}

// writeMerged holds out, refuses it when it holds a result file of the
// merged kind already (what), writes the merged result with write and
// prints its table.
func writeMerged(c *cli.Context, out, file, what string, write func() error, table string, shards int) error {
	f, err := run.OpenFolder(out, notes)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := os.Stat(f.Path(file)); err == nil {
		return fmt.Errorf("--out %s holds %s already; merge into another folder", out, what)
	}
	if err := write(); err != nil {
		return err
	}
	fmt.Fprint(c.App.Writer, table)
	fmt.Fprintf(c.App.Writer, "merged %d shards into %s\n", shards, out)
	return nil
}
