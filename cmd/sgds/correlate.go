package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/sgds/sgds/bench"
	"github.com/sgds/sgds/internal/provenance"
)

func correlateCommand() *cli.Command {
	flags := append(commonFlags(), subsetFlag(),
		intFlag("samples", 2000, "score `N` training samples after training, in [10, the training samples]"),
		intFlag("timing-steps", 20, fmt.Sprintf("time the cost of the norms over `N` batches, in [1, %d]", bench.MaxTimingSteps)),
		stringFlag("out", "runs/correlate", "write correlate.json and the plots into folder `DIR` (a folder holding results needs --force)"),
		forceFlag(),
	)
	return &cli.Command{
		Name:  "correlate",
		Usage: "train, then compare per-sample loss and last-layer norm with the exact per-sample gradient norm",
		Flags: flags,
		Action: func(c *cli.Context) error {
			if n := c.Int("timing-steps"); n < 1 || n > bench.MaxTimingSteps {
				return fmt.Errorf("--timing-steps must be in [1, %d], got %d", bench.MaxTimingSteps, n)
			}
			if n := c.Int("samples"); n < 10 {
				return fmt.Errorf("--samples must be in [10, the training samples], got %d", n)
			}
			cfg, d, err := openRun(c, "uniform")
			if err != nil {
				return err
			}
			hooks := epochHooks(c, logTo(c, c.App.Writer), cfg.Epochs)
			res, err := bench.Correlate(c.Context, bench.CorrelateConfig{Run: cfg, Samples: c.Int("samples"), TimingSteps: c.Int("timing-steps")}, d, hooks, c.App.ErrWriter)
			if err == nil {
				p := provenance.Collect(cfg.Device, os.Args, started)
				res.Provenance = &p
			}
			return report(c, res, err, bench.WriteCorrelate, bench.CorrelateTable,
				"correlate.json", "loss_by_gradnorm_rank.png", "loss_vs_gradnorm.png")
		},
	}
}
