package main

import (
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
			cfg, d, err := openRun(c, "uniform")
			if err != nil {
				return err
			}
			hooks := epochHooks(c, logTo(c, c.App.Writer), cfg.Epochs)
			res, err := bench.Correlate(c.Context, bench.CorrelateConfig{Run: cfg, Samples: c.Int("samples"), TimingSteps: c.Int("timing-steps")}, d, hooks, c.App.ErrWriter)
			return report(c, res, err, bench.WriteCorrelate, bench.CorrelateTable,
				"correlate.json", "loss_by_gradnorm_rank.png", "loss_vs_gradnorm.png")
		},
	}
}
