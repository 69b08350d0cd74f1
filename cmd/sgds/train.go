package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/sgds/sgds/bench"
	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/internal/atomicfile"
	"github.com/sgds/sgds/sampler"
)

// summary is summary.json.
type summary struct {
	Config       bench.RunConfig   `json:"config"`
	TargetAcc    *float64          `json:"target_acc"`
	EpochsDone   int               `json:"epochs_done"`
	FinalTestAcc float64           `json:"final_test_acc"`
	BestTestAcc  float64           `json:"best_test_acc"`
	FinalValAcc  *float64          `json:"final_val_acc,omitempty"`
	TrainSeconds float64           `json:"train_seconds"`
	SamplesSeen  int64             `json:"samples_seen"`
	TimeToTarget *engine.TargetHit `json:"time_to_target"`
}

// samplerFlags are the SGD-S schedule's knobs and the score it samples by.
func samplerFlags() []cli.Flag {
	d := sampler.DefaultScheduleConfig()
	return []cli.Flag{
		stringFlag("sampler", "uniform", "sample order: uniform (a fresh shuffle per epoch), sequential, or sgds (loss-proportional sampling with pruning)"),
		stringFlag("score", "loss", "per-sample score the sgds sampler draws by: loss, lastlayer (||softmax − onehot||) or gradnorm (exact ||∇θ L_i||)"),
		intFlag("transient", d.TransientEpochs, "sgds: uniform epochs before the steady state"),
		floatFlag("drop", d.DropFrac, "sgds: fraction of the kept set dropped (lowest scores) after each steady-state epoch, in [0, 1)"),
		floatFlag("readd", d.ReaddFrac, "sgds: fraction of the data set re-added from the dropped samples after each steady-state epoch, in [0, 1)"),
		floatFlag("kept-floor", d.KeptFloor, "sgds: never prune the kept set below this fraction of the data set, in [0, 1)"),
		floatFlag("mix", d.Mix, "sgds: λ in p_i = (1−λ)·s_i/Σs + λ/|kept|, in [0, 1]"),
		stringFlag("readd-score", string(d.ReaddScore), "sgds: score a re-added sample starts with: last or mean"),
		boolFlag("unbiased", "sgds: weight each drawn sample by 1/(B·|kept|·p_i) so the expected gradient is the kept set's uniform one"),
		intFlag("val", 0, "hold out the last N training images as a validation set (targets then use validation accuracy)"),
	}
}

// runConfigFrom reads and validates the flags of a training run.
func runConfigFrom(c *cli.Context, samplerName string) (bench.RunConfig, error) {
	cfg := bench.RunConfig{
		Dataset: c.String("dataset"), Model: c.String("model"), Device: c.String("device"),
		Sampler: samplerName, Score: c.String("score"),
		Epochs: c.Int("epochs"), Batch: c.Int("batch"), LR: c.Float64("lr"),
		Momentum: c.Float64("momentum"), Seed: c.Uint64("seed"), Val: c.Int("val"),
	}
	if cfg.Sampler == "sgds" {
		sc := sampler.DefaultScheduleConfig()
		sc.BatchSize = cfg.Batch
		sc.TransientEpochs = c.Int("transient")
		sc.DropFrac = c.Float64("drop")
		sc.ReaddFrac = c.Float64("readd")
		sc.KeptFloor = c.Float64("kept-floor")
		sc.Mix = c.Float64("mix")
		sc.ReaddScore = sampler.ReaddScore(c.String("readd-score"))
		sc.Unbiased = c.Bool("unbiased")
		for name, v := range map[string]float64{"drop": sc.DropFrac, "readd": sc.ReaddFrac, "kept-floor": sc.KeptFloor} {
			if err := checkFraction(name, v); err != nil {
				return cfg, err
			}
		}
		if sc.ReaddScore != sampler.ReaddLast && sc.ReaddScore != sampler.ReaddMean {
			return cfg, fmt.Errorf("--readd-score must be %q or %q, got %q", sampler.ReaddLast, sampler.ReaddMean, sc.ReaddScore)
		}
		if sc.TransientEpochs < 0 {
			return cfg, fmt.Errorf("--transient must be ≥ 0, got %d", sc.TransientEpochs)
		}
		if !(sc.Mix >= 0 && sc.Mix <= 1) {
			return cfg, fmt.Errorf("--mix must be in [0, 1], got %v", sc.Mix)
		}
		cfg.Schedule = &sc
	}
	return cfg, cfg.Validate()
}

