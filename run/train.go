package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/internal/atomicfile"
	"github.com/sgds/sgds/internal/provenance"
	"github.com/sgds/sgds/training"
)

// Job is a training run as its checkpoint records it: the configuration,
// the data folder it was given and its accuracy targets.
type Job struct {
	Run     Config    `json:"run"`
	Data    string    `json:"data,omitempty"`
	Targets []float64 `json:"targets,omitempty"`
	// TrainN is the number of training samples the run trains on (set
	// when it starts; a budget is a share of epochs × TrainN).
	TrainN int `json:"train_n,omitempty"`
	// DataPrint identifies the data the run trained on (nil in
	// checkpoints written before it was recorded); a resume checks the
	// data it loads against it.
	DataPrint *DataPrint `json:"data_print,omitempty"`
	// DeviceSwitches records every resume on another backend than the
	// run's ("cuda → cpu after epoch 2"): checkpoints are
	// backend-independent, so a run may continue elsewhere.
	DeviceSwitches []string `json:"device_switches,omitempty"`
}

// Summary is a run folder's summary.json.
type Summary struct {
	Config       Config    `json:"config"`
	Data         *DataInfo `json:"data,omitempty"`
	TargetAcc    *float64  `json:"target_acc"`
	EpochsDone   int       `json:"epochs_done"`
	FinalTestAcc float64   `json:"final_test_acc"`
	BestTestAcc  float64   `json:"best_test_acc"`
	FinalValAcc  *float64  `json:"final_val_acc,omitempty"`
	TrainSeconds float64   `json:"train_seconds"`
	SamplesSeen  int64     `json:"samples_seen"`
	// GridStep is the step of the evaluation grid in samples (--eval-every,
	// or its default); evals.jsonl holds the evaluations.
	GridStep int `json:"grid_step"`
	// TimeToTarget is when the first target was first reached on the grid
	// ({target, reached: false} when it was not); null without a target.
	TimeToTarget *training.TargetHit `json:"time_to_target"`
	// DeviceSwitches are the run's resumes on another backend (Job).
	DeviceSwitches []string              `json:"device_switches,omitempty"`
	Provenance     provenance.Provenance `json:"provenance"`
}

// ResultFiles are the files a training run writes into its folder.
var ResultFiles = []string{training.CheckpointFile, "metrics.jsonl", "summary.json", "evals.jsonl"}

// fill updates the summary from a run's history and target hits.
func (s *Summary) fill(history []training.EpochMetrics, hits []training.TargetHit, targets []float64) {
	s.BestTestAcc = 0
	for _, e := range history {
		s.BestTestAcc = math.Max(s.BestTestAcc, e.TestAcc)
	}
	if len(history) == 0 {
		return
	}
	e := history[len(history)-1]
	s.EpochsDone, s.FinalTestAcc, s.FinalValAcc = e.Epoch, e.TestAcc, e.ValAcc
	s.TrainSeconds, s.SamplesSeen = e.TrainSeconds, e.SamplesSeen
	s.TimeToTarget = nil
	if len(targets) > 0 {
		s.TimeToTarget = &training.TargetHit{Target: targets[0]} // not reached
		for _, h := range hits {
			if h.Target == targets[0] {
				h := h
				s.TimeToTarget = &h
			}
		}
	}
}

// Options steer a training run in a folder.
type Options struct {
	// Force starts a new run in a folder that holds results (Folder.Claim),
	// deleting them first.
	Force bool
	// Log receives the run's lines (resuming, training, and the lines
	// Hooks print); Notes what is done to the folder (files removed).
	Log, Notes io.Writer
	// Hooks returns the callbacks of a run of epochs epochs (progress, a
	// line per epoch); the checkpoint and results of an epoch are written
	// before its OnEpoch. Nil: none.
	Hooks func(epochs int) Hooks
	// Args and Started are the command line and start of the process,
	// for the provenance of summary.json.
	Args    []string
	Started time.Time
}

func (o *Options) defaults() {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Notes == nil {
		o.Notes = io.Discard
	}
}

// Outcome is how a run in a folder ended: trained to its last epoch, or
// found complete by Resume (Complete).
type Outcome struct {
	Dir string
	// Epochs is the run's planned epochs.
	Epochs   int
	Summary  Summary
	Targets  []float64
	Complete bool
}

