package run

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/sampler"
)

// Method is one named way of training in a comparison: a sampler and every
// optimiser setting, resolved against the comparison's base configuration
// when parsed, so that the record says exactly what ran.
type Method struct {
	Name     string  `json:"name"`
	Sampler  string  `json:"sampler"`
	Score    string  `json:"score,omitempty"` // sgds only
	LR       float64 `json:"lr"`
	Momentum float64 `json:"momentum"`
	Batch    int     `json:"batch"`
	Frac     float64 `json:"frac,omitempty"` // rs2 only
	// OrderSeed is Config.OrderSeed: another data order from the same
	// initial weights (order-seed=N).
	OrderSeed uint64 `json:"order_seed,omitempty"`
	// Schedule holds the SGD-S knobs (sgds only).
	Schedule *sampler.ScheduleConfig `json:"schedule,omitempty"`
	// The settings of a peer sampler (that sampler only; ParseMethod sets
	// them to its defaults and the keys below).
	InfoBatch *InfoBatchSettings `json:"infobatch,omitempty"`
	Selective *SelectiveSettings `json:"selective_backprop,omitempty"`
	KF        *KFSettings        `json:"kf_is,omitempty"`
	Kakurenbo *KakurenboSettings `json:"kakurenbo,omitempty"`
	// Tuned names the entry of the tuning file whose learning rate and
	// momentum the method took (tuned=NAME), if any.
	Tuned string `json:"tuned,omitempty"`
}

// Config returns base with the method's sampler and settings; base keeps
// the data, model, device, epochs, seed, splits and evaluation grid.
func (m Method) Config(base Config) Config {
	c := base
	c.Sampler, c.Score, c.LR, c.Momentum, c.Batch, c.Frac = m.Sampler, m.Score, m.LR, m.Momentum, m.Batch, m.Frac
	c.OrderSeed = m.OrderSeed
	c.Schedule = nil
	if m.Schedule != nil {
		sc := *m.Schedule
		sc.BatchSize = m.Batch
		c.Schedule = &sc
	}
	c.InfoBatch, c.Selective, c.KF, c.Kakurenbo = clone(m.InfoBatch), clone(m.Selective), clone(m.KF), clone(m.Kakurenbo)
	return c
}

// clone returns a copy of *p, or nil.
func clone[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// Describe names the method's sampler with its settings, for tables.
func (m Method) Describe() string {
	switch {
	case m.Sampler == "rs2":
		return fmt.Sprintf("rs2 (frac %g)", m.Frac)
	case m.Schedule != nil:
		sc := m.Schedule
		return fmt.Sprintf("sgds (drop %g, readd %g, floor %g, mix %g, mix ramp %d, transient %d, unbiased %t, debias %g, final full %g, systematic %t)", sc.DropFrac, sc.ReaddFrac, sc.KeptFloor, sc.Mix, sc.MixRamp, sc.TransientEpochs, sc.Unbiased, sc.Debias, sc.FinalFull, sc.Systematic)
	case m.InfoBatch != nil:
		return fmt.Sprintf("infobatch (r %g, anneal %g)", m.InfoBatch.Prune, m.InfoBatch.Anneal)
	case m.Selective != nil:
		return fmt.Sprintf("selective-backprop (β %g, window %d)", m.Selective.Beta, m.Selective.Window)
	case m.KF != nil:
		th := "break-even"
		if m.KF.Threshold != 0 {
			th = fmt.Sprintf("%g", m.KF.Threshold)
		}
		return fmt.Sprintf("kf-is (k %d, τ_th %s, a_τ %g)", m.KF.Presample, th, m.KF.Momentum)
	case m.Kakurenbo != nil:
		return fmt.Sprintf("kakurenbo (hide %g, τ %g)", m.Kakurenbo.Hide, m.Kakurenbo.Confidence)
	}
	return m.Sampler
}

// Choice is a tuned optimiser setting: what tune.json records per method.
type Choice struct {
	LR       float64 `json:"lr"`
	Momentum float64 `json:"momentum"`
}

// methodName is the alphabet of method names.
var methodName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// decimalInt is a decimal integer without sign or leading zeros.
var decimalInt = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)

// decimalFloat is a decimal number: optional sign, digits with an optional
// point, optional exponent (no hexadecimal, no NaN or Inf).
var decimalFloat = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// MaxMethodBatch bounds the batch= of a method.
const MaxMethodBatch = 1 << 16

// methodKey is a key of a method spec: where it applies and how its value
// is parsed into the method.
type methodKey struct {
	name     string
	samplers []string // nil: every sampler
	set      func(m *Method, v string) error
}

