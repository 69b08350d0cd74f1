package run

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/sampler"
)

// Config is the configuration of one training run. Its JSON form is the
// "config" of summary.json and part of every checkpoint.
type Config struct {
	Dataset  string  `json:"dataset"`
	Model    string  `json:"model"`
	Device   string  `json:"device"`
	Sampler  string  `json:"sampler"`
	Score    string  `json:"score,omitempty"`
	Epochs   int     `json:"epochs"`
	Batch    int     `json:"batch"`
	LR       float64 `json:"lr"`
	Momentum float64 `json:"momentum"`
	Seed     uint64  `json:"seed"`
	// Val > 0 holds out the last Val training images as a validation set.
	Val int `json:"val,omitempty"`
	// Subset > 0 trains on the first Subset training images only (besides
	// the validation split).
	Subset int `json:"subset,omitempty"`
	// Schedule holds the SGD-S knobs (used when Sampler is "sgds").
	Schedule *sampler.ScheduleConfig `json:"schedule,omitempty"`
	// Frac is the fraction of the training set RS2 visits per epoch (used
	// when Sampler is "rs2"), in (0, 1].
	Frac float64 `json:"frac,omitempty"`
	// EvalEvery is the step of the evaluation grid in samples
	// (engine.Trainer.EvalEvery): 0 for the default (the largest multiple
	// of the batch that is at most a sixth of the training set), else at
	// least the batch size.
	EvalEvery int `json:"eval_every,omitempty"`
}

// Samplers lists the sample orders NewOrder knows: uniform (a fresh
// shuffle per epoch, without replacement), uniform-replace (N uniform
// draws with replacement per epoch), rs2 (a fresh random Frac·N subset per
// epoch, without replacement), sequential, and sgds.
var Samplers = []string{"uniform", "uniform-replace", "rs2", "sequential", "sgds"}

// MaxEvalEvery bounds EvalEvery (2^40 samples).
const MaxEvalEvery = 1 << 40

// Validate reports the first invalid setting, naming its flag. The rules
// are those of the packages that use the settings (engine.Config for the
// optimiser, sampler.ScheduleConfig for the SGD-S knobs), checked one
// setting at a time so that the error names the flag; Val and Subset are
// checked against the data set by LoadData.
func (c Config) Validate() error {
	if _, err := data.Lookup(c.Dataset); err != nil {
		return fmt.Errorf("--dataset: %w", err)
	}
	if _, err := engine.LookupModel(c.Model); err != nil {
		return fmt.Errorf("--model: %w", err)
	}
	if _, err := engine.LookupBackend(c.Device); err != nil {
		return fmt.Errorf("--device: %w", err)
	}
	if c.Epochs <= 0 {
		return fmt.Errorf("--epochs must be > 0, got %d", c.Epochs)
	}
	valid := engine.Config{Batch: 1, LR: 0.01}
	for _, s := range []struct {
		flag string
		set  func(*engine.Config)
	}{
		{"batch", func(e *engine.Config) { e.Batch = c.Batch }},
		{"lr", func(e *engine.Config) { e.LR = c.LR }},
		{"momentum", func(e *engine.Config) { e.Momentum = c.Momentum }},
	} {
		e := valid
		s.set(&e)
		if err := e.Validate(); err != nil {
			return fmt.Errorf("--%s: %w", s.flag, err)
		}
	}
	if _, err := engine.PickScore(engine.StepStats{GradNorms: []float32{}}, c.Score); err != nil {
		return fmt.Errorf("--score: %w", err)
	}
	if c.EvalEvery != 0 && (c.EvalEvery < c.Batch || c.EvalEvery > MaxEvalEvery) {
		return fmt.Errorf("--eval-every must be 0 (the default grid) or in [batch %d, %d] samples, got %d", c.Batch, int64(MaxEvalEvery), c.EvalEvery)
	}
	if c.Sampler != "rs2" && c.Frac != 0 {
		return fmt.Errorf("--frac applies to the rs2 sampler only, not to %q", c.Sampler)
	}
	switch c.Sampler {
	case "uniform", "uniform-replace", "sequential":
	case "rs2":
		if !(c.Frac > 0 && c.Frac <= 1) {
			return fmt.Errorf("--frac: the rs2 sampler needs a fraction in (0, 1], got %v", c.Frac)
		}
	case "sgds":
		if c.Schedule == nil {
			return fmt.Errorf("--sampler sgds needs a schedule configuration")
		}
		sc := *c.Schedule
		sc.BatchSize = c.Batch
		return ValidateSchedule(sc)
	default:
		return fmt.Errorf("--sampler: unknown sampler %q (known: %s)", c.Sampler, strings.Join(Samplers, ", "))
	}
	return nil
}

