package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"

	"github.com/sgds/sgds/bench"
	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/training"
)

// env names the SGDS_* variable of a flag: --target-acc ↔ SGDS_TARGET_ACC.
func env(name string) []string {
	return []string{"SGDS_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))}
}

// Flag categories of the help (urfave lists them in alphabetical order).
const (
	catData       = "data"
	catExperiment = "experiment"
	catModel      = "model"
	catOptimiser  = "optimiser"
	catOutput     = "output"
	catRun        = "run control"
	catSampler    = "sampler"
)

// settingCategory is the help category of a sampler's settings.
func settingCategory(d *run.Descriptor) string { return "sampler settings: " + d.Name }

// flagCategory is the help category of every flag of every command, by
// name, but the samplers' settings (settingCategory); a flag missing here
// is listed under catRun.
var flagCategory = map[string]string{
	"dataset": catData, "data": catData, "val": catData, "subset": catData, "test-subset": catData,
	"model": catModel, "seed": catModel, "order-seed": catModel, "device": catModel,
	"epochs": catOptimiser, "batch": catOptimiser, "lr": catOptimiser, "momentum": catOptimiser,
	"schedule": catOptimiser, "warmup": catOptimiser, "budget": catOptimiser,
	"sampler": catSampler,
	"out":     catOutput, "quiet": catOutput, "force": catOutput, "target-acc": catOutput, "eval-every": catOutput,
	"resume": catRun, "config": catRun,
	"baseline": catExperiment, "lrs": catExperiment, "momenta": catExperiment, "tuned": catExperiment,
	"samples": catExperiment, "timing-steps": catExperiment, "seeds": catExperiment, "targets": catExperiment,
	"parallel": catExperiment, "variants": catExperiment, "method": catExperiment, "quick": catExperiment,
}

// flagPlaceholder names the value of a flag in the help (--data DIR) when
// its usage does not name it between backquotes (urfave's convention).
var flagPlaceholder = map[string]string{
	"dataset": "NAME", "data": "DIR", "val": "N", "subset": "N", "model": "NAME", "seed": "N", "order-seed": "N", "device": "NAME",
	"epochs": "N", "batch": "N", "lr": "RATE", "momentum": "BETA", "sampler": "NAME", "out": "DIR", "target-acc": "ACC", "eval-every": "N", "resume": "DIR",
	"config": "FILE", "samples": "N", "timing-steps": "N", "seeds": "LIST", "targets": "LIST",
	"parallel": "N", "method": "SPEC", "baseline": "NAME", "lrs": "LIST", "momenta": "LIST", "tuned": "FILE",
}

// flagDefaultText is the default the help shows for a flag whose value is
// empty, where its usage does not set one.
var flagDefaultText = map[string]string{
	"resume": "none: start afresh", "tuned": "none: every method at its own --lr and --momentum",
}

// flagString renders a flag's help line: urfave's own rendering, with the
// placeholder of flagPlaceholder where the usage names none (urfave would
// write "value").
func flagString(orig cli.FlagStringFunc) cli.FlagStringFunc {
	return func(f cli.Flag) string {
		s := orig(f)
		p := flagPlaceholder[f.Names()[0]]
		if _, st := run.Owner(f.Names()[0]); st != nil {
			p = st.Value
		}
		if p != "" {
			s = strings.ReplaceAll(s, " value", " "+p)
		}
		return s
	}
}

// categorise sets the help category of every flag of fs that has none,
// and the default text of flagDefaultText where none is set.
func categorise(fs []cli.Flag) {
	for _, f := range fs {
		cat := flagCategory[f.Names()[0]]
		if d, _ := run.Owner(f.Names()[0]); d != nil {
			cat = settingCategory(d)
		}
		if cat == "" {
			cat = catRun
		}
		if d := flagDefaultText[f.Names()[0]]; d != "" {
			switch f := f.(type) {
			case *altsrc.StringFlag:
				if f.Value == "" && f.DefaultText == "" {
					f.DefaultText = d
				}
			case *cli.StringFlag:
				if f.Value == "" && f.DefaultText == "" {
					f.DefaultText = d
				}
			}
		}
		switch f := f.(type) {
		case *altsrc.StringFlag:
			setCategory(&f.Category, cat)
		case *altsrc.BoolFlag:
			setCategory(&f.Category, cat)
		case *altsrc.GenericFlag:
			setCategory(&f.Category, cat)
		case *altsrc.StringSliceFlag:
			setCategory(&f.Category, cat)
		case *cli.StringFlag:
			setCategory(&f.Category, cat)
		case *cli.BoolFlag:
			setCategory(&f.Category, cat)
		case *cli.IntFlag:
			setCategory(&f.Category, cat)
		case *cli.Float64Flag:
			setCategory(&f.Category, cat)
		case *cli.Uint64Flag:
			setCategory(&f.Category, cat)
		case *cli.GenericFlag:
			setCategory(&f.Category, cat)
		case *cli.StringSliceFlag:
			setCategory(&f.Category, cat)
		}
	}
}

func setCategory(dst *string, cat string) {
	if *dst == "" {
		*dst = cat
	}
}

// The numeric flags parse decimal numbers only: urfave's IntFlag (and Go's
// flag package) read integers in base 0, so that "010" would be eight and
// "0x7d0" 2000. The same parser reads the SGDS_* variables and --config
// files.

// intValue is the value of an integer flag.
type intValue struct {
	flag string
	v    int
}

func (v *intValue) Set(s string) error {
	n, err := parseDecimal(v.flag, s, math.MinInt, math.MaxInt)
	if err != nil {
		return err
	}
	v.v = int(n)
	return nil
}

func (v *intValue) String() string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(v.v)
}

