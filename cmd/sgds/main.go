// Command sgds trains neural networks with loss-proportional importance
// sampling (SGD-S) and runs the experiments that measure it.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/sgds/sgds/cuda"
	"github.com/sgds/sgds/engine"
	_ "github.com/sgds/sgds/engine/cpu"      // registers the "cpu" backend (our kernels)
	_ "github.com/sgds/sgds/engine/gorgonia" // registers the "gorgonia" backend (autodiff oracle)
	_ "github.com/sgds/sgds/engine/gpu"      // registers the "cuda" backend (GPU builds; the host driver otherwise)
)

// version is set by build.sh through -ldflags.
var version = "dev"

func main() {
	os.Exit(sgds(os.Args))
}

// sgds executes the command line and returns the process exit code.
func sgds(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// A second signal exits at once; files are written atomically, so the
		// last finished checkpoint and results survive.
		<-ctx.Done()
		stop()
	}()
	app := newApp()
	if err := app.RunContext(ctx, args); err != nil {
		fmt.Fprintf(os.Stderr, "sgds: %v\n", err)
		if errors.Is(err, context.Canceled) {
			return 130
		}
		return 1
	}
	return 0
}

func newApp() *cli.App {
	return &cli.App{
		Name:    "sgds",
		Usage:   "train neural networks faster by learning what to learn and when",
		Version: version,
		Description: "Every flag can also be set by an SGDS_* environment variable " +
			"(the flag's name in capitals, dashes as underscores: --target-acc ↔ SGDS_TARGET_ACC).",
		HideHelpCommand: true,
		// --method specs contain commas: repeat the flag instead.
		DisableSliceFlagSeparator: true,
		Commands: []*cli.Command{
			trainCommand(),
			correlateCommand(),
			compareCommand(),
			patternsCommand(),
			devicesCommand(),
		},
	}
}

func devicesCommand() *cli.Command {
	return &cli.Command{
		Name:  "devices",
		Usage: "list the backends built into this binary",
		Action: func(c *cli.Context) error {
			for _, name := range engine.Backends() {
				fmt.Fprintf(c.App.Writer, "%s\tbuilt in\n", name)
			}
			if _, err := engine.LookupBackend("cuda"); err != nil {
				fmt.Fprintf(c.App.Writer, "cuda\tnot built in (make cuda builds bin/sgds-cuda with -tags cuda)\n")
				return nil
			}
			devs, err := cuda.Devices()
			if err != nil {
				return fmt.Errorf("listing GPUs: %w", err)
			}
			for _, d := range devs {
				fmt.Fprintf(c.App.Writer, "cuda:%d\t%s, %.1f GiB, compute %d.%d, %d SMs\n",
					d.Ordinal, d.Name, float64(d.TotalMem)/(1<<30), d.Major, d.Minor, d.SMs)
			}
			return nil
		},
	}
}
