package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/internal/atomicfile"
	"github.com/sgds/sgds/internal/lock"
	"github.com/sgds/sgds/internal/provenance"
	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/sampler"
)

// summary is summary.json.
type summary struct {
	Config       run.Config `json:"config"`
	Data         *dataInfo  `json:"data,omitempty"`
	TargetAcc    *float64   `json:"target_acc"`
	EpochsDone   int        `json:"epochs_done"`
	FinalTestAcc float64    `json:"final_test_acc"`
	BestTestAcc  float64    `json:"best_test_acc"`
	FinalValAcc  *float64   `json:"final_val_acc,omitempty"`
	TrainSeconds float64    `json:"train_seconds"`
	SamplesSeen  int64      `json:"samples_seen"`
	// GridStep is the step of the evaluation grid in samples (--eval-every,
	// or its default); evals.jsonl holds the evaluations.
	GridStep int `json:"grid_step"`
	// TimeToTarget is when --target-acc was first reached on the grid
	// ({target, reached: false} when it was not); null without a target.
	TimeToTarget *engine.TargetHit     `json:"time_to_target"`
	Provenance   provenance.Provenance `json:"provenance"`
}

// dataInfo is the "data" object of summary.json: the data set a run
// trained on, as loaded.
type dataInfo struct {
	Name    string `json:"name"`
	Rows    int    `json:"rows"`
	Cols    int    `json:"cols"`
	Classes int    `json:"classes"`
	Train   int    `json:"train"`
	Val     int    `json:"val"`
	Test    int    `json:"test"`
	// Mean and Std are the normalisation x' = (x/255 − mean)/std.
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
}

func describeData(cfg run.Config, d *run.Data) *dataInfo {
	info := &dataInfo{Name: cfg.Dataset, Rows: d.Train.Rows, Cols: d.Train.Cols, Classes: d.Train.Classes,
		Train: d.Train.N, Test: d.Test.N}
	if d.Val != nil {
		info.Val = d.Val.N
	}
	info.Mean, info.Std = d.Train.Norm.Mean, d.Train.Norm.Std
	return info
}

// sgdsKnobs are the flags that only the sgds sampler reads.
var sgdsKnobs = []string{"score", "transient", "drop", "readd", "kept-floor", "mix", "readd-score", "unbiased", "debias", "final-full", "systematic", "mix-ramp"}

// samplerFlags are the SGD-S schedule's knobs and the score it samples by.
func samplerFlags() []cli.Flag {
	d := sampler.DefaultScheduleConfig()
	return []cli.Flag{
		stringFlag("sampler", "uniform", "sample order `NAME`: "+strings.Join(run.Samplers, ", ")+
			" (uniform: a fresh shuffle per epoch; sgds: loss-proportional sampling with pruning, the only one the SGD-S flags apply to; a peer reads only its own flags, e.g. --kakurenbo-hide)"),
		stringFlag("score", "loss", "per-sample score `NAME` the sgds sampler draws by: loss, lastlayer (||softmax − onehot||) or gradnorm (exact ||∇θ L_i||)"),
		intFlag("transient", d.TransientEpochs, "sgds: uniform `EPOCHS` before the steady state (≥ 0; 0: sample by score from the first epoch)"),
		floatFlag("drop", d.DropFrac, "sgds: fraction `FRAC` of the kept set dropped (lowest scores) after each steady-state epoch, in [0, 1) (0: never drop)"),
		floatFlag("readd", d.ReaddFrac, "sgds: fraction `FRAC` of the data set re-added from the dropped samples after each steady-state epoch, in [0, 1) (0: never re-add)"),
		floatFlag("kept-floor", d.KeptFloor, "sgds: never prune the kept set below this fraction `FRAC` of the data set, in [0, 1] (0: no floor; 1: never prune)"),
		floatFlag("mix", d.Mix, "sgds: `LAMBDA` in p_i = (1−λ)·s_i/Σs + λ/|kept|, in [0, 1] (0: purely score-proportional; 1: uniform over the kept set)"),
		stringFlag("readd-score", string(d.ReaddScore), "sgds: score a re-added sample starts with: `last|mean` (its last score, or the mean of the kept set)"),
		boolFlag("unbiased", "sgds: weight each drawn sample by 1/(B·|kept|·p_i) so the expected gradient is the kept set's uniform one (--debias 1; overrides --debias)"),
		floatFlag("debias", d.Debias, "sgds: weight each drawn sample by (|kept|·p_i)^(−`BETA`), scaled to mean 1/B, in [0, 1] (0: biased, the gradient leans to high scores by |kept|·p_i; 1: unbiased; between: by (|kept|·p_i)^(1−BETA))"),
		intFlag("mix-ramp", d.MixRamp, "sgds: ease into score-driven draws over the first `EPOCHS` steady-state epochs, mixing with λ_j = λ + (1−λ)·(EPOCHS+1−j)/(EPOCHS+1) in the j-th (0: λ from the first)"),
		boolFlagOn("systematic", "sgds: draw each epoch's |kept| samples by systematic sampling (sample i ⌊|kept|·p_i⌋ or ⌈|kept|·p_i⌉ times, shuffled); --systematic=false draws them independently, as the post did"),
		floatFlag("final-full", d.FinalFull, "sgds: the last `SHARE` of the epochs (round(SHARE·epochs) of them) visit the full data set once each, shuffled, without pruning, in [0, 1] (0: never)"),
		intFlag("val", 0, "hold out the last `N` training images as a validation set; targets then use validation accuracy (0: no validation set)"),
	}
}