// uintValue is the value of a non-negative 64-bit integer flag (--seed).
type uintValue struct {
	flag string
	v    uint64
}

func (v *uintValue) Set(s string) error {
	if strings.HasPrefix(strings.TrimSpace(s), "-") {
		return fmt.Errorf("--%s %q: must be a non-negative decimal integer", v.flag, s)
	}
	digits := strings.TrimPrefix(strings.TrimSpace(s), "+")
	if err := decimalDigits(v.flag, s, digits); err != nil {
		return err
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return fmt.Errorf("--%s %q: out of range [0, %d]", v.flag, s, uint64(math.MaxUint64))
	}
	v.v = n
	return nil
}

func (v *uintValue) String() string {
	if v == nil {
		return ""
	}
	return strconv.FormatUint(v.v, 10)
}

// floatValue is the value of a real-valued flag: a decimal number (with
// an optional exponent), or NaN/Inf, which the checks of the flag refuse
// by name; hexadecimal floats and digit separators are refused here.
type floatValue struct {
	flag string
	v    float64
}

func (v *floatValue) Set(s string) error {
	t := strings.TrimSpace(s)
	if t == "" || strings.ContainsAny(t, "xXpP_") && !isInfNaN(t) {
		return fmt.Errorf("--%s %q: not a decimal number", v.flag, s)
	}
	x, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return fmt.Errorf("--%s %q: not a decimal number", v.flag, s)
	}
	v.v = x
	return nil
}

func isInfNaN(s string) bool {
	switch strings.ToLower(strings.TrimLeft(s, "+-")) {
	case "inf", "infinity", "nan":
		return true
	}
	return false
}

func (v *floatValue) String() string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(v.v, 'g', -1, 64)
}

// parseDecimal parses s as a decimal integer in [lo, hi] for --flag: an
// optional sign, then digits without leading zeros (0 itself excepted), so
// that no input reads as octal, hexadecimal or binary.
func parseDecimal(flag, s string, lo, hi int64) (int64, error) {
	t := strings.TrimSpace(s)
	digits := strings.TrimLeft(t, "+-")
	if len(t)-len(digits) > 1 {
		return 0, fmt.Errorf("--%s %q: not a decimal integer", flag, s)
	}
	if err := decimalDigits(flag, s, digits); err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("--%s %q: out of range [%d, %d]", flag, s, lo, hi)
	}
	return n, nil
}

// decimalDigits requires digits to be a decimal numeral without leading
// zeros; s is the whole value for the message.
func decimalDigits(flag, s, digits string) error {
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return fmt.Errorf("--%s %q: not a decimal integer (digits 0-9 only, no 0x, 0o, 0b or _)", flag, s)
	}
	if len(digits) > 1 && digits[0] == '0' {
		want := strings.TrimLeft(digits, "0")
		if want == "" {
			want = "0"
		}
		return fmt.Errorf("--%s %q: integers are decimal, without leading zeros (did you mean %s?)", flag, s, want)
	}
	return nil
}

// The flag helpers build urfave flags with an SGDS_* variable, readable
// from a --config file (altsrc). A placeholder in the usage between
// backquotes names the value in the help (--data DIR); every default the
// help shows is explained by the usage (what 0 or "" means).

func stringFlag(name, value, usage string) *altsrc.StringFlag {
	return altsrc.NewStringFlag(&cli.StringFlag{Name: name, Value: value, Usage: usage, EnvVars: env(name)})
}

func intFlag(name string, value int, usage string) *altsrc.GenericFlag {
	return altsrc.NewGenericFlag(&cli.GenericFlag{Name: name, Value: &intValue{flag: name, v: value}, Usage: usage, EnvVars: env(name)})
}

