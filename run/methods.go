package run

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/sgds/sgds/training"
)

// Method is one named way of training in a comparison: a sampler and every
// optimiser setting, resolved against the comparison's base configuration
// when parsed, so that the record says exactly what ran.
type Method struct {
	Name string `json:"name"`
	// Sampling is the method's sampler and its settings.
	Sampling
	LR       float64 `json:"lr"`
	Momentum float64 `json:"momentum"`
	Batch    int     `json:"batch"`
	// OrderSeed is Config.OrderSeed: another data order from the same
	// initial weights (order-seed=N).
	OrderSeed uint64 `json:"order_seed,omitempty"`
	// LRSchedule, Warmup and Budget are Config's (schedule=, warmup=,
	// budget=).
	LRSchedule string  `json:"lr_schedule,omitempty"`
	Warmup     float64 `json:"warmup,omitempty"`
	Budget     float64 `json:"budget,omitempty"`
	// Group is the method a budgeted copy was made from (compare
	// --budgets), "" otherwise.
	Group string `json:"group,omitempty"`
	// Tuned names the entry of the tuning file whose learning rate and
	// momentum the method took (tuned=NAME), if any.
	Tuned string `json:"tuned,omitempty"`
}

// Config returns base with the method's sampler and settings; base keeps
// the data, model, device, epochs, seed, splits and evaluation grid.
func (m Method) Config(base Config) Config {
	c := base
	c.Sampling = m.Sampling.Clone()
	c.LR, c.Momentum, c.Batch, c.OrderSeed = m.LR, m.Momentum, m.Batch, m.OrderSeed
	c.LRSchedule, c.Warmup, c.Budget = m.LRSchedule, m.Warmup, m.Budget
	c.bind()
	return c
}

// Describe names the method's sampler with its settings, for tables.
func (m Method) Describe() string {
	d, err := Lookup(m.Sampler)
	if err != nil {
		return m.Sampler
	}
	return d.Describe(m.Sampling)
}

// Choice is a tuned optimiser setting: what tune.json records per method.
type Choice struct {
	LR       float64 `json:"lr"`
	Momentum float64 `json:"momentum"`
	// Schedule is the chosen learning-rate schedule, when tune tried
	// several ("" otherwise: the method keeps its own).
	Schedule string `json:"schedule,omitempty"`
}

// methodName is the alphabet of method names.
var methodName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// CheckMethodName reports a method name that the command line would
// refuse (1–64 characters of A–Z, a–z, 0–9, '.', '_' and '-'): result
// files are held to the same rule when read back.
func CheckMethodName(name string) error {
	if !methodName.MatchString(name) {
		return fmt.Errorf("method name %q: not 1–64 characters of A–Z, a–z, 0–9, '.', '_' and '-'", name)
	}
	return nil
}

// decimalInt is a decimal integer without sign or leading zeros.
var decimalInt = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)

// decimalFloat is a decimal number: optional sign, digits with an optional
// point, optional exponent (no hexadecimal, no NaN or Inf).
var decimalFloat = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// MaxMethodBatch bounds the batch= of a method.
const MaxMethodBatch = 1 << 16

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

// parseFloatIn parses a decimal number for which ok holds, described by
// interval for the error.
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

// commonKeys are the keys of a method spec that every sampler takes.
var commonKeys = []string{"sampler", "lr", "momentum", "batch", "tuned", "order-seed", "schedule", "warmup", "budget"}

// MethodKeys lists the keys a method spec may set for sampler s.
func MethodKeys(s string) []string {
	out := slices.Clone(commonKeys)
	if d, err := Lookup(s); err == nil {
		for _, st := range d.Settings {
			out = append(out, st.Key)
		}
	}
	return out
}

// knownKeys lists the keys of every sampler, for errors.
func knownKeys() string {
	s := strings.Join(commonKeys, ", ")
	for _, d := range Methods {
		var own []string
		for _, st := range d.Settings {
			own = append(own, st.Key)
		}
		if len(own) > 0 {
			s += "; for " + d.Name + " " + strings.Join(own, ", ")
		}
	}
	return s
}

// keyOwner returns the descriptor and setting of a sampler's key, or nils
// for a common key; known is false for an unknown key.
func keyOwner(key string) (d *Descriptor, st *Setting, known bool) {
	if slices.Contains(commonKeys, key) {
		return nil, nil, true
	}
	for i := range Methods {
		for j := range Methods[i].Settings {
			if Methods[i].Settings[j].Key == key {
				return &Methods[i], &Methods[i].Settings[j], true
			}
		}
	}
	return nil, nil, false
}