// peerSamplers are the peer methods' samplers, and peerKnobs the flags
// of train that set each one's settings (run.Config.InfoBatch, Selective,
// KF, Kakurenbo).
var (
	peerSamplers = []string{"infobatch", "selective-backprop", "kf-is", "kakurenbo"}
	peerKnobs    = map[string][]string{
		"infobatch":          {"infobatch-r", "infobatch-anneal"},
		"selective-backprop": {"sb-beta", "sb-window"},
		"kf-is":              {"kf-k", "kf-threshold", "kf-tau-momentum"},
		"kakurenbo":          {"kakurenbo-hide", "kakurenbo-tau"},
	}
)

// peerFlags are the settings of the peer samplers, as flags of train.
// Their defaults are the run package's (run.DefaultInfoBatch and the
// like), and each is checked by run.Config.Validate.
func peerFlags() []cli.Flag {
	ib, sb, kf, kb := run.DefaultInfoBatch(), run.DefaultSelective(), run.DefaultKF(), run.DefaultKakurenbo()
	return []cli.Flag{
		floatFlag("infobatch-r", ib.Prune, "infobatch: probability `R` of skipping a sample whose last loss is below the mean, in [0, 1); the kept ones of those are weighted 1/(1−R)"),
		floatFlag("infobatch-anneal", ib.Anneal, "infobatch: fraction `DELTA` of the epochs that prune, in [0, 1]; the epochs after round(DELTA·epochs) train on the full data set"),
		floatFlag("sb-beta", sb.Beta, "selective-backprop: exponent `BETA` of P(backward pass) = CDF(loss)^BETA, finite and ≥ 0 (0: every candidate is trained on)"),
		intFlag("sb-window", sb.Window, fmt.Sprintf("selective-backprop: the CDF is taken over the last `N` losses, in [1, %d]", 1<<24)),
		intFlag("kf-k", kf.Presample, fmt.Sprintf("kf-is: score `K`·batch uniform candidates per step and draw the batch from them, in [1, %d]", 1<<20)),
		floatFlag("kf-threshold", kf.Threshold, "kf-is: importance sampling is on while the moving average of the variance reduction τ exceeds `TAU` (0: the break-even (k+3)/3; else finite and > 0)"),
		floatFlag("kf-tau-momentum", kf.Momentum, "kf-is: momentum `A` of the moving average of τ, in [0, 1)"),
		floatFlag("kakurenbo-hide", kb.Hide, "kakurenbo: hide at most this fraction `FRAC` of the data per epoch (the lowest-loss confident samples), in [0, 1) (0: hide nothing)"),
		floatFlag("kakurenbo-tau", kb.Confidence, "kakurenbo: confidence `TAU`: a sample may be hidden while its loss is ≤ −ln TAU, in (0, 1]"),
	}
}

