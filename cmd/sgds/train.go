package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/internal/atomicfile"
	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/sampler"
)

// summary is summary.json.
type summary struct {
	Config       run.Config        `json:"config"`
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
		floatFlag("kept-floor", d.KeptFloor, "sgds: never prune the kept set below this fraction of the data set, in [0, 1] (1: never prune)"),
		floatFlag("mix", d.Mix, "sgds: λ in p_i = (1−λ)·s_i/Σs + λ/|kept|, in [0, 1]"),
		stringFlag("readd-score", string(d.ReaddScore), "sgds: score a re-added sample starts with: last or mean"),
		boolFlag("unbiased", "sgds: weight each drawn sample by 1/(B·|kept|·p_i) so the expected gradient is the kept set's uniform one"),
		intFlag("val", 0, "hold out the last N training images as a validation set (targets then use validation accuracy)"),
	}
}

// runConfigFrom reads the flags of a training run, validates them
// (run.Config.Validate) and resolves --device auto to the backend it picks.
func runConfigFrom(c *cli.Context, samplerName string) (run.Config, error) {
	cfg := run.Config{
		Dataset: c.String("dataset"), Model: c.String("model"), Device: c.String("device"),
		Sampler: samplerName, Score: c.String("score"),
		Epochs: c.Int("epochs"), Batch: c.Int("batch"), LR: c.Float64("lr"),
		Momentum: c.Float64("momentum"), Seed: c.Uint64("seed"), Val: c.Int("val"),
	}
	if c.IsSet("subset") {
		cfg.Subset = c.Int("subset")
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
		cfg.Schedule = &sc
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, cfg.ResolveDevice()
}

func trainCommand() *cli.Command {
	flags := append(commonFlags(), samplerFlags()...)
	flags = append(flags,
		stringFlag("out", "", "output folder for metrics.jsonl, summary.json and checkpoint.bin (default runs/<dataset>-<model>-seed<seed>)"),
		floatFlag("target-acc", 0, "record the first epoch, training seconds and samples seen at which accuracy (validation if --val, else test) reaches this value in (0, 1]"),
		intFlag("subset", 0, "train on the first N training images only (0: all)"),
		stringFlag("resume", "", "continue the run whose folder (with its checkpoint.bin) is given; its configuration is used, --epochs may raise the number of epochs"),
	)
	return &cli.Command{
		Name:  "train",
		Usage: "train a model and write metrics.jsonl, summary.json and a checkpoint after every epoch",
		Flags: flags,
		Action: func(c *cli.Context) error {
			if dir := c.String("resume"); dir != "" {
				return resume(c, dir)
			}
			cfg, err := runConfigFrom(c, c.String("sampler"))
			if err != nil {
				return err
			}
			rc := trainConfig{Run: cfg, Data: c.String("data")}
			if c.IsSet("target-acc") {
				t := c.Float64("target-acc")
				if err := checkTarget(t); err != nil {
					return fmt.Errorf("--target-acc: %w", err)
				}
				rc.Targets = []float64{t}
			}
			out := c.String("out")
			if out == "" {
				out = filepath.Join("runs", fmt.Sprintf("%s-%s-seed%d", cfg.Dataset, cfg.Model, cfg.Seed))
			}
			return train(c, rc, out, nil)
		},
	}
}

// trainConfig is what a checkpoint records of the command line.
type trainConfig struct {
	Run     run.Config `json:"run"`
	Data    string     `json:"data,omitempty"`
	Targets []float64  `json:"targets,omitempty"`
}

// resume continues the run in dir from its checkpoint.
func resume(c *cli.Context, dir string) error {
	ck, err := engine.LoadCheckpoint(filepath.Join(dir, engine.CheckpointFile))
	if err != nil {
		return fmt.Errorf("--resume: %w", err)
	}
	var rc trainConfig
	if err := json.Unmarshal(ck.Meta.Config, &rc); err != nil {
		return fmt.Errorf("--resume: %w: configuration: %v", engine.ErrBadCheckpoint, err)
	}
	if rc.Run.Model != ck.Meta.Model {
		return fmt.Errorf("--resume: %w: configuration names model %s, parameters are of %s", engine.ErrBadCheckpoint, rc.Run.Model, ck.Meta.Model)
	}
	if c.IsSet("epochs") {
		rc.Run.Epochs = c.Int("epochs")
	}
	if c.IsSet("data") {
		rc.Data = c.String("data")
	}
	if err := rc.Run.Validate(); err != nil {
		return fmt.Errorf("--resume: %w", err)
	}
	return train(c, rc, dir, ck)
}

func train(c *cli.Context, rc trainConfig, out string, ck *engine.Checkpoint) error {
	cfg := rc.Run
	d, err := loadRun(cfg, rc.Data, out)
	if err != nil {
		return err
	}
	w := logTo(c, c.App.Writer)
	configJSON, err := json.Marshal(rc)
	if err != nil {
		return err
	}
	sum := summary{Config: cfg}
	if len(rc.Targets) > 0 {
		sum.TargetAcc = &rc.Targets[0]
	}
	ckPath := filepath.Join(out, engine.CheckpointFile)
	hooks := epochHooks(c, w, cfg.Epochs)
	hooks.Targets = rc.Targets
	printEpoch := hooks.OnEpoch
	hooks.OnEpoch = func(t *engine.Trainer, e engine.EpochMetrics) error {
		if err := printEpoch(t, e); err != nil {
			return err
		}
		ck, err := t.Snapshot(cfg.Model, configJSON, nil)
		if err != nil {
			return err
		}
		if err := engine.SaveCheckpoint(ckPath, ck); err != nil {
			return err
		}
		if err := atomicfile.WriteJSONLines(filepath.Join(out, "metrics.jsonl"), t.History); err != nil {
			return err
		}
		sum.fill(t, rc.Targets)
		return atomicfile.WriteJSON(filepath.Join(out, "summary.json"), sum)
	}
	t, err := run.NewTrainer(cfg, d, nil, hooks)
	if err != nil {
		return err
	}
	defer t.Net.Close()
	if ck != nil {
		if err := t.Restore(ck); err != nil {
			return fmt.Errorf("--resume %s: %w", out, err)
		}
		fmt.Fprintf(w, "resuming %s after epoch %d", out, t.Done())
		if p := ck.Meta.Partial; p != nil {
			fmt.Fprintf(w, " (and %d steps of epoch %d)", p.Steps, p.Epoch)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "training %s on %s (%d samples, test %d) on %s with the %s sampler: %d epochs, batch %d, lr %g, momentum %g, seed %d\n",
		cfg.Model, cfg.Dataset, d.Train.N, d.Test.N, cfg.Device, cfg.Sampler, cfg.Epochs, cfg.Batch, cfg.LR, cfg.Momentum, cfg.Seed)
	if err := t.Run(c.Context); err != nil {
		var ie *engine.InterruptedError
		if errors.As(err, &ie) {
			ck, serr := t.Snapshot(cfg.Model, configJSON, &ie.Partial)
			if serr == nil {
				serr = engine.SaveCheckpoint(ckPath, ck)
			}
			if serr != nil {
				return fmt.Errorf("%w; saving the checkpoint failed: %v (the last epoch's checkpoint is intact)", err, serr)
			}
			fmt.Fprintf(c.App.ErrWriter, "sgds: checkpoint saved in %s; continue with: sgds train --resume %s\n", out, out)
		}
		return err
	}
	fmt.Fprintf(c.App.Writer, "test accuracy %.4f (best %.4f) after %d epochs, %.1f s of training; results in %s\n",
		sum.FinalTestAcc, sum.BestTestAcc, sum.EpochsDone, sum.TrainSeconds, out)
	if len(rc.Targets) > 0 {
		if sum.TimeToTarget != nil {
			fmt.Fprintf(c.App.Writer, "target %.4f reached at epoch %d after %.1f s and %d samples\n",
				rc.Targets[0], sum.TimeToTarget.Epoch, sum.TimeToTarget.TrainSeconds, sum.TimeToTarget.SamplesSeen)
		} else {
			fmt.Fprintf(c.App.Writer, "target %.4f not reached\n", rc.Targets[0])
		}
	}
	return nil
}

// fill updates the summary from the trainer's history.
func (s *summary) fill(t *engine.Trainer, targets []float64) {
	s.BestTestAcc = 0
	for _, e := range t.History {
		s.BestTestAcc = math.Max(s.BestTestAcc, e.TestAcc)
	}
	e := t.History[len(t.History)-1]
	s.EpochsDone, s.FinalTestAcc, s.FinalValAcc = e.Epoch, e.TestAcc, e.ValAcc
	s.TrainSeconds, s.SamplesSeen = e.TrainSeconds, e.SamplesSeen
	if len(targets) > 0 {
		if h, ok := t.Hit(targets[0]); ok {
			s.TimeToTarget = &h
		}
	}
}

// openRun reads the flags of a run with the given sampler, prepares the
// --out folder and loads the data from the --data flag.
func openRun(c *cli.Context, samplerName string) (run.Config, *run.Data, error) {
	cfg, err := runConfigFrom(c, samplerName)
	if err != nil {
		return cfg, nil, err
	}
	d, err := loadRun(cfg, c.String("data"), c.String("out"))
	return cfg, d, err
}

// loadRun checks that out is a writable folder, then loads the data set
// with cfg's validation split and subset.
func loadRun(cfg run.Config, dataDir, out string) (*run.Data, error) {
	if err := atomicfile.PrepareDir(out); err != nil {
		return nil, err
	}
	return run.LoadData(cfg, dataDir)
}

// report ends an experiment command: unless err is set, it writes res
// into the --out folder with write, prints its table and names the files
// written.
func report[R any](c *cli.Context, res R, err error, write func(R, string) error, table func(R) string, files ...string) error {
	if err != nil {
		return err
	}
	out := c.String("out")
	if err := write(res, out); err != nil {
		return err
	}
	fmt.Fprint(c.App.Writer, table(res))
	fmt.Fprintf(c.App.Writer, "wrote %s in %s\n", strings.Join(files, ", "), out)
	return nil
}

// logTo returns w, or io.Discard with --quiet.
func logTo(c *cli.Context, w io.Writer) io.Writer {
	if c.Bool("quiet") {
		return io.Discard
	}
	return w
}

// epochHooks draws a progress bar (on a terminal, without --quiet) and
// prints one line per epoch of a run of epochs epochs to w.
func epochHooks(c *cli.Context, w io.Writer, epochs int) run.Hooks {
	h := run.Hooks{OnEpoch: func(_ *engine.Trainer, e engine.EpochMetrics) error {
		_, err := fmt.Fprintln(w, run.EpochLine(e, epochs))
		return err
	}}
	if p := newProgress(c.Bool("quiet")); p != nil {
		h.Progress = p
	}
	return h
}
