package run

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/internal/limits"
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
	// OrderSeed ≠ 0 draws the sample order (and a sampler's own random
	// draws) from another stream while the initial weights stay those of
	// Seed: two runs that differ only in OrderSeed measure how far the
	// data order alone moves a method (the noise floor of a comparison).
	OrderSeed uint64 `json:"order_seed,omitempty"`
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
	// The settings of the peer methods (docs/METHOD.md §8), each used only
	// by its sampler; nil means the sampler's defaults (ResolveDevice fills
	// them in, so that the configuration a run records says what ran).
	InfoBatch *InfoBatchSettings `json:"infobatch,omitempty"`
	Selective *SelectiveSettings `json:"selective_backprop,omitempty"`
	KF        *KFSettings        `json:"kf_is,omitempty"`
	Kakurenbo *KakurenboSettings `json:"kakurenbo,omitempty"`
}

// InfoBatchSettings are the settings of the infobatch sampler
// (sampler.InfoBatch; its batch is the run's batch and its epochs the
// run's epochs).
type InfoBatchSettings struct {
	// Prune is r, the probability of skipping a sample whose last loss is
	// below the mean, in [0, 1) (default 0.5).
	Prune float64 `json:"r"`
	// Anneal is δ: the epochs after round(δ·epochs) use the full data set,
	// in [0, 1] (default 0.875).
	Anneal float64 `json:"anneal"`
}

// SelectiveSettings are the settings of the selective-backprop sampler
// (sampler.SelectiveBackprop over a fresh shuffle per epoch).
type SelectiveSettings struct {
	// Beta is β of P(select) = CDF(loss)^β, finite and ≥ 0 (default 2; 0
	// selects every candidate).
	Beta float64 `json:"beta"`
	// Window is the number of recent losses the CDF is taken over, in
	// [1, 2^24] (default 1024).
	Window int `json:"window"`
}

// KFSettings are the settings of the kf-is sampler (sampler.KF over a
// fresh shuffle per epoch).
type KFSettings struct {
	// Presample is k: k·B candidates are scored per step, in [1, 2^20]
	// (default 3).
	Presample int `json:"k"`
	// Threshold is τ_th: importance sampling is on while the moving
	// average of τ exceeds it; 0 (the default) is the break-even
	// (k + 3)/3, else finite and > 0.
	Threshold float64 `json:"threshold"`
	// Momentum is the moving average's a_τ, in [0, 1) (default 0.9).
	Momentum float64 `json:"tau_momentum"`
}

// KakurenboSettings are the settings of the kakurenbo sampler
// (sampler.Kakurenbo; its batch is the run's batch).
type KakurenboSettings struct {
	// Hide is F, the largest fraction of the data hidden per epoch, in
	// [0, 1) (default 0.3).
	Hide float64 `json:"hide"`
	// Confidence is τ: a sample is hidable when its loss is ≤ −ln τ, in
	// (0, 1] (default 0.7).
	Confidence float64 `json:"tau"`
}

// DefaultInfoBatch returns the paper's settings: r = 0.5, δ = 0.875.
func DefaultInfoBatch() InfoBatchSettings { return InfoBatchSettings{Prune: 0.5, Anneal: 0.875} }

// DefaultSelective returns β = 2 (the middle of the paper's sweep) over a
// window of 1024 losses.
func DefaultSelective() SelectiveSettings {
	return SelectiveSettings{Beta: sampler.DefaultSelectiveBackpropBeta, Window: sampler.DefaultSelectiveBackpropWindow}
}

// DefaultKF returns the paper's settings: k = 3, the break-even threshold,
// a_τ = 0.9.
func DefaultKF() KFSettings {
	d := sampler.DefaultKFConfig()
	return KFSettings{Presample: d.Presample, Threshold: d.Threshold, Momentum: d.Momentum}
}

// DefaultKakurenbo returns the paper's settings: F = 0.3, τ = 0.7.
func DefaultKakurenbo() KakurenboSettings {
	d := sampler.DefaultKakurenboConfig()
	return KakurenboSettings{Hide: d.MaxHide, Confidence: d.Confidence}
}

// Samplers lists the sample orders NewOrder knows: uniform (a fresh
// shuffle per epoch, without replacement), uniform-replace (N uniform
// draws with replacement per epoch), rs2 (a fresh random Frac·N subset per
// epoch, without replacement), sequential, sgds, and the peer methods
// infobatch, selective-backprop, kf-is and kakurenbo (docs/METHOD.md §8).
var Samplers = []string{"uniform", "uniform-replace", "rs2", "sequential", "sgds",
	"infobatch", "selective-backprop", "kf-is", "kakurenbo"}