// Start trains job in folder dir (OpenFolder), writing after every epoch
// its checkpoint, metrics.jsonl, evals.jsonl and summary.json. A folder
// that holds results (a run's, or another command's: Folder.Claim) is
// refused unless o.Force, which deletes them first. An interruption (ctx) saves the epoch in
// progress and returns an error wrapping *training.InterruptedError; a
// method that cannot save a partial epoch returns *training.AbandonedError
// with the previous epoch's checkpoint kept.
func Start(ctx context.Context, job Job, dir string, o Options) (*Outcome, error) {
	o.defaults()
	f, err := OpenFolder(dir, o.Notes)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := claim(f, o); err != nil {
		return nil, err
	}
	return train(ctx, job, f, nil, o)
}

// claim refuses a folder that holds results (Folder.Claim), unless
// o.Force, which deletes them first.
func claim(f *Folder, o Options) error {
	return f.Claim(o.Force, nil, "sgds train --resume "+f.Dir, o.Notes)
}

// Overrides are what a resumed run may change, and the settings given
// with it, which must agree with the run's.
type Overrides struct {
	// SetEpochs trains to Epochs epochs (at least those done).
	SetEpochs bool
	Epochs    int
	// Data, when set, is the data folder to read.
	Data string
	// Device, when set, is the backend to continue on (the checkpoint is
	// backend-independent); a switch is recorded in the run.
	Device string
	// Given lists the other settings given with the resume, by flag name;
	// Value returns one of them typed like the run's own value (string,
	// int, uint64, float64 or bool).
	Given []string
	Value func(flag string, like any) any
}

// ResumeAllowed are the flags a resume takes besides the run's settings.
var ResumeAllowed = map[string]bool{"resume": true, "epochs": true, "data": true, "device": true, "quiet": true, "config": true}

// Resume continues the run in dir from its checkpoint with its own
// settings (Overrides may raise the epochs and name the data folder;
// a given setting that differs from the run's is refused, naming each).
// A run already complete returns its Outcome with Complete set.
func Resume(ctx context.Context, dir string, ov Overrides, o Options) (*Outcome, error) {
	o.defaults()
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("--resume: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("--resume %s: not a directory", dir)
	}
	f, err := OpenFolder(dir, o.Notes)
	if err != nil {
		return nil, fmt.Errorf("--resume: %w", err)
	}
	defer f.Close()
	ck, err := training.LoadCheckpoint(f.Path(training.CheckpointFile))
	if err != nil {
		return nil, fmt.Errorf("--resume: %w", err)
	}
	job, err := JobOf(ck)
	if err != nil {
		return nil, fmt.Errorf("--resume %s: %w", dir, err)
	}
	if conflicts := job.Conflicts(dir, ov); len(conflicts) > 0 {
		return nil, fmt.Errorf("--resume %s: a resumed run keeps its own settings, and these flags differ from them:\n  %s\n"+
			"only --epochs (to train more), --data, --device, --quiet and --config may be given with --resume; for other settings start a new run with another --out",
			dir, strings.Join(conflicts, "\n  "))
	}
	done := len(ck.Meta.History)
	if ov.SetEpochs {
		if ov.Epochs < done || ov.Epochs > MaxEpochs {
			return nil, fmt.Errorf("--epochs %d: the run in %s has trained %d epochs; give --epochs in [%d, %d] to train more, or leave it out", ov.Epochs, dir, done, done, MaxEpochs)
		}
		job.Run.Epochs = ov.Epochs
	}
	if ck.Meta.Partial == nil && job.Run.Complete(ck.Meta.History, job.TrainN) {
		out := &Outcome{Dir: dir, Epochs: job.Run.Epochs, Targets: job.Targets, Complete: true}
		out.Summary.fill(ck.Meta.History, ck.Meta.Hits, job.Targets)
		return out, nil
	}
	if ov.Data != "" {
		job.Data = ov.Data
	}
	if ov.Device != "" {
		b, err := engine.LookupBackend(ov.Device)
		if err != nil {
			return nil, fmt.Errorf("--device: %w", err)
		}
		if b.Name() != job.Run.Device {
			job.DeviceSwitches = append(job.DeviceSwitches, fmt.Sprintf("%s → %s after epoch %d", job.Run.Device, b.Name(), done))
			fmt.Fprintf(o.Log, "continuing on %s the run trained on %s so far (checkpoints are backend-independent)\n", b.Name(), job.Run.Device)
			job.Run.Device = b.Name()
		}
	} else if _, err := engine.LookupBackend(job.Run.Device); err != nil {
		return nil, fmt.Errorf("--resume %s: the run trained on --device %s, which cannot run here (%v); give --device cpu to continue it on the CPU (checkpoints are backend-independent)", dir, job.Run.Device, err)
	}
	if err := job.Run.Validate(); err != nil {
		return nil, fmt.Errorf("--resume %s: %w", dir, err)
	}
	return train(ctx, job, f, ck, o)
}

