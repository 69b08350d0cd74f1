package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sgds/sgds/engine"
)

// env names the SGDS_* variable of a flag: --target-acc ↔ SGDS_TARGET_ACC.
func env(name string) []string {
	return []string{"SGDS_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))}
}

func stringFlag(name, value, usage string) *cli.StringFlag {
	return &cli.StringFlag{Name: name, Value: value, Usage: usage, EnvVars: env(name)}
}

func intFlag(name string, value int, usage string) *cli.IntFlag {
	return &cli.IntFlag{Name: name, Value: value, Usage: usage, EnvVars: env(name)}
}

func floatFlag(name string, value float64, usage string) *cli.Float64Flag {
	return &cli.Float64Flag{Name: name, Value: value, Usage: usage, EnvVars: env(name)}
}

func boolFlag(name, usage string) *cli.BoolFlag {
	return &cli.BoolFlag{Name: name, Usage: usage, EnvVars: env(name)}
}

func uintFlag(name string, value uint64, usage string) *cli.Uint64Flag {
	return &cli.Uint64Flag{Name: name, Value: value, Usage: usage, EnvVars: env(name)}
}

// commonFlags are shared by every command that trains.
func commonFlags() []cli.Flag {
	return []cli.Flag{
		stringFlag("dataset", "mnist", "data set: mnist or fashion-mnist"),
		stringFlag("data", "", "folder holding the four IDX .gz files (default: data/<dataset>, then the Go module cache for MNIST or /usr/share/datasets/fashion-mnist)"),
		stringFlag("model", "cnn", "model: mlp or cnn"),
		intFlag("epochs", 3, "training epochs"),
		intFlag("batch", 64, "mini-batch size"),
		floatFlag("lr", 0.01, "learning rate"),
		floatFlag("momentum", 0.5, "SGD momentum in [0, 1)"),
		uintFlag("seed", 1, "seed of the weights and of every random draw"),
		stringFlag("device", "cpu", "backend: cpu (our CPU kernels, the fastest on a CPU), gorgonia (the autodiff oracle, slow), cuda (GPU build only) or auto (cuda when built and a GPU is present, else cpu); built in: "+strings.Join(engine.Backends(), ", ")),
		boolFlag("quiet", "no progress bar and no per-epoch lines"),
	}
}

// checkTarget reports an accuracy target outside (0, 1].
func checkTarget(v float64) error {
	if !(v > 0 && v <= 1) {
		return fmt.Errorf("accuracy target %v must be in (0, 1]", v)
	}
	return nil
}

// parseTargets parses a comma-separated list of accuracies in (0, 1].
func parseTargets(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, fmt.Errorf("accuracy target %q is not a number", f)
		}
		if err := checkTarget(v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
