package main

import (
	"fmt"
	"math"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/internal/atomicfile"
	"github.com/sgds/sgds/sampler"
)

// runConfig is the configuration of one training run, as recorded in
// summary.json.
type runConfig struct {
	Dataset   string    `json:"dataset"`
	Model     string    `json:"model"`
	Device    string    `json:"device"`
	Sampler   string    `json:"sampler"`
	Epochs    int       `json:"epochs"`
	Batch     int       `json:"batch"`
	LR        float64   `json:"lr"`
	Momentum  float64   `json:"momentum"`
	Seed      uint64    `json:"seed"`
	TargetAcc float64   `json:"target_acc,omitempty"`
	Val       int       `json:"val,omitempty"`
	Targets   []float64 `json:"-"`
}

// summary is summary.json.
type summary struct {
	Config       runConfig         `json:"config"`
	EpochsDone   int               `json:"epochs_done"`
	FinalTestAcc float64           `json:"final_test_acc"`
	BestTestAcc  float64           `json:"best_test_acc"`
	TrainSeconds float64           `json:"train_seconds"`
	SamplesSeen  int64             `json:"samples_seen"`
	TimeToTarget *engine.TargetHit `json:"time_to_target"`
}

func trainCommand() *cli.Command {
	flags := append(commonFlags(),
		stringFlag("out", "", "output folder for metrics.jsonl and summary.json (default runs/<dataset>-<model>-seed<seed>)"),
		floatFlag("target-acc", 0, "record the first epoch, training seconds and samples seen at which test accuracy reaches this value in (0, 1]"),
		stringFlag("sampler", "uniform", "sample order: uniform (a fresh shuffle per epoch) or sequential"),
	)
	return &cli.Command{
		Name:  "train",
		Usage: "train a model and write metrics.jsonl and summary.json",
		Flags: flags,
		Action: func(c *cli.Context) error {
			cfg, err := configFrom(c)
			if err != nil {
				return err
			}
			cfg.Sampler = c.String("sampler")
			if t := c.Float64("target-acc"); t != 0 {
				if !(t > 0 && t <= 1) {
					return fmt.Errorf("--target-acc must be in (0, 1], got %v", t)
				}
				cfg.TargetAcc, cfg.Targets = t, []float64{t}
			}
			out := c.String("out")
			if out == "" {
				out = filepath.Join("runs", fmt.Sprintf("%s-%s-seed%d", cfg.Dataset, cfg.Model, cfg.Seed))
			}
			return train(c, cfg, out)
		},
	}
}