func trainCommand() *cli.Command {
	flags := append(commonFlags(), samplerFlags()...)
	flags = append(flags,
		stringFlag("out", "", "output folder for metrics.jsonl and summary.json (default runs/<dataset>-<model>-seed<seed>)"),
		floatFlag("target-acc", 0, "record the first epoch, training seconds and samples seen at which accuracy (validation if --val, else test) reaches this value in (0, 1]"),
	)
	return &cli.Command{
		Name:  "train",
		Usage: "train a model and write metrics.jsonl and summary.json",
		Flags: flags,
		Action: func(c *cli.Context) error {
			cfg, err := runConfigFrom(c, c.String("sampler"))
			if err != nil {
				return err
			}
			var targets []float64
			if c.IsSet("target-acc") {
				t := c.Float64("target-acc")
				if !(t > 0 && t <= 1) {
					return fmt.Errorf("--target-acc must be in (0, 1], got %v", t)
				}
				targets = []float64{t}
			}
			out := c.String("out")
			if out == "" {
				out = filepath.Join("runs", fmt.Sprintf("%s-%s-seed%d", cfg.Dataset, cfg.Model, cfg.Seed))
			}
			return train(c, cfg, targets, out)
		},
	}
}

func train(c *cli.Context, cfg bench.RunConfig, targets []float64, out string) error {
	if err := atomicfile.PrepareDir(out); err != nil {
		return err
	}
	d, err := bench.LoadData(cfg.Dataset, c.String("data"), cfg.Val)
	if err != nil {
		return err
	}
	quiet := c.Bool("quiet")
	w := c.App.Writer
	if quiet {
		w = io.Discard
	}
	fmt.Fprintf(w, "training %s on %s (%d samples, test %d) on %s with the %s sampler: %d epochs, batch %d, lr %g, momentum %g, seed %d\n",
		cfg.Model, cfg.Dataset, d.Train.N, d.Test.N, cfg.Device, cfg.Sampler, cfg.Epochs, cfg.Batch, cfg.LR, cfg.Momentum, cfg.Seed)
	sum := summary{Config: cfg}
	if len(targets) > 0 {
		sum.TargetAcc = &targets[0]
	}
	hooks := bench.Hooks{Targets: targets, OnEpoch: func(t *engine.Trainer, e engine.EpochMetrics) error {
		fmt.Fprintln(w, bench.EpochLine(e, cfg.Epochs))
		if err := atomicfile.WriteJSONLines(filepath.Join(out, "metrics.jsonl"), t.History); err != nil {
			return err
		}
		sum.EpochsDone = e.Epoch
		sum.FinalTestAcc = e.TestAcc
		sum.BestTestAcc = math.Max(sum.BestTestAcc, e.TestAcc)
		sum.FinalValAcc = e.ValAcc
		sum.TrainSeconds, sum.SamplesSeen = e.TrainSeconds, e.SamplesSeen
		if len(targets) > 0 {
			if h, ok := t.Hit(targets[0]); ok {
				sum.TimeToTarget = &h
			}
		}
		return atomicfile.WriteJSON(filepath.Join(out, "summary.json"), sum)
	}}
	if p := newProgress(quiet); p != nil {
		hooks.Progress = p
	}
	_, net, err := bench.Train(c.Context, cfg, d, nil, hooks)
	if err != nil {
		return err
	}
	net.Close()
	fmt.Fprintf(c.App.Writer, "test accuracy %.4f (best %.4f) after %d epochs, %.1f s of training; results in %s\n",
		sum.FinalTestAcc, sum.BestTestAcc, sum.EpochsDone, sum.TrainSeconds, out)
	if len(targets) > 0 {
		if sum.TimeToTarget != nil {
			fmt.Fprintf(c.App.Writer, "target %.4f reached at epoch %d after %.1f s and %d samples\n",
				targets[0], sum.TimeToTarget.Epoch, sum.TimeToTarget.TrainSeconds, sum.TimeToTarget.SamplesSeen)
		} else {
			fmt.Fprintf(c.App.Writer, "target %.4f not reached\n", targets[0])
		}
	}
	return nil
}