// flagsSet returns, as --name, those of names set on the command line, in
// an SGDS_* variable or by --config.
func flagsSet(c *cli.Context, names []string) []string {
	var set []string
	for _, k := range names {
		if c.IsSet(k) {
			set = append(set, "--"+k)
		}
	}
	return set
}

// refuseKnobs is the error for the flags set of sampler owner's settings
// given to a run of another sampler (nil when none is set).
func refuseKnobs(set []string, owner, samplerName string) error {
	if len(set) == 0 {
		return nil
	}
	return fmt.Errorf("%s: only the %s sampler reads %s, this run uses --sampler %s (add --sampler %s, or leave %s out)",
		strings.Join(set, ", "), owner, map[bool]string{true: "them", false: "it"}[len(set) > 1], samplerName, owner, strings.Join(set, ", "))
}

// peerSettingsFrom sets cfg's peer settings from the flags of its sampler
// (those not set keep their defaults), and refuses the flags of another
// peer's.
func peerSettingsFrom(c *cli.Context, cfg *run.Config) error {
	for _, p := range peerSamplers {
		if p != cfg.Sampler {
			if err := refuseKnobs(flagsSet(c, peerKnobs[p]), p, cfg.Sampler); err != nil {
				return err
			}
		}
	}
	f := func(name string, v *float64) {
		if c.IsSet(name) {
			*v = c.Float64(name)
		}
	}
	n := func(name string, v *int) {
		if c.IsSet(name) {
			*v = c.Int(name)
		}
	}
	switch cfg.Sampler {
	case "infobatch":
		s := run.DefaultInfoBatch()
		f("infobatch-r", &s.Prune)
		f("infobatch-anneal", &s.Anneal)
		cfg.InfoBatch = &s
	case "selective-backprop":
		s := run.DefaultSelective()
		f("sb-beta", &s.Beta)
		n("sb-window", &s.Window)
		cfg.Selective = &s
	case "kf-is":
		s := run.DefaultKF()
		n("kf-k", &s.Presample)
		f("kf-threshold", &s.Threshold)
		f("kf-tau-momentum", &s.Momentum)
		cfg.KF = &s
	case "kakurenbo":
		s := run.DefaultKakurenbo()
		f("kakurenbo-hide", &s.Hide)
		f("kakurenbo-tau", &s.Confidence)
		cfg.Kakurenbo = &s
	}
	return nil
}