func floatFlag(name string, value float64, usage string) *altsrc.GenericFlag {
	return altsrc.NewGenericFlag(&cli.GenericFlag{Name: name, Value: &floatValue{flag: name, v: value}, Usage: usage, EnvVars: env(name)})
}

func boolFlag(name, usage string) *altsrc.BoolFlag {
	return altsrc.NewBoolFlag(&cli.BoolFlag{Name: name, Usage: usage, EnvVars: env(name)})
}

// boolFlagOn is a boolean flag that is on unless --NAME=false.
func boolFlagOn(name, usage string) *altsrc.BoolFlag {
	return altsrc.NewBoolFlag(&cli.BoolFlag{Name: name, Value: true, Usage: usage, EnvVars: env(name)})
}

func uintFlag(name string, value uint64, usage string) *altsrc.GenericFlag {
	return altsrc.NewGenericFlag(&cli.GenericFlag{Name: name, Value: &uintValue{flag: name, v: value}, Usage: usage, EnvVars: env(name)})
}

// withDefaultText sets the default the help shows for a flag whose value
// is computed or empty.
func withDefaultText(f *altsrc.StringFlag, text string) *altsrc.StringFlag {
	f.DefaultText = text
	return f
}

// builtInBackends lists the backends that can run here (LookupBackend
// succeeds), and the registered ones that cannot.
func builtInBackends() (ok, missing []string) {
	for _, name := range engine.Backends() {
		if _, err := engine.LookupBackend(name); err == nil {
			ok = append(ok, name)
		} else {
			missing = append(missing, name)
		}
	}
	return ok, missing
}

func deviceUsage() string {
	ok, missing := builtInBackends()
	s := "backend `NAME`: cpu (our CPU kernels, the fastest on a CPU), gorgonia (the autodiff oracle, slow), cuda (a GPU, in binaries built with -tags cuda) or auto (cuda when it can run here, else cpu); usable here: " + strings.Join(ok, ", ")
	if len(missing) > 0 {
		s += "; not here: " + strings.Join(missing, ", ")
	}
	return s
}

// subsetFlag is --subset of every command that trains.
func subsetFlag() cli.Flag {
	return intFlag("subset", 0, "train on the first `N` training images only (0: all of them)")
}

// MaxEpochs bounds --epochs (and the epochs of a resumed checkpoint):
// run.Config.Validate's bound.
const MaxEpochs = run.MaxEpochs

// commonFlags are shared by every command that trains.
func commonFlags() []cli.Flag {
	return []cli.Flag{
		stringFlag("dataset", "mnist", "data set `NAME`: mnist, fashion-mnist, or idx (your own four IDX files, read with --data DIR)"),
		withDefaultText(stringFlag("data", "", "read the four IDX .gz files of the data set from folder `DIR`; for your own files add --dataset idx"),
			"data/<dataset> in this folder or a parent, then the Go module cache for mnist, /usr/share/datasets/fashion-mnist for fashion-mnist"),
		stringFlag("model", "cnn", "model `NAME`: mlp or cnn"),
		intFlag("epochs", 3, fmt.Sprintf("train for `N` epochs, in [1, %d]", MaxEpochs)),
		intFlag("batch", 64, "mini-batch size `N`: at least 1, at most the training samples and the memory budget (SGDS_MEMORY_BUDGET)"),
		floatFlag("lr", 0.01, "learning `RATE` of SGD, in (0, 1e6]"),
		floatFlag("momentum", 0.5, "SGD momentum `BETA` in [0, 1) (0: plain SGD)"),
		stringFlag("schedule", "constant", "learning-rate schedule `NAME` over the run's budget (its position is the share of the budget spent, not of the epochs): "+
			"constant, step (÷10 at 50% and 75%), cosine, linear (to 0: the budget-aware baseline) or onecycle; --lr is its peak"),
		floatFlag("warmup", 0, "rise linearly from 0 to --lr over this `SHARE` of the budget first, in [0, 1) (0: no warm-up)"),
		floatFlag("budget", 0, fmt.Sprintf("end the run once it has spent `F` × epochs × training samples of compute: samples trained on, plus forward-only samples at %.2f each (F in (0, %d]; 0: no budget, train --epochs epochs)", training.ForwardCost, run.MaxBudget)),
		uintFlag("seed", 1, "seed `N` of the weights and of every random draw (any integer ≥ 0; 0 is a seed like any other)"),
		stringFlag("device", "cpu", deviceUsage()),
		intFlag("test-subset", 0, "evaluate on the first `N` test images only, for quick runs (0: the whole test set)"),
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
	if n := strings.Count(s, ",") + 1; n > bench.MaxTargets {
		return nil, fmt.Errorf("%d accuracy targets, at most %d", n, bench.MaxTargets)
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