// JobOf reads the job a checkpoint records and checks it against the
// checkpoint's parameters and history.
func JobOf(ck *training.Checkpoint) (Job, error) {
	var job Job
	if err := json.Unmarshal(ck.Meta.Config, &job); err != nil {
		return job, fmt.Errorf("%w: configuration: %v", training.ErrBadCheckpoint, err)
	}
	if job.Run.Model != engine.BaseModel(ck.Meta.Model) {
		return job, fmt.Errorf("%w: configuration names model %s, parameters are of %s", training.ErrBadCheckpoint, job.Run.Model, ck.Meta.Model)
	}
	if err := ck.CheckRun(training.CheckpointRun{Epochs: job.Run.Epochs, Batch: job.Run.Batch}); err != nil {
		return job, err
	}
	if job.Run.Epochs > MaxEpochs {
		return job, fmt.Errorf("%w: configuration has %d epochs, more than %d", training.ErrBadCheckpoint, job.Run.Epochs, MaxEpochs)
	}
	return job, nil
}

// Settings maps the flags of the job's settings to their values (the
// sampler's defaults where the run records none).
func (j Job) Settings(dir string) map[string]any {
	c := j.Run
	c.Sampling = c.Sampling.Clone()
	c.Defaults()
	saved := map[string]any{
		"dataset": c.Dataset, "model": c.Model, "device": c.Device, "sampler": c.Sampler,
		"batch": c.Batch, "lr": c.LR, "momentum": c.Momentum, "seed": c.Seed, "order-seed": c.OrderSeed, "val": c.Val, "subset": c.Subset,
		"test-subset": c.TestSubset, "schedule": c.LRSchedule, "warmup": c.Warmup, "budget": c.Budget, "eval-every": c.EvalEvery, "out": dir,
	}
	if d, err := Lookup(c.Sampler); err == nil {
		for i := range d.Settings {
			saved[d.Settings[i].Flag] = d.Settings[i].Get(&c.Sampling)
		}
	}
	if len(j.Targets) > 0 {
		saved["target-acc"] = j.Targets[0]
	}
	return saved
}

// Conflicts lists the settings given with a resume of the job in dir whose
// value differs from the run's, or that the run does not have.
func (j Job) Conflicts(dir string, ov Overrides) []string {
	saved := j.Settings(dir)
	var out []string
	for _, name := range ov.Given {
		if ResumeAllowed[name] {
			continue
		}
		want, ok := saved[name]
		if !ok {
			what := "has no such setting"
			switch d, _ := Owner(name); {
			case name == "target-acc":
				what = "records no accuracy target"
			case name == "force":
				what = "is continued, not restarted (--force starts a new run; leave --resume out)"
			case d != nil && d.Name != j.Run.Sampler:
				what = fmt.Sprintf("uses the %s sampler, which has no --%s", j.Run.Sampler, name)
			}
			out = append(out, fmt.Sprintf("--%s: the run %s", name, what))
			continue
		}
		got := ov.Value(name, want)
		same := got == want
		switch name {
		case "out":
			a, _ := filepath.Abs(got.(string))
			b, _ := filepath.Abs(want.(string))
			same = a == b
		case "device":
			if b, err := engine.LookupBackend(got.(string)); err == nil {
				same = b.Name() == want
			}
		}
		if !same {
			out = append(out, fmt.Sprintf("--%s %v: the run has %v", name, got, want))
		}
	}
	return out
}

