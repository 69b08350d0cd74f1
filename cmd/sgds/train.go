package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"

	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/training"
)

// runConfigFrom reads the flags of a training run, validates them
// (run.Config.Validate, which bounds --epochs and the memory the batch
// needs, then --batch against --subset; SGD-S flags only with the sgds
// sampler, a peer's flags only with its sampler) and resolves --device
// auto to the backend it picks.
func runConfigFrom(c *cli.Context, samplerName string) (run.Config, error) {
	cfg := run.Config{
		Dataset: c.String("dataset"), Model: c.String("model"), Device: c.String("device"),
		Epochs: c.Int("epochs"), Batch: c.Int("batch"), LR: c.Float64("lr"),
		Momentum: c.Float64("momentum"), Seed: c.Uint64("seed"), OrderSeed: c.Uint64("order-seed"), Val: c.Int("val"),
		EvalEvery: c.Int("eval-every"), TestSubset: c.Int("test-subset"),
		LRSchedule: c.String("schedule"), Warmup: c.Float64("warmup"), Budget: c.Float64("budget"),
	}
	if cfg.LRSchedule == "constant" {
		cfg.LRSchedule = ""
	}
	if c.IsSet("subset") {
		cfg.Subset = c.Int("subset")
	}
	var err error
	if cfg.Sampling, err = samplingFrom(c, samplerName); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	if err := checkRunBounds(cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.ResolveDevice()
}

// checkRunBounds checks what run.Config.Validate cannot know without the
// data: a batch larger than --subset. (Validate bounds --epochs and the
// memory the batch needs.)
func checkRunBounds(cfg run.Config) error {
	if cfg.Subset > 0 && cfg.Batch > cfg.Subset {
		return fmt.Errorf("--batch %d: larger than the %d training samples of --subset %d", cfg.Batch, cfg.Subset, cfg.Subset)
	}
	return nil
}

func trainCommand() *cli.Command {
	flags := append(commonFlags(), samplerFlags(func(*run.Descriptor) bool { return true })...)
	flags = append(flags, uintFlag("order-seed", 0, "another data order `N` from the same initial weights (0: the order of --seed); runs that differ only in it measure how far the order alone moves the result"))
	flags = append(flags,
		withDefaultText(stringFlag("out", "", "write metrics.jsonl, summary.json and checkpoint.bin into folder `DIR` (locked while the run writes; a folder holding results needs --resume or --force)"),
			"runs/<dataset>-<model>-<sampler>-seed<seed>"),
		boolFlag("force", "start a new run in an --out folder that holds results (a run, or another command's), deleting them"),
		&altsrc.GenericFlag{GenericFlag: &cli.GenericFlag{Name: "target-acc", Value: &floatValue{flag: "target-acc"}, EnvVars: env("target-acc"), DefaultText: "off",
			Usage: "record the first epoch, training seconds and samples seen at which accuracy (validation if --val, else test) reaches `ACC`, in (0, 1]"}},
		subsetFlag(),
		intFlag("eval-every", 0, "evaluate every `N` samples seen, at least --batch: the grid of time to target and of evals.jsonl (0: the largest multiple of the batch that is at most a sixth of the training set)"),
		withDefaultText(stringFlag("resume", "", "continue the run in folder `DIR` from its checkpoint.bin, with its settings; --epochs may raise its epochs, --device may move it to another backend (recorded in summary.json), and only --data, --quiet and --config may be given besides"),
			"none: start a new run"),
	)
	return &cli.Command{
		Name:  "train",
		Usage: "train a model and write metrics.jsonl, summary.json and a checkpoint after every epoch",
		Flags: flags,
		Action: func(c *cli.Context) error {
			o := run.Options{Force: c.Bool("force"), Log: logTo(c, c.App.Writer), Notes: notes, Args: os.Args, Started: started}
			o.Hooks = func(epochs int) run.Hooks { return epochHooks(c, o.Log, epochs) }
			var res *run.Outcome
			var err error
			if dir := c.String("resume"); dir != "" {
				res, err = run.Resume(c.Context, dir, resumeOverrides(c), o)
				if err == nil && res.Complete {
					fmt.Fprintf(c.App.Writer, "the run in %s is complete: %d of %d epochs; give --epochs above %d to train more\n", dir, res.Summary.EpochsDone, res.Epochs, res.Summary.EpochsDone)
				}
			} else {
				job, out, jerr := jobFrom(c)
				if jerr != nil {
					return jerr
				}
				res, err = run.Start(c.Context, job, out, o)
			}
			if err != nil {
				return err
			}
			printResult(c.App.Writer, res.Summary, res.Targets, res.Dir)
			return nil
		},
	}
}

// jobFrom reads the flags of a new training run and its --out folder.
func jobFrom(c *cli.Context) (run.Job, string, error) {
	cfg, err := runConfigFrom(c, c.String("sampler"))
	if err != nil {
		return run.Job{}, "", err
	}
	job := run.Job{Run: cfg, Data: c.String("data")}
	if c.IsSet("target-acc") {
		t := c.Float64("target-acc")
		if err := checkTarget(t); err != nil {
			return job, "", fmt.Errorf("--target-acc: %w", err)
		}
		job.Targets = []float64{t}
	}
	out := c.String("out")
	if out == "" {
		out = filepath.Join("runs", fmt.Sprintf("%s-%s-%s-seed%d", cfg.Dataset, cfg.Model, cfg.Sampler, cfg.Seed))
	}
	return job, out, nil
}

// resumeOverrides are the flags given with --resume.
func resumeOverrides(c *cli.Context) run.Overrides {
	ov := run.Overrides{Data: c.String("data")}
	if c.IsSet("device") {
		ov.Device = c.String("device")
	}
	ov.SetEpochs, ov.Epochs = c.IsSet("epochs"), c.Int("epochs")
	for _, f := range c.Command.Flags {
		if name := f.Names()[0]; c.IsSet(name) {
			ov.Given = append(ov.Given, name)
		}
	}
	ov.Value = func(name string, like any) any {
		switch like.(type) {
		case int:
			return c.Int(name)
		case uint64:
			return c.Uint64(name)
		case float64:
			return c.Float64(name)
		case bool:
			return c.Bool(name)
		}
		return c.String(name)
	}
	return ov
}

// printResult prints the outcome of a run whose results are in out.
func printResult(w io.Writer, s run.Summary, targets []float64, out string) {
	fmt.Fprintf(w, "test accuracy %.4f (best %.4f) after %d epochs, %.1f s of training; results in %s\n",
		s.FinalTestAcc, s.BestTestAcc, s.EpochsDone, s.TrainSeconds, out)
	if len(targets) > 0 {
		if h := s.TimeToTarget; h != nil && h.Reached() {
			fmt.Fprintf(w, "target %.4f reached in epoch %d after %.1f s and %d samples (grid point %d)\n",
				targets[0], h.Epoch, h.TrainSeconds, h.SamplesSeen, h.GridSamples)
		} else {
			fmt.Fprintf(w, "target %.4f not reached\n", targets[0])
		}
	}
}

// epochHooks draws a progress bar (on a terminal, without --quiet) and
// prints one line per epoch of a run of epochs epochs to w.
func epochHooks(c *cli.Context, w io.Writer, epochs int) run.Hooks {
	p := newProgress(c.Bool("quiet"), epochs)
	h := run.Hooks{OnEpoch: func(_ *training.Trainer, e training.EpochMetrics) error {
		p.clear()
		_, err := fmt.Fprintln(w, run.EpochLine(e, epochs))
		return err
	}}
	if p != nil {
		h.Progress = p
	}
	if step := signalAfterSteps; step != nil {
		h.OnStep = func(int, []int, []float32) { step() }
	}
	return h
}