// runConfigFrom reads the flags of a training run, validates them
// (run.Config.Validate, which bounds --epochs and the memory the batch
// needs, then --batch against --subset; SGD-S flags only with the sgds
// sampler, a peer's flags only with its sampler) and resolves --device
// auto to the backend it picks.
func runConfigFrom(c *cli.Context, samplerName string) (run.Config, error) {
	cfg := run.Config{
		Dataset: c.String("dataset"), Model: c.String("model"), Device: c.String("device"),
		Sampler: samplerName, Score: c.String("score"),
		Epochs: c.Int("epochs"), Batch: c.Int("batch"), LR: c.Float64("lr"),
		Momentum: c.Float64("momentum"), Seed: c.Uint64("seed"), OrderSeed: c.Uint64("order-seed"), Val: c.Int("val"),
		EvalEvery: c.Int("eval-every"), Frac: c.Float64("frac"),
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
		sc.Debias = c.Float64("debias")
		sc.FinalFull = c.Float64("final-full")
		sc.Systematic = c.Bool("systematic")
		sc.MixRamp = c.Int("mix-ramp")
		cfg.Schedule = &sc
	} else {
		set := flagsSet(c, sgdsKnobs)
		if err := refuseKnobs(set, "sgds", samplerName); err != nil {
			return cfg, err
		}
	}
	if err := peerSettingsFrom(c, &cfg); err != nil {
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
	flags := append(commonFlags(), samplerFlags()...)
	flags = append(flags, uintFlag("order-seed", 0, "another data order `N` from the same initial weights (0: the order of --seed); runs that differ only in it measure how far the order alone moves the result"))
	flags = append(flags, peerFlags()...)
	flags = append(flags,
		withDefaultText(stringFlag("out", "", "write metrics.jsonl, summary.json and checkpoint.bin into folder `DIR` (locked while the run writes; a folder holding a checkpoint needs --resume or --force)"),
			"runs/<dataset>-<model>-<sampler>-seed<seed>"),
		boolFlag("force", "start a new run in an --out folder that holds one, deleting its checkpoint and results"),
		&altsrc.GenericFlag{GenericFlag: &cli.GenericFlag{Name: "target-acc", Value: &floatValue{flag: "target-acc"}, EnvVars: env("target-acc"), DefaultText: "off",
			Usage: "record the first epoch, training seconds and samples seen at which accuracy (validation if --val, else test) reaches `ACC`, in (0, 1]"}},
		subsetFlag(),
		intFlag("eval-every", 0, "evaluate every `N` samples seen, at least --batch: the grid of time to target and of evals.jsonl (0: the largest multiple of the batch that is at most a sixth of the training set)"),
		floatFlag("frac", 0, "rs2: fraction `FRAC` of the training set visited per epoch, in (0, 1] (0: unset; --sampler rs2 needs it, the other samplers refuse it)"),
		withDefaultText(stringFlag("resume", "", "continue the run in folder `DIR` from its checkpoint.bin, with its settings; --epochs may raise its epochs, and only --data, --quiet and --config may be given besides"),
			"none: start a new run"),
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
				out = filepath.Join("runs", fmt.Sprintf("%s-%s-%s-seed%d", cfg.Dataset, cfg.Model, cfg.Sampler, cfg.Seed))
			}
			if err := openOut(out); err != nil {
				return err
			}
			if err := claimOut(c, out); err != nil {
				return err
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

// resultFiles are the files a training run writes into its folder.
var resultFiles = []string{engine.CheckpointFile, "metrics.jsonl", "summary.json", "evals.jsonl"}

// claimOut refuses to start a new run in a folder that holds a checkpoint,
// unless --force, which deletes the old run's files first.
func claimOut(c *cli.Context, out string) error {
	ck := filepath.Join(out, engine.CheckpointFile)
	if _, err := os.Lstat(ck); err != nil {
		return nil
	}
	if !c.Bool("force") {
		return fmt.Errorf("--out %s holds a run (%s): continue it with sgds train --resume %s, or start over with --force (which deletes it)", out, ck, out)
	}
	for _, f := range resultFiles {
		p := filepath.Join(out, f)
		if err := os.Remove(p); err == nil {
			fmt.Fprintf(c.App.ErrWriter, "sgds: --force: removed %s\n", p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("--force: %w", err)
		}
	}
	return nil
}

// resumeAllowed are the flags --resume accepts besides the checkpoint's
// settings.
var resumeAllowed = map[string]bool{"resume": true, "epochs": true, "data": true, "quiet": true, "config": true}

// resume continues the run in dir from its checkpoint.
func resume(c *cli.Context, dir string) error {
	if st, err := os.Stat(dir); err != nil {
		return fmt.Errorf("--resume: %w", err)
	} else if !st.IsDir() {
		return fmt.Errorf("--resume %s: not a directory", dir)
	}
	if err := openOut(dir); err != nil {
		return fmt.Errorf("--resume: %w", err)
	}
	ck, err := engine.LoadCheckpoint(filepath.Join(dir, engine.CheckpointFile))
	if err != nil {
		return fmt.Errorf("--resume: %w", err)
	}
	var rc trainConfig
	if err := json.Unmarshal(ck.Meta.Config, &rc); err != nil {
		return fmt.Errorf("--resume %s: %w: configuration: %v", dir, engine.ErrBadCheckpoint, err)
	}
	if rc.Run.Model != engine.BaseModel(ck.Meta.Model) {
		return fmt.Errorf("--resume %s: %w: configuration names model %s, parameters are of %s", dir, engine.ErrBadCheckpoint, rc.Run.Model, ck.Meta.Model)
	}
	if err := ck.CheckRun(engine.CheckpointRun{Epochs: rc.Run.Epochs, Batch: rc.Run.Batch}); err != nil {
		return fmt.Errorf("--resume %s: %w", dir, err)
	}
	if rc.Run.Epochs > MaxEpochs {
		return fmt.Errorf("--resume %s: %w: configuration has %d epochs, more than %d", dir, engine.ErrBadCheckpoint, rc.Run.Epochs, MaxEpochs)
	}
	if conflicts := resumeConflicts(c, dir, rc); len(conflicts) > 0 {
		return fmt.Errorf("--resume %s: a resumed run keeps its own settings, and these flags differ from them:\n  %s\n"+
			"only --epochs (to train more), --data, --quiet and --config may be given with --resume; for other settings start a new run with another --out",
			dir, strings.Join(conflicts, "\n  "))
	}
	done := len(ck.Meta.History)
	if c.IsSet("epochs") {
		e := c.Int("epochs")
		if e < done || e > MaxEpochs {
			return fmt.Errorf("--epochs %d: the run in %s has trained %d epochs; give --epochs in [%d, %d] to train more, or leave it out", e, dir, done, done, MaxEpochs)
		}
		rc.Run.Epochs = e
	}
	if done >= rc.Run.Epochs && ck.Meta.Partial == nil {
		s := summaryOf(ck.Meta.History, ck.Meta.Hits, rc.Targets)
		fmt.Fprintf(c.App.Writer, "the run in %s is complete: %d of %d epochs; give --epochs above %d to train more\n", dir, done, rc.Run.Epochs, done)
		printResult(c.App.Writer, s, rc.Targets, dir)
		return nil
	}
	if c.IsSet("data") {
		rc.Data = c.String("data")
	}
	if err := rc.Run.Validate(); err != nil {
		return fmt.Errorf("--resume %s: %w", dir, err)
	}
	return train(c, rc, dir, ck)
}

// resumeConflicts lists the flags given with --resume (on the command
// line, in SGDS_* variables or a --config file) whose value differs from
// the run's.
func resumeConflicts(c *cli.Context, dir string, rc trainConfig) []string {
	cfg := rc.Run
	cfg.PeerDefaults() // a run of a peer sampler ran with its defaults where it records none
	saved := map[string]any{
		"dataset": cfg.Dataset, "model": cfg.Model, "device": cfg.Device, "sampler": cfg.Sampler, "score": cfg.Score,
		"batch": cfg.Batch, "lr": cfg.LR, "momentum": cfg.Momentum, "seed": cfg.Seed, "order-seed": cfg.OrderSeed, "val": cfg.Val, "subset": cfg.Subset,
		"eval-every": cfg.EvalEvery, "frac": cfg.Frac, "out": dir,
	}
	if sc := cfg.Schedule; sc != nil {
		for k, v := range map[string]any{"transient": sc.TransientEpochs, "drop": sc.DropFrac, "readd": sc.ReaddFrac,
			"kept-floor": sc.KeptFloor, "mix": sc.Mix, "readd-score": string(sc.ReaddScore), "unbiased": sc.Unbiased, "debias": sc.Debias, "final-full": sc.FinalFull, "systematic": sc.Systematic, "mix-ramp": sc.MixRamp} {
			saved[k] = v
		}
	}
	if s := cfg.InfoBatch; s != nil {
		saved["infobatch-r"], saved["infobatch-anneal"] = s.Prune, s.Anneal
	}
	if s := cfg.Selective; s != nil {
		saved["sb-beta"], saved["sb-window"] = s.Beta, s.Window
	}
	if s := cfg.KF; s != nil {
		saved["kf-k"], saved["kf-threshold"], saved["kf-tau-momentum"] = s.Presample, s.Threshold, s.Momentum
	}
	if s := cfg.Kakurenbo; s != nil {
		saved["kakurenbo-hide"], saved["kakurenbo-tau"] = s.Hide, s.Confidence
	}
	if len(rc.Targets) > 0 {
		saved["target-acc"] = rc.Targets[0]
	}
	var out []string
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if resumeAllowed[name] || !c.IsSet(name) {
			continue
		}
		want, ok := saved[name]
		if !ok {
			what := "has no such setting"
			switch {
			case name == "target-acc":
				what = "records no accuracy target"
			case name == "force":
				what = "is continued, not restarted (--force starts a new run; leave --resume out)"
			case knobOwner(name) != "" && knobOwner(name) != cfg.Sampler:
				what = fmt.Sprintf("uses the %s sampler, which has no --%s", cfg.Sampler, name)
			}
			out = append(out, fmt.Sprintf("--%s: the run %s", name, what))
			continue
		}
		var got any
		same := false
		switch w := want.(type) {
		case string:
			g := c.String(name)
			got = g
			switch name {
			case "out":
				a, _ := filepath.Abs(g)
				b, _ := filepath.Abs(w)
				same = a == b
			case "device":
				if b, err := engine.LookupBackend(g); err == nil {
					same = b.Name() == w
				}
			default:
				same = g == w
			}
		case int:
			got = c.Int(name)
			same = got == w
		case uint64:
			got = c.Uint64(name)
			same = got == w
		case float64:
			got = c.Float64(name)
			same = got == w
		case bool:
			got = c.Bool(name)
			same = got == w
		}
		if !same {
			out = append(out, fmt.Sprintf("--%s %v: the run has %v", name, got, want))
		}
	}
	return out
}

// knobOwner names the sampler that reads flag name (an SGD-S knob or a
// peer's setting), or "".
func knobOwner(name string) string {
	if slices.Contains(sgdsKnobs, name) {
		return "sgds"
	}
	for p, names := range peerKnobs {
		if slices.Contains(names, name) {
			return p
		}
	}
	return ""
}

func train(c *cli.Context, rc trainConfig, out string, ck *engine.Checkpoint) error {
	cfg := rc.Run
	d, err := loadRun(cfg, rc.Data, out)
	if err != nil {
		return err
	}
	if err := c.Context.Err(); err != nil {
		return fmt.Errorf("interrupted while loading the data: %w; nothing was written to %s", err, out)
	}
	w := logTo(c, c.App.Writer)
	configJSON, err := json.Marshal(rc)
	if err != nil {
		return err
	}
	sum := summary{Config: cfg, Data: describeData(cfg, d), Provenance: provenance.Collect(cfg.Device, os.Args, started)}
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
		ck, err := t.Snapshot(t.Net.Spec().Name, configJSON, nil)
		if err != nil {
			return err
		}
		if err := engine.SaveCheckpoint(ckPath, ck); err != nil {
			return err
		}
		if err := atomicfile.WriteJSONLines(filepath.Join(out, "metrics.jsonl"), t.History); err != nil {
			return err
		}
		if err := atomicfile.WriteJSONLines(filepath.Join(out, "evals.jsonl"), t.Evals); err != nil {
			return err
		}
		sum.GridStep = t.GridStep()
		sum.fill(t.History, t.Hits, rc.Targets)
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
			ck, serr := t.Snapshot(t.Net.Spec().Name, configJSON, &ie.Partial)
			if serr == nil {
				serr = engine.SaveCheckpoint(ckPath, ck)
			}
			if serr != nil {
				return fmt.Errorf("%w; saving the checkpoint failed: %v (the checkpoint of epoch %d is intact)", err, serr, t.Done())
			}
			return fmt.Errorf("%w; saved: %s (epoch %d, step %d); continue with: sgds train --resume %s", err, ckPath, ie.Partial.Epoch, ie.Partial.Steps, out)
		}
		// selective-backprop and kf-is roll an interrupted epoch back to
		// its start, whose checkpoint OnEpoch wrote.
		var ab *engine.AbandonedError
		if errors.As(err, &ab) {
			if ab.Epoch > 1 {
				return fmt.Errorf("%w; checkpoint of epoch %d kept; continue with sgds train --resume %s", err, ab.Epoch-1, out)
			}
			return fmt.Errorf("%w; no epoch had finished, so there is no checkpoint: start the run again", err)
		}
		return err
	}
	printResult(c.App.Writer, sum, rc.Targets, out)
	return nil
}

// printResult prints the outcome of a run whose results are in out.
func printResult(w io.Writer, s summary, targets []float64, out string) {
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

// summaryOf is the summary of a history (Config, Data and Provenance
// aside).
func summaryOf(history []engine.EpochMetrics, hits []engine.TargetHit, targets []float64) summary {
	var s summary
	s.fill(history, hits, targets)
	return s
}

// fill updates the summary from a run's history and target hits.
func (s *summary) fill(history []engine.EpochMetrics, hits []engine.TargetHit, targets []float64) {
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
		s.TimeToTarget = &engine.TargetHit{Target: targets[0]} // not reached
		for _, h := range hits {
			if h.Target == targets[0] {
				h := h
				s.TimeToTarget = &h
			}
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
	if err == nil && c.Context.Err() != nil {
		err = fmt.Errorf("interrupted while loading the data: %w; nothing was written to %s", c.Context.Err(), c.String("out"))
	}
	return cfg, d, err
}

// notes receives what sgds says about the output folder (stale files
// removed).
var notes io.Writer = os.Stderr

// held are the output folders this process has locked, by absolute path;
// their locks are released when the process exits.
var held = map[string]*lock.Lock{}

// staleNames are the files sgds writes atomically into an output folder;
// the temporary files of a killed writer are removed when a run starts.
var staleNames = []string{engine.CheckpointFile, "metrics.jsonl", "summary.json", "evals.jsonl",
	"compare.json", "compare.md", "correlate.json", "patterns.json"}

// openOut makes out a writable folder, locks it for this process (a second
// run into it fails at once, naming the holder) and removes the temporary
// files a killed run left there.
func openOut(out string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("output folder %s: %w", out, err)
	}
	if held[abs] != nil {
		return nil
	}
	if err := atomicfile.PrepareDir(out); err != nil {
		return err
	}
	l, err := lock.Acquire(out)
	if err != nil {
		return err
	}
	held[abs] = l
	removed, err := atomicfile.RemoveStale(out, staleNames...)
	for _, p := range removed {
		fmt.Fprintf(notes, "sgds: removed %s, a temporary file left by a run that was killed\n", p)
	}
	return err
}

// loadRun locks out (see openOut), then loads the data set with cfg's
// validation split and subset, and checks the batch against it.
func loadRun(cfg run.Config, dataDir, out string) (*run.Data, error) {
	if err := openOut(out); err != nil {
		return nil, err
	}
	d, err := run.LoadData(cfg, dataDir)
	if err != nil {
		return nil, err
	}
	if cfg.Batch > d.Train.N {
		return nil, fmt.Errorf("--batch %d: larger than the %d training samples", cfg.Batch, d.Train.N)
	}
	return d, nil
}

// report ends an experiment command: unless err is set, it prints the
// table of res, writes res into the --out folder with write and names the
// files written. An interrupted experiment says that nothing was written.
func report[R any](c *cli.Context, res R, err error, write func(R, string) error, table func(R) string, files ...string) error {
	out := c.String("out")
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("%w; nothing was written to %s (sgds %s writes its results when it finishes)", err, out, c.Command.Name)
		}
		return err
	}
	fmt.Fprint(c.App.Writer, table(res))
	if err := write(res, out); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "wrote %s in %s\n", strings.Join(files, ", "), out)
	return nil
}

// epochHooks draws a progress bar (on a terminal, without --quiet) and
// prints one line per epoch of a run of epochs epochs to w.
func epochHooks(c *cli.Context, w io.Writer, epochs int) run.Hooks {
	p := newProgress(c.Bool("quiet"), epochs)
	h := run.Hooks{OnEpoch: func(_ *engine.Trainer, e engine.EpochMetrics) error {
		p.clear()
		_, err := fmt.Fprintln(w, run.EpochLine(e, epochs))
		return err
	}}
	if p != nil {
		h.Progress = p
	}
	return h
}