// train runs job in the held folder f, from ck when resuming.
func train(ctx context.Context, job Job, f *Folder, ck *training.Checkpoint, o Options) (*Outcome, error) {
	cfg, out := job.Run, f.Dir
	d, err := LoadFor(cfg, job.Data)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted while loading the data: %w; nothing was written to %s", err, out)
	}
	job.TrainN = d.Train.N
	dp := d.Print()
	if ck != nil {
		// The data given to a resume must be the data the run trained on;
		// a checkpoint without its print is checked by its model's size.
		if job.DataPrint != nil {
			if err := job.DataPrint.CheckData(dp, job.Data); err != nil {
				return nil, fmt.Errorf("--resume %s: %w", out, err)
			}
		} else if m, err := Model(cfg, d); err != nil || m.Name != ck.Meta.Model {
			where := job.Data
			if where == "" {
				where = "(the default data folder)"
			}
			return nil, fmt.Errorf("--resume %s: --data %s: not the data the run trained on: the model for its images is %s, the checkpoint's is %s; give --data the folder the run was trained from", out, where, m.Name, ck.Meta.Model)
		}
	}
	job.DataPrint = &dp
	configJSON, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}
	info := d.Info()
	info.Name = cfg.Dataset
	sum := Summary{Config: cfg, Data: &info, DeviceSwitches: job.DeviceSwitches, Provenance: provenance.Collect(cfg.Device, o.Args, o.Started)}
	if len(job.Targets) > 0 {
		sum.TargetAcc = &job.Targets[0]
	}
	ckPath := f.Path(training.CheckpointFile)
	var hooks Hooks
	if o.Hooks != nil {
		hooks = o.Hooks(cfg.PlannedEpochs())
	}
	hooks.Targets = job.Targets
	report := hooks.OnEpoch
	// The epoch's files are written before it is reported, so that a
	// reader that stops the run at a line (a closed pipe) finds them.
	hooks.OnEpoch = func(t *training.Trainer, e training.EpochMetrics) error {
		ck, err := t.Snapshot(t.Net.Spec().Name, configJSON, nil)
		if err != nil {
			return err
		}
		if err := training.SaveCheckpoint(ckPath, ck); err != nil {
			return err
		}
		if err := atomicfile.WriteJSONLines(f.Path("metrics.jsonl"), t.History); err != nil {
			return err
		}
		if err := atomicfile.WriteJSONLines(f.Path("evals.jsonl"), t.Evals); err != nil {
			return err
		}
		sum.GridStep = t.GridStep()
		sum.fill(t.History, t.Hits, job.Targets)
		if err := atomicfile.WriteJSON(f.Path("summary.json"), sum); err != nil {
			return err
		}
		if report != nil {
			return report(t, e)
		}
		return nil
	}
	t, err := NewTrainer(cfg, d, nil, hooks)
	if err != nil {
		return nil, err
	}
	defer t.Net.Close()
	if ck != nil {
		if err := t.Restore(ck); err != nil {
			return nil, fmt.Errorf("--resume %s: %w", out, err)
		}
		fmt.Fprintf(o.Log, "resuming %s after epoch %d", out, t.Done())
		if p := ck.Meta.Partial; p != nil {
			fmt.Fprintf(o.Log, " (and %d steps of epoch %d)", p.Steps, p.Epoch)
		}
		fmt.Fprintln(o.Log)
	}
	fmt.Fprintf(o.Log, "training %s on %s (%d samples, test %d) on %s with the %s sampler: %d epochs, batch %d, lr %g, momentum %g, seed %d\n",
		cfg.Model, cfg.Dataset, d.Train.N, d.Test.N, cfg.Device, cfg.Sampler, cfg.Epochs, cfg.Batch, cfg.LR, cfg.Momentum, cfg.Seed)
	if err := t.Run(ctx); err != nil {
		var ie *training.InterruptedError
		if errors.As(err, &ie) {
			ck, serr := t.Snapshot(t.Net.Spec().Name, configJSON, &ie.Partial)
			if serr == nil {
				serr = training.SaveCheckpoint(ckPath, ck)
			}
			if serr != nil {
				return nil, fmt.Errorf("%w; saving the checkpoint failed: %v (the checkpoint of epoch %d is intact)", err, serr, t.Done())
			}
			return nil, fmt.Errorf("%w; saved: %s (epoch %d, step %d); continue with: sgds train --resume %s", err, ckPath, ie.Partial.Epoch, ie.Partial.Steps, out)
		}
		// selective-backprop and kf-is roll an interrupted epoch back to
		// its start, whose checkpoint OnEpoch wrote.
		var ab *training.AbandonedError
		if errors.As(err, &ab) {
			if ab.Epoch > 1 {
				return nil, fmt.Errorf("%w; checkpoint of epoch %d kept; continue with sgds train --resume %s", err, ab.Epoch-1, out)
			}
			return nil, fmt.Errorf("%w; no epoch had finished, so there is no checkpoint: start the run again", err)
		}
		return nil, err
	}
	return &Outcome{Dir: out, Epochs: cfg.Epochs, Summary: sum, Targets: job.Targets}, nil
}