// configFrom reads and validates the flags shared by training commands.
func configFrom(c *cli.Context) (runConfig, error) {
	cfg := runConfig{
		Dataset: c.String("dataset"), Model: c.String("model"), Device: c.String("device"),
		Epochs: c.Int("epochs"), Batch: c.Int("batch"), LR: c.Float64("lr"),
		Momentum: c.Float64("momentum"), Seed: c.Uint64("seed"),
	}
	if _, err := data.Lookup(cfg.Dataset); err != nil {
		return cfg, fmt.Errorf("--dataset: %w", err)
	}
	if _, err := engine.LookupModel(cfg.Model); err != nil {
		return cfg, fmt.Errorf("--model: %w", err)
	}
	if _, err := engine.LookupBackend(cfg.Device); err != nil {
		return cfg, fmt.Errorf("--device: %w", err)
	}
	switch {
	case cfg.Epochs <= 0:
		return cfg, fmt.Errorf("--epochs must be > 0, got %d", cfg.Epochs)
	case cfg.Batch <= 0:
		return cfg, fmt.Errorf("--batch must be > 0, got %d", cfg.Batch)
	case !(cfg.LR > 0) || math.IsInf(cfg.LR, 0):
		return cfg, fmt.Errorf("--lr must be a positive number, got %v", cfg.LR)
	}
	if err := checkFraction("momentum", cfg.Momentum); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// newOrder builds the sample order named by cfg.Sampler for n samples.
func newOrder(cfg runConfig, n int) (engine.Order, error) {
	switch cfg.Sampler {
	case "uniform":
		return sampler.NewShuffled(n, cfg.Seed)
	case "sequential":
		return sampler.NewSequential(n)
	}
	return nil, fmt.Errorf("--sampler: unknown sampler %q (known: uniform, sequential)", cfg.Sampler)
}

func train(c *cli.Context, cfg runConfig, out string) error {
	if _, err := newOrder(cfg, 1); err != nil {
		return err
	}
	if err := atomicfile.PrepareDir(out); err != nil {
		return err
	}
	trainSet, testSet, err := data.Load(cfg.Dataset, c.String("data"))
	if err != nil {
		return err
	}
	m, _ := engine.LookupModel(cfg.Model)
	backend, err := engine.LookupBackend(cfg.Device)
	if err != nil {
		return err
	}
	net, err := backend.New(m, engine.InitParams(m, cfg.Seed), engine.Config{Batch: cfg.Batch, LR: cfg.LR, Momentum: cfg.Momentum})
	if err != nil {
		return err
	}
	defer net.Close()
	order, err := newOrder(cfg, trainSet.N)
	if err != nil {
		return err
	}
	quiet := c.Bool("quiet")
	w := c.App.Writer
	if !quiet {
		fmt.Fprintf(w, "training %s on %s (%d samples, test %d) on %s: %d epochs, batch %d, lr %g, momentum %g, seed %d\n",
			cfg.Model, cfg.Dataset, trainSet.N, testSet.N, backend.Name(), cfg.Epochs, cfg.Batch, cfg.LR, cfg.Momentum, cfg.Seed)
	}
	t := &engine.Trainer{Net: net, Train: trainSet, Test: testSet, Order: order, Epochs: cfg.Epochs, Targets: cfg.Targets}
	if p := newProgress(quiet); p != nil {
		t.Progress = p
	}
	sum := summary{Config: cfg}
	t.OnEpoch = func(e engine.EpochMetrics) error {
		if !quiet {
			fmt.Fprintf(w, "epoch %d/%d  train_loss %.4f  test_acc %.4f  test_loss %.4f  train %.1fs  samples %d\n",
				e.Epoch, cfg.Epochs, e.TrainLoss, e.TestAcc, e.TestLoss, e.TrainSeconds, e.SamplesSeen)
		}
		if err := atomicfile.WriteJSONLines(filepath.Join(out, "metrics.jsonl"), t.History); err != nil {
			return err
		}
		sum.EpochsDone = e.Epoch
		sum.FinalTestAcc = e.TestAcc
		sum.BestTestAcc = math.Max(sum.BestTestAcc, e.TestAcc)
		sum.TrainSeconds, sum.SamplesSeen = e.TrainSeconds, e.SamplesSeen
		if cfg.TargetAcc > 0 {
			if h, ok := t.Hit(cfg.TargetAcc); ok {
				sum.TimeToTarget = &h
			}
		}
		return atomicfile.WriteJSON(filepath.Join(out, "summary.json"), sum)
	}
	if err := t.Run(c.Context); err != nil {
		return err
	}
	fmt.Fprintf(w, "test accuracy %.4f (best %.4f) after %d epochs, %.1f s of training; results in %s\n",
		sum.FinalTestAcc, sum.BestTestAcc, sum.EpochsDone, sum.TrainSeconds, out)
	if cfg.TargetAcc > 0 {
		if sum.TimeToTarget != nil {
			fmt.Fprintf(w, "target %.4f reached at epoch %d after %.1f s and %d samples\n",
				cfg.TargetAcc, sum.TimeToTarget.Epoch, sum.TimeToTarget.TrainSeconds, sum.TimeToTarget.SamplesSeen)
		} else {
			fmt.Fprintf(w, "target %.4f not reached\n", cfg.TargetAcc)
		}
	}
	return nil
}