// peerFlags names, per peer sampler, its settings as the flags of train
// (and the keys of a compare method) that set them, for errors.
var peerFlags = map[string]string{
	"infobatch": "--infobatch-r, --infobatch-anneal", "selective-backprop": "--sb-beta, --sb-window",
	"kf-is": "--kf-k, --kf-threshold, --kf-tau-momentum", "kakurenbo": "--kakurenbo-hide, --kakurenbo-tau",
}

// MaxEvalEvery bounds EvalEvery (2^40 samples).
const MaxEvalEvery = 1 << 40

// MaxEpochs bounds Epochs.
const MaxEpochs = 100_000

// Validate reports the first invalid setting, naming its flag. The rules
// are those of the packages that use the settings (engine.Config for the
// optimiser, sampler.ScheduleConfig for the SGD-S knobs), checked one
// setting at a time so that the error names the flag, and the bounds of
// what a run allocates or loops over: Epochs at most MaxEpochs, and the
// batch's buffers within the memory budget (internal/limits) before
// anything is allocated. Val and Subset are checked against the data set
// by LoadData.
func (c Config) Validate() error {
	if _, err := data.Lookup(c.Dataset); err != nil {
		return fmt.Errorf("--dataset: %w", err)
	}
	model, err := engine.LookupModel(c.Model)
	if err != nil {
		return fmt.Errorf("--model: %w", err)
	}
	if _, err := engine.LookupBackend(c.Device); err != nil {
		return fmt.Errorf("--device: %w", err)
	}
	if c.Epochs < 1 || c.Epochs > MaxEpochs {
		return fmt.Errorf("--epochs must be in [1, %d], got %d", MaxEpochs, c.Epochs)
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
	if err := limits.Check("--batch", int64(c.Batch), engine.BatchBytesPerSample(model)); err != nil {
		return err
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
	for _, p := range []struct {
		name string
		set  bool
	}{{"infobatch", c.InfoBatch != nil}, {"selective-backprop", c.Selective != nil}, {"kf-is", c.KF != nil}, {"kakurenbo", c.Kakurenbo != nil}} {
		if p.set && c.Sampler != p.name {
			return fmt.Errorf("%s apply to the %s sampler only, not to %q", peerFlags[p.name], p.name, c.Sampler)
		}
	}
	if err := c.validatePeer(); err != nil {
		return err
	}
	switch c.Sampler {
	case "uniform", "uniform-replace", "sequential", "infobatch", "selective-backprop", "kf-is", "kakurenbo":
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
// summary.json and its checkpoints) names the backend actually used; for
// the same reason it sets the settings of a peer sampler left nil to the
// sampler's defaults (PeerDefaults).
func (c *Config) ResolveDevice() error {
	b, err := engine.LookupBackend(c.Device)
	if err != nil {
		return fmt.Errorf("--device: %w", err)
	}
	c.Device = b.Name()
	c.PeerDefaults()
	return nil
}

// PeerDefaults sets the settings of c's sampler, when it is a peer's and
// they are nil, to its defaults.
func (c *Config) PeerDefaults() {
	switch c.Sampler {
	case "infobatch":
		if c.InfoBatch == nil {
			d := DefaultInfoBatch()
			c.InfoBatch = &d
		}
	case "selective-backprop":
		if c.Selective == nil {
			d := DefaultSelective()
			c.Selective = &d
		}
	case "kf-is":
		if c.KF == nil {
			d := DefaultKF()
			c.KF = &d
		}
	case "kakurenbo":
		if c.Kakurenbo == nil {
			d := DefaultKakurenbo()
			c.Kakurenbo = &d
		}
	}
}

// validatePeer checks the settings of a peer sampler (its defaults when
// nil) by the sampler package's rules, one setting at a time so that the
// error names its flag, and its score: the peers work from losses (kf-is
// from last-layer norms), whatever --score says, so only loss is accepted.
func (c Config) validatePeer() error {
	r := c
	r.PeerDefaults()
	type check struct {
		flag, want string
		ok         bool
	}
	var checks []check
	switch c.Sampler {
	case "infobatch":
		s := *r.InfoBatch
		checks = []check{
			{"--infobatch-r", "a probability r in [0, 1)", s.Prune >= 0 && s.Prune < 1},
			{"--infobatch-anneal", "a fraction δ of the epochs in [0, 1]", s.Anneal >= 0 && s.Anneal <= 1},
		}
	case "selective-backprop":
		s := *r.Selective
		checks = []check{
			{"--sb-beta", "a finite exponent β ≥ 0", s.Beta >= 0 && s.Beta <= math.MaxFloat64},
			{"--sb-window", fmt.Sprintf("a window of losses in [1, %d]", 1<<24), s.Window >= 1 && s.Window <= 1<<24},
		}
	case "kf-is":
		s := *r.KF
		checks = []check{
			{"--kf-k", fmt.Sprintf("a presampling factor k in [1, %d]", 1<<20), s.Presample >= 1 && s.Presample <= 1<<20},
			{"--kf-threshold", "0 (the break-even (k+3)/3) or a finite threshold > 0", s.Threshold >= 0 && s.Threshold <= math.MaxFloat64},
			{"--kf-tau-momentum", "a momentum a_τ in [0, 1)", s.Momentum >= 0 && s.Momentum < 1},
		}
	case "kakurenbo":
		s := *r.Kakurenbo
		checks = []check{
			{"--kakurenbo-hide", "a fraction F in [0, 1)", s.Hide >= 0 && s.Hide < 1},
			{"--kakurenbo-tau", "a confidence τ in (0, 1]", s.Confidence > 0 && s.Confidence <= 1},
		}
	}
	for _, k := range checks {
		if !k.ok {
			var v any
			switch k.flag {
			case "--infobatch-r":
				v = r.InfoBatch.Prune
			case "--infobatch-anneal":
				v = r.InfoBatch.Anneal
			case "--sb-beta":
				v = r.Selective.Beta
			case "--sb-window":
				v = r.Selective.Window
			case "--kf-k":
				v = r.KF.Presample
			case "--kf-threshold":
				v = r.KF.Threshold
			case "--kf-tau-momentum":
				v = r.KF.Momentum
			case "--kakurenbo-hide":
				v = r.Kakurenbo.Hide
			case "--kakurenbo-tau":
				v = r.Kakurenbo.Confidence
			}
			return fmt.Errorf("%s: the %s sampler needs %s, got %v", k.flag, c.Sampler, k.want, v)
		}
	}
	if _, peer := peerFlags[c.Sampler]; peer && c.Score != "" && c.Score != "loss" {
		what := "works from per-sample losses"
		if c.Sampler == "kf-is" {
			what = "scores its candidates by their last-layer norms"
		}
		return fmt.Errorf("--score %s: the %s sampler %s; --score is the sgds sampler's", c.Score, c.Sampler, what)
	}
	// The sampler package's own rules (selective-backprop's are those
	// above, checked without allocating its window).
	var err error
	switch c.Sampler {
	case "infobatch":
		err = r.infoBatchConfig().Validate()
	case "kf-is":
		err = r.kfConfig().Validate()
	case "kakurenbo":
		err = r.kakurenboConfig().Validate()
	}
	if err != nil {
		return fmt.Errorf("--sampler %s: %w", c.Sampler, err)
	}
	return nil
}

// infoBatchConfig, kfConfig and kakurenboConfig are the sampler
// configurations of c's peer settings, which must be set.
func (c Config) infoBatchConfig() sampler.InfoBatchConfig {
	return sampler.InfoBatchConfig{BatchSize: c.Batch, Prune: c.InfoBatch.Prune, Epochs: c.Epochs, Anneal: c.InfoBatch.Anneal}
}

func (c Config) kfConfig() sampler.KFConfig {
	return sampler.KFConfig{Presample: c.KF.Presample, Threshold: c.KF.Threshold, Momentum: c.KF.Momentum}
}

func (c Config) kakurenboConfig() sampler.KakurenboConfig {
	return sampler.KakurenboConfig{BatchSize: c.Batch, MaxHide: c.Kakurenbo.Hide, Confidence: c.Kakurenbo.Confidence}
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
	{"debias", func(c *sampler.ScheduleConfig) any { return &c.Debias }},
	{"final-full", func(c *sampler.ScheduleConfig) any { return &c.FinalFull }},
	{"systematic", func(c *sampler.ScheduleConfig) any { return &c.Systematic }},
	{"mix-ramp", func(c *sampler.ScheduleConfig) any { return &c.MixRamp }},
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