// ResolveDevice replaces a device alias ("auto") by the name of the
// backend it selects here, so that the configuration a run records (in
// summary.json and its checkpoints) names the backend actually used.
func (c *Config) ResolveDevice() error {
	b, err := engine.LookupBackend(c.Device)
	if err != nil {
		return fmt.Errorf("--device: %w", err)
	}
	c.Device = b.Name()
	return nil
}

// knob is one SGD-S setting: its name as a flag (--drop) and as a key of a
// compare method (drop=0.3), and where it lives in a ScheduleConfig.
type knob struct {
	name  string
	field func(*sampler.ScheduleConfig) any // a pointer to the setting
}

var knobs = []knob{
	{"transient", func(c *sampler.ScheduleConfig) any { return &c.TransientEpochs }},
	{"drop", func(c *sampler.ScheduleConfig) any { return &c.DropFrac }},
	{"readd", func(c *sampler.ScheduleConfig) any { return &c.ReaddFrac }},
	{"kept-floor", func(c *sampler.ScheduleConfig) any { return &c.KeptFloor }},
	{"mix", func(c *sampler.ScheduleConfig) any { return &c.Mix }},
	{"readd-score", func(c *sampler.ScheduleConfig) any { return &c.ReaddScore }},
	{"unbiased", func(c *sampler.ScheduleConfig) any { return &c.Unbiased }},
}

// parse sets the knob of sc from its text value.
func (k knob) parse(sc *sampler.ScheduleConfig, v string) (err error) {
	switch p := k.field(sc).(type) {
	case *int:
		*p, err = strconv.Atoi(v)
	case *float64:
		*p, err = strconv.ParseFloat(v, 64)
	case *bool:
		*p, err = strconv.ParseBool(v)
	case *sampler.ReaddScore:
		*p = sampler.ReaddScore(v)
	}
	return err
}

// copy sets the knob of dst to its value in src.
func (k knob) copy(dst, src *sampler.ScheduleConfig) {
	switch p := k.field(dst).(type) {
	case *int:
		*p = *k.field(src).(*int)
	case *float64:
		*p = *k.field(src).(*float64)
	case *bool:
		*p = *k.field(src).(*bool)
	case *sampler.ReaddScore:
		*p = *k.field(src).(*sampler.ReaddScore)
	}
}

// Knobs lists the names of the SGD-S settings, as flags and as keys of
// SetKnob.
func Knobs() []string {
	names := make([]string, len(knobs))
	for i, k := range knobs {
		names[i] = k.name
	}
	return names
}

// SetKnob sets the SGD-S setting name (one of Knobs) of sc from its text
// value; ValidateSchedule checks the result.
func SetKnob(sc *sampler.ScheduleConfig, name, value string) error {
	for _, k := range knobs {
		if k.name == name {
			if err := k.parse(sc, value); err != nil {
				return fmt.Errorf("--%s %q: %w", name, value, err)
			}
			return nil
		}
	}
	return fmt.Errorf("unknown SGD-S setting %q (known: %s)", name, strings.Join(Knobs(), ", "))
}

// ValidateSchedule checks sc by the sampler's rules
// (sampler.ScheduleConfig.Validate), one setting at a time on an otherwise
// default configuration, so that an error names the flag of the setting at
// fault; it wraps sampler.ErrBadConfig.
func ValidateSchedule(sc sampler.ScheduleConfig) error {
	for _, k := range knobs {
		probe := sampler.DefaultScheduleConfig()
		k.copy(&probe, &sc)
		if err := probe.Validate(); err != nil {
			return fmt.Errorf("--%s: %w", k.name, err)
		}
	}
	if err := sc.Validate(); err != nil {
		return fmt.Errorf("--batch: %w", err)
	}
	return nil
}