// ParseMethod parses a method spec "name[:key=value,...]" against the base
// configuration of a comparison (and the tuned settings, when a tuning file
// was given; nil otherwise). Every sampler takes the keys
//
//	sampler=NAME     one of Samplers() (default: the name when it is a
//	                 sampler's, else sgds)
//	lr=X, momentum=Y, batch=B   (default the base's)
//	tuned=NAME       lr and momentum of tuning entry NAME
//	order-seed=N     another data order from the same initial weights (0)
//	schedule=NAME, warmup=W, budget=F   the learning-rate schedule, its
//	                 warm-up share and the budget (Config; default the base's)
//
// and each sampler its own settings' keys (Methods: Setting.Key, e.g.
// drop= for sgds, frac= for rs2, r= for infobatch), which start from the
// base's settings of that sampler where it has them, else from the
// sampler's defaults.
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
	fail := func(format string, args ...any) (Method, error) {
		return Method{}, fmt.Errorf("method %q: %s", spec, fmt.Sprintf(format, args...))
	}
	kv := map[string]string{}
	var order []string
	if hasRest {
		for _, pair := range strings.Split(rest, ",") {
			k, v, ok := strings.Cut(pair, "=")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if !ok || k == "" || v == "" {
				return fail("%q is not key=value", pair)
			}
			if _, _, known := keyOwner(k); !known {
				return fail("unknown key %q (known: %s)", k, knownKeys())
			}
			if _, dup := kv[k]; dup {
				return fail("%s is given twice", k)
			}
			kv[k] = v
			order = append(order, k)
		}
	}
	m := Method{Name: name, LR: base.LR, Momentum: base.Momentum, Batch: base.Batch,
		LRSchedule: base.LRSchedule, Warmup: base.Warmup, Budget: base.Budget}
	m.Sampler = "sgds"
	if slices.Contains(Samplers(), name) {
		m.Sampler = name
	}
	if s, ok := kv["sampler"]; ok {
		if !slices.Contains(Samplers(), s) {
			return fail("sampler=%s: want one of %s", s, strings.Join(Samplers(), ", "))
		}
		m.Sampler = s
	}
	d, _ := Lookup(m.Sampler)
	// The base's settings of this sampler, else its defaults.
	if d.Present(&base.Sampling) {
		own := base.Sampling.Clone()
		for i := range Methods {
			if &Methods[i] != d {
				Methods[i].Clear(&own)
			}
		}
		m.Sampling = own
	} else {
		d.Reset(&m.Sampling)
	}
	m.Sampler = d.Name
	for _, st := range d.Settings {
		if _, ok := kv[st.Key]; st.Required && !ok && !d.Present(&m.Sampling) {
			return fail("sampler %s needs %s=%s, %s", d.Name, st.Key, st.Value, strings.ReplaceAll(st.Usage, "`", ""))
		}
	}
	for _, k := range order {
		owner, st, _ := keyOwner(k)
		switch {
		case owner == nil:
			if err := m.setCommon(k, kv[k]); err != nil {
				return fail("%v", err)
			}
		case owner != d:
			return fail("%s= applies to sampler %s, not to %s", k, owner.Name, m.Sampler)
		default:
			v, err := st.Parse(k, kv[k])
			if err != nil {
				return fail("%v", err)
			}
			st.Set(&m.Sampling, v)
		}
	}
	if t, ok := kv["tuned"]; ok {
		if _, lr := kv["lr"]; lr {
			return fail("tuned= sets lr and momentum; lr= cannot be given with it")
		}
		if _, mom := kv["momentum"]; mom {
			return fail("tuned= sets lr and momentum; momentum= cannot be given with it")
		}
		if tuned == nil {
			return fail("tuned=%s needs a tuning file (--tuned FILE)", t)
		}
		ch, ok := tuned[t]
		if !ok {
			names := make([]string, 0, len(tuned))
			for n := range tuned {
				names = append(names, n)
			}
			slices.Sort(names)
			return fail("tuned=%s: the tuning file has no method %s (it has %s)", t, t, strings.Join(names, ", "))
		}
		m.LR, m.Momentum, m.Tuned = ch.LR, ch.Momentum, t
		if ch.Schedule != "" {
			if _, given := kv["schedule"]; given {
				return fail("tuned=%s chose schedule %s; schedule= cannot be given with it", t, ch.Schedule)
			}
			m.LRSchedule = ch.Schedule
		}
	}
	if err := m.Config(base).Validate(); err != nil {
		return fail("%v", err)
	}
	return m, nil
}

// setCommon sets a key every sampler takes (sampler= and tuned= are read
// by ParseMethod).
func (m *Method) setCommon(key, v string) error {
	switch key {
	case "lr":
		x, err := parseFloatIn(key, v, func(x float64) bool { return x > 0 && x <= 1e6 }, "(0, 1e6]")
		m.LR = x
		return err
	case "momentum":
		x, err := parseFloatIn(key, v, func(x float64) bool { return x >= 0 && x < 1 }, "[0, 1)")
		m.Momentum = x
		return err
	case "batch":
		n, err := parseIntIn(key, v, 1, MaxMethodBatch)
		m.Batch = int(n)
		return err
	case "schedule":
		if err := (training.LRSchedule{Kind: v}).Validate(); err != nil {
			return fmt.Errorf("schedule=%s: %w", v, err)
		}
		m.LRSchedule = v
	case "warmup":
		x, err := parseFloatIn(key, v, func(x float64) bool { return x >= 0 && x < 1 }, "[0, 1)")
		m.Warmup = x
		return err
	case "budget":
		x, err := parseFloatIn(key, v, func(x float64) bool { return x > 0 && x <= MaxBudget }, fmt.Sprintf("(0, %d]", MaxBudget))
		m.Budget = x
		return err
	case "order-seed":
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || !decimalInt.MatchString(v) {
			return fmt.Errorf("order-seed=%s: want a decimal integer in [0, 2^64)", v)
		}
		m.OrderSeed = n
	}
	return nil
}