// parseIntIn parses a decimal integer in [lo, hi].
func parseIntIn(key, v string, lo, hi int64) (int64, error) {
	bad := fmt.Errorf("%s=%s: want a decimal integer in [%d, %d]", key, v, lo, hi)
	if !decimalInt.MatchString(v) {
		return 0, bad
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, bad
	}
	return n, nil
}

// parseFloatIn parses a decimal number in the interval [lo, hi] (or with
// open ends), described by interval for the error.
func parseFloatIn(key, v string, ok func(float64) bool, interval string) (float64, error) {
	bad := fmt.Errorf("%s=%s: want a decimal number in %s", key, v, interval)
	if !decimalFloat.MatchString(v) {
		return 0, bad
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || !ok(x) {
		return 0, bad
	}
	return x, nil
}

func floatKey(name string, samplers []string, ok func(float64) bool, interval string, field func(*Method) *float64) methodKey {
	return methodKey{name, samplers, func(m *Method, v string) error {
		x, err := parseFloatIn(name, v, ok, interval)
		if err == nil {
			*field(m) = x
		}
		return err
	}}
}

func unit(lo, hi bool) func(float64) bool { // [0, 1] with ends open or closed
	return func(x float64) bool { return (x > 0 || lo && x == 0) && (x < 1 || hi && x == 1) }
}

var sgdsOnly = []string{"sgds"}

func schedFloat(name, interval string, ok func(float64) bool, field func(*sampler.ScheduleConfig) *float64) methodKey {
	return floatKey(name, sgdsOnly, ok, interval, func(m *Method) *float64 { return field(m.Schedule) })
}

func schedBool(name string, field func(*sampler.ScheduleConfig) *bool) methodKey {
	return methodKey{name, sgdsOnly, func(m *Method, v string) error {
		if v != "true" && v != "false" {
			return fmt.Errorf("%s=%s: want true or false", name, v)
		}
		*field(m.Schedule) = v == "true"
		return nil
	}}
}

// methodKeys lists every key of a method spec.
var methodKeys = []methodKey{
	{"sampler", nil, nil}, // read first, see ParseMethod
	floatKey("lr", nil, func(x float64) bool { return x > 0 && x <= 1e6 }, "(0, 1e6]", func(m *Method) *float64 { return &m.LR }),
	floatKey("momentum", nil, unit(true, false), "[0, 1)", func(m *Method) *float64 { return &m.Momentum }),
	{"batch", nil, func(m *Method, v string) error {
		n, err := parseIntIn("batch", v, 1, MaxMethodBatch)
		m.Batch = int(n)
		return err
	}},
	{"tuned", nil, nil}, // resolved in ParseMethod
	{"order-seed", nil, func(m *Method, v string) error {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || !decimalInt.MatchString(v) {
			return fmt.Errorf("order-seed=%s: want a decimal integer in [0, 2^64)", v)
		}
		m.OrderSeed = n
		return nil
	}},
	floatKey("frac", []string{"rs2"}, unit(false, true), "(0, 1]", func(m *Method) *float64 { return &m.Frac }),
	{"score", sgdsOnly, func(m *Method, v string) error {
		if !slices.Contains(engine.Scores, v) {
			return fmt.Errorf("score=%s: want one of %s", v, strings.Join(engine.Scores, ", "))
		}
		m.Score = v
		return nil
	}},
	{"transient", sgdsOnly, func(m *Method, v string) error {
		n, err := parseIntIn("transient", v, 0, math.MaxInt32)
		m.Schedule.TransientEpochs = int(n)
		return err
	}},
	{"mix-ramp", sgdsOnly, func(m *Method, v string) error {
		n, err := parseIntIn("mix-ramp", v, 0, math.MaxInt32)
		m.Schedule.MixRamp = int(n)
		return err
	}},
	schedFloat("drop", "[0, 1)", unit(true, false), func(c *sampler.ScheduleConfig) *float64 { return &c.DropFrac }),
	schedFloat("readd", "[0, 1)", unit(true, false), func(c *sampler.ScheduleConfig) *float64 { return &c.ReaddFrac }),
	schedFloat("kept-floor", "[0, 1]", unit(true, true), func(c *sampler.ScheduleConfig) *float64 { return &c.KeptFloor }),
	schedFloat("mix", "[0, 1]", unit(true, true), func(c *sampler.ScheduleConfig) *float64 { return &c.Mix }),
	schedFloat("debias", "[0, 1]", unit(true, true), func(c *sampler.ScheduleConfig) *float64 { return &c.Debias }),
	schedFloat("final-full", "[0, 1]", unit(true, true), func(c *sampler.ScheduleConfig) *float64 { return &c.FinalFull }),
	{"readd-score", sgdsOnly, func(m *Method, v string) error {
		if v != string(sampler.ReaddLast) && v != string(sampler.ReaddMean) {
			return fmt.Errorf("readd-score=%s: want %s or %s", v, sampler.ReaddLast, sampler.ReaddMean)
		}
		m.Schedule.ReaddScore = sampler.ReaddScore(v)
		return nil
	}},
	schedBool("unbiased", func(c *sampler.ScheduleConfig) *bool { return &c.Unbiased }),
	schedBool("systematic", func(c *sampler.ScheduleConfig) *bool { return &c.Systematic }),
	// The peers' settings (run.Config's *Settings).
	floatKey("r", []string{"infobatch"}, unit(true, false), "[0, 1)", func(m *Method) *float64 { return &m.InfoBatch.Prune }),
	floatKey("anneal", []string{"infobatch"}, unit(true, true), "[0, 1]", func(m *Method) *float64 { return &m.InfoBatch.Anneal }),
	floatKey("beta", []string{"selective-backprop"}, func(x float64) bool { return x >= 0 }, "[0, ∞)", func(m *Method) *float64 { return &m.Selective.Beta }),
	{"window", []string{"selective-backprop"}, func(m *Method, v string) error {
		n, err := parseIntIn("window", v, 1, 1<<24)
		m.Selective.Window = int(n)
		return err
	}},
	{"k", []string{"kf-is"}, func(m *Method, v string) error {
		n, err := parseIntIn("k", v, 1, 1<<20)
		m.KF.Presample = int(n)
		return err
	}},
	floatKey("threshold", []string{"kf-is"}, func(x float64) bool { return x >= 0 }, "[0, ∞) (0: the break-even (k+3)/3)", func(m *Method) *float64 { return &m.KF.Threshold }),
	floatKey("tau-momentum", []string{"kf-is"}, unit(true, false), "[0, 1)", func(m *Method) *float64 { return &m.KF.Momentum }),
	floatKey("hide", []string{"kakurenbo"}, unit(true, false), "[0, 1)", func(m *Method) *float64 { return &m.Kakurenbo.Hide }),
	floatKey("tau", []string{"kakurenbo"}, unit(false, true), "(0, 1]", func(m *Method) *float64 { return &m.Kakurenbo.Confidence }),
}

// MethodKeys lists the keys a method spec may set for sampler s.
func MethodKeys(s string) []string {
	var out []string
	for _, k := range methodKeys {
		if k.samplers == nil || slices.Contains(k.samplers, s) {
			out = append(out, k.name)
		}
	}
	return out
}

// knownKeys lists the keys of every sampler, for errors.
func knownKeys() string {
	s := strings.Join(MethodKeys(""), ", ") + ", and for sgds " + strings.Join(Knobs(), ", ") + ", score"
	for _, p := range []string{"rs2", "infobatch", "selective-backprop", "kf-is", "kakurenbo"} {
		var own []string
		for _, k := range methodKeys {
			if slices.Equal(k.samplers, []string{p}) {
				own = append(own, k.name)
			}
		}
		s += "; for " + p + " " + strings.Join(own, ", ")
	}
	return s
}

func lookupKey(name string) (methodKey, bool) {
	for _, k := range methodKeys {
		if k.name == name {
			return k, true
		}
	}
	return methodKey{}, false
}

// ParseMethod parses a method spec "name[:key=value,...]" against the base
// configuration of a comparison (and the tuned settings, when a tuning file
// was given; nil otherwise). The keys are
//
//	sampler=uniform|uniform-replace|rs2|sequential|sgds (default: the name
//	        when it is a sampler's, else sgds)
//	lr=X, momentum=Y, batch=B            (every sampler; default the base's)
//	tuned=NAME                           lr and momentum of tuning entry NAME
//	order-seed=N                         (every sampler: another data order
//	                                     from the same initial weights; 0)
//	frac=F                               (rs2: the fraction per epoch, required)
//	score=, transient=, drop=, readd=, kept-floor=, mix=, readd-score=,
//	unbiased=, debias=, final-full=, systematic=,
//	mix-ramp=                            (sgds: on top of the base schedule)
//	r=R, anneal=D                        (infobatch: skip probability in
//	                                     [0, 1), 0.5; full data after
//	                                     round(D·epochs), D in [0, 1], 0.875)
//	beta=B, window=W                     (selective-backprop: β ≥ 0, 2; W
//	                                     in [1, 2^24], 1024)
//	k=K, threshold=T, tau-momentum=A     (kf-is: K in [1, 2^20], 3; T ≥ 0,
//	                                     0 = (K+3)/3; A in [0, 1), 0.9)
//	hide=F, tau=C                        (kakurenbo: F in [0, 1), 0.3; C in
//	                                     (0, 1], 0.7)
//
// The sampler= values also include infobatch, selective-backprop, kf-is
// and kakurenbo (run.Samplers).
//
// Parsing is strict: names are 1–64 characters of [A-Za-z0-9._-]; integers
// are decimal without sign or leading zeros, numbers decimal (no
// hexadecimal, NaN or Inf), booleans true or false; an unknown key, a key
// given twice or a key of another sampler is an error naming it; every
// value is checked against its range, and the method's configuration
// against Config.Validate, so an accepted spec always runs.
func ParseMethod(spec string, base Config, tuned map[string]Choice) (Method, error) {
	name, rest, hasRest := strings.Cut(spec, ":")
	if !methodName.MatchString(name) {
		return Method{}, fmt.Errorf("method %q: the name %q must be 1–64 characters of A–Z, a–z, 0–9, '.', '_' and '-'", spec, name)
	}
	kv := map[string]string{}
	var order []string
	if hasRest {
		for _, pair := range strings.Split(rest, ",") {
			k, v, ok := strings.Cut(pair, "=")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if !ok || k == "" || v == "" {
				return Method{}, fmt.Errorf("method %q: %q is not key=value", spec, pair)
			}
			if _, known := lookupKey(k); !known {
				return Method{}, fmt.Errorf("method %q: unknown key %q (known: %s)", spec, k, knownKeys())
			}
			if _, dup := kv[k]; dup {
				return Method{}, fmt.Errorf("method %q: %s is given twice", spec, k)
			}
			kv[k] = v
			order = append(order, k)
		}
	}
	m := Method{Name: name, Sampler: "sgds", LR: base.LR, Momentum: base.Momentum, Batch: base.Batch}
	if slices.Contains(Samplers, name) {
		m.Sampler = name
	}
	if s, ok := kv["sampler"]; ok {
		if !slices.Contains(Samplers, s) {
			return Method{}, fmt.Errorf("method %q: sampler=%s: want one of %s", spec, s, strings.Join(Samplers, ", "))
		}
		m.Sampler = s
	}
	if m.Sampler == "sgds" {
		sc := sampler.DefaultScheduleConfig()
		if base.Schedule != nil {
			sc = *base.Schedule
		}
		m.Schedule, m.Score = &sc, base.Score
	}
	switch m.Sampler {
	case "infobatch":
		d := DefaultInfoBatch()
		m.InfoBatch = &d
	case "selective-backprop":
		d := DefaultSelective()
		m.Selective = &d
	case "kf-is":
		d := DefaultKF()
		m.KF = &d
	case "kakurenbo":
		d := DefaultKakurenbo()
		m.Kakurenbo = &d
	}
	if m.Sampler == "rs2" {
		if _, ok := kv["frac"]; !ok {
			return Method{}, fmt.Errorf("method %q: sampler rs2 needs frac=F, the fraction of the data per epoch in (0, 1]", spec)
		}
	}
	for _, k := range order {
		key, _ := lookupKey(k)
		if key.samplers != nil && !slices.Contains(key.samplers, m.Sampler) {
			return Method{}, fmt.Errorf("method %q: %s= applies to sampler %s, not to %s", spec, k, strings.Join(key.samplers, ", "), m.Sampler)
		}
		if key.set == nil {
			continue
		}
		if err := key.set(&m, kv[k]); err != nil {
			return Method{}, fmt.Errorf("method %q: %w", spec, err)
		}
	}
	if t, ok := kv["tuned"]; ok {
		if _, lr := kv["lr"]; lr {
			return Method{}, fmt.Errorf("method %q: tuned= sets lr and momentum; lr= cannot be given with it", spec)
		}
		if _, mom := kv["momentum"]; mom {
			return Method{}, fmt.Errorf("method %q: tuned= sets lr and momentum; momentum= cannot be given with it", spec)
		}
		if tuned == nil {
			return Method{}, fmt.Errorf("method %q: tuned=%s needs a tuning file (--tuned FILE)", spec, t)
		}
		ch, ok := tuned[t]
		if !ok {
			names := make([]string, 0, len(tuned))
			for n := range tuned {
				names = append(names, n)
			}
			slices.Sort(names)
			return Method{}, fmt.Errorf("method %q: tuned=%s: the tuning file has no method %s (it has %s)", spec, t, t, strings.Join(names, ", "))
		}
		m.LR, m.Momentum, m.Tuned = ch.LR, ch.Momentum, t
	}
	if err := m.Config(base).Validate(); err != nil {
		return Method{}, fmt.Errorf("method %q: %w", spec, err)
	}
	return m, nil
}
