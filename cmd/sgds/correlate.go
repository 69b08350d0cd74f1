package main

import (
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/sgds/sgds/bench"
)

func correlateCommand() *cli.Command {
	flags := append(commonFlags(),
		intFlag("samples", 2000, "training samples to score after training"),
		intFlag("timing-steps", 20, "batches timed for the cost of the norms"),
		stringFlag("out", "runs/correlate", "output folder for correlate.json and the plots"),
	)
	return &cli.Command{
		Name:  "correlate",
		Usage: "train, then compare per-sample loss and last-layer norm with the exact per-sample gradient norm",
		Flags: flags,
		Action: func(c *cli.Context) error {
			cfg, err := runConfigFrom(c, "uniform")
			if err != nil {
				return err
			}
			d, err := openRun(c, cfg)
			if err != nil {
				return err
			}
			hooks := epochHooks(c, logTo(c, c.App.Writer), cfg.Epochs)
			res, err := bench.Correlate(c.Context, bench.CorrelateConfig{Run: cfg, Samples: c.Int("samples"), TimingSteps: c.Int("timing-steps")}, d, hooks, c.App.ErrWriter)
			if err != nil {
				return err
			}
			out := c.String("out")
			if err := bench.WriteCorrelate(res, out); err != nil {
				return err
			}
			fmt.Fprint(c.App.Writer, bench.CorrelateTable(res))
			fmt.Fprintf(c.App.Writer, "wrote %s, %s and %s\n", filepath.Join(out, "correlate.json"),
				filepath.Join(out, "loss_by_gradnorm_rank.png"), filepath.Join(out, "loss_vs_gradnorm.png"))
			return nil
		},
	}
}
