package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sgds/sgds/bench"
	"github.com/sgds/sgds/run"
	"github.com/urfave/cli/v2"
)

// What the experiment commands (compare, tune, correlate, patterns) share:
// their data, their output folder's claim and their report.

// openRun reads the flags of a run with the given sampler, claims the
// --out folder (loadRun) and loads the data from the --data flag.
func openRun(c *cli.Context, samplerName string) (run.Config, *run.Data, error) {
	cfg, err := runConfigFrom(c, samplerName)
	if err != nil {
		return cfg, nil, err
	}
	d, err := loadRun(c, cfg, c.String("data"), c.String("out"), false)
	if err == nil && c.Context.Err() != nil {
		err = fmt.Errorf("interrupted while loading the data: %w; nothing was written to %s", c.Context.Err(), c.String("out"))
	}
	return cfg, d, err
}

// notes receives what sgds says about the output folder (stale files
// removed).
var notes io.Writer = os.Stderr

// outputs are the files each experiment command writes besides
// run.ResultNames (glob patterns): its plots.
var outputs = map[string][]string{
	"compare":   bench.CompareFiles,
	"correlate": {"loss_by_gradnorm_rank.png", "loss_vs_gradnorm.png"},
	"patterns":  {"patterns_*.png"},
	"tune":      {"tune.json", "tune.md"},
}

// resumeLine is the command line that continues the results of command
// cmd in out, or "" when cmd cannot continue.
func resumeLine(cmd, out string) string {
	switch cmd {
	case "compare", "tune":
		return "sgds " + cmd + " --resume " + out
	}
	return ""
}

// loadRun locks out (run.OpenFolder, held until the process ends) and,
// unless resuming, claims it for a new run of c's command (a folder
// holding results is refused without --force: run.Folder.Claim), then
// loads the data set with cfg's validation split and subset, and checks
// the batch against it.
func loadRun(c *cli.Context, cfg run.Config, dataDir, out string, resuming bool) (*run.Data, error) {
	f, err := run.OpenFolder(out, notes)
	if err != nil {
		return nil, err
	}
	if !resuming {
		if err := f.Claim(c.Bool("force"), outputs[c.Command.Name], resumeLine(c.Command.Name, out), notes); err != nil {
			return nil, err
		}
	}
	return run.LoadFor(cfg, dataDir)
}

// forceFlag is --force of the experiment commands.
func forceFlag() cli.Flag {
	return boolFlag("force", "start over in an --out folder that holds results, deleting them (without it such a folder is refused)")
}

// report ends an experiment command: unless err is set, it prints the
// table of res, writes res into the --out folder with write and names the
// files written. An interrupted experiment says that nothing was written.
func report[R any](c *cli.Context, res R, err error, write func(R, string) error, table func(R) string, files ...string) error {
	out := c.String("out")
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("%w; nothing was written to %s (sgds %s writes its results when it finishes)", err, out, c.Command.Name)
		}
		return err
	}
	fmt.Fprint(c.App.Writer, table(res))
	if err := write(res, out); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "wrote %s in %s\n", strings.Join(files, ", "), out)
	return nil
}
