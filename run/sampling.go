package run

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/sgds/sgds/sampler"
)

// Sampling is the sample order of a run and its settings: the sampler's
// name and, for the sampler that reads them, its own configuration. Config
// and Method embed it, so a run's summary.json, a checkpoint and a
// comparison's compare.json record the same keys. Each field but Sampler
// belongs to one sampler (see Methods); nil (or zero) means the sampler's
// defaults where the sampler is another's, and is refused otherwise.
type Sampling struct {
	Sampler string `json:"sampler"`
	// Score is the per-sample score the sgds sampler draws by
	// (engine.Scores); "" is loss.
	Score string `json:"score,omitempty"`
	// Frac is the fraction of the training set RS2 visits per epoch, in
	// (0, 1].
	Frac float64 `json:"frac,omitempty"`
	// Schedule holds the SGD-S knobs (sgds).
	Schedule *sampler.ScheduleConfig `json:"schedule,omitempty"`
	// The settings of the peer methods (docs/METHOD.md §8): the sampler
	// package's own configurations, whose run-derived fields (batch,
	// epochs) the run fills in.
	InfoBatch *sampler.InfoBatchConfig         `json:"infobatch,omitempty"`
	Selective *sampler.SelectiveBackpropConfig `json:"selective_backprop,omitempty"`
	KF        *sampler.KFConfig                `json:"kf_is,omitempty"`
	Kakurenbo *sampler.KakurenboConfig         `json:"kakurenbo,omitempty"`
}

// Clone returns a copy of s that shares no settings with it.
func (s Sampling) Clone() Sampling {
	v := reflect.ValueOf(&s).Elem()
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			c := reflect.New(f.Type().Elem())
			c.Elem().Set(f.Elem())
			f.Set(c)
		}
	}
	return s
}

// Kind is the type of a Setting's value.
type Kind int

// The kinds of setting values.
const (
	KindFloat  Kind = iota // float64, decimal, finite
	KindInt                // int, decimal
	KindBool               // true or false
	KindChoice             // one of Setting.Choices
)

// Setting is one knob of a sampler: train's flag --Flag (also the key of a
// YAML --config), the key Key= of a compare or tune method spec, its path
// in the configuration's JSON (JSON, dot-separated) and its field in
// Sampling. Its value lies in the range [Lo, Hi] (ends open where LoOpen,
// HiOpen; Hi = +Inf for none) or among Choices.
type Setting struct {
	Flag, Key, JSON string
	// Value is the placeholder of the flag's help (--drop FRAC).
	Value string
	// Usage is the flag's help and the doc of the key, without the
	// sampler's name.
	Usage string
	Kind  Kind
	Lo    float64
	Hi    float64
	// LoOpen and HiOpen exclude the ends of the range.
	LoOpen, HiOpen bool
	// Want says what a value must be, for errors ("a probability r").
	Want    string
	Choices []string
	// Required settings have no default (rs2's frac).
	Required bool
	field    func(*Sampling) any // a pointer to the value
}

// Descriptor is everything sgds knows of one sampling method: its name,
// a one-line description, its settings, its defaults and how to build its
// order. The flags of train, compare and tune, the keys of a method spec,
// validation, the --config and summary.json keys, the resume conflict check
// and the help and README listings all derive from Methods.
type Descriptor struct {
	Name    string
	Summary string
	// Settings are the sampler's own knobs (none for the plain orders).
	Settings []Setting
	// present reports whether s carries this sampler's settings; reset
	// sets them to the defaults, clear removes them.
	present func(s *Sampling) bool
	reset   func(s *Sampling)
	clear   func(s *Sampling)
	// bind fills the settings' run-derived fields (batch, epochs) from c.
	bind func(c *Config)
	// check applies the sampler package's own rules to the whole
	// configuration, after every setting was checked on its own.
	check func(c Config) error
	// order builds the sample order over n samples; seed drives its
	// shuffles, draw the sampler's own random choices.
	order func(c Config, n int, seed, draw uint64) (sampler.Order, error)
}

// Samplers lists the names of Methods, in order.
func Samplers() []string {
	names := make([]string, len(Methods))
	for i, d := range Methods {
		names[i] = d.Name
	}
	return names
}

// Lookup returns the descriptor of sampler name.
func Lookup(name string) (*Descriptor, error) {
	for i := range Methods {
		if Methods[i].Name == name {
			return &Methods[i], nil
		}
	}
	return nil, fmt.Errorf("unknown sampler %q (known: %s)", name, strings.Join(Samplers(), ", "))
}

// Owner returns the descriptor whose setting has flag name, or nil.
func Owner(flag string) (*Descriptor, *Setting) {
	for i := range Methods {
		for j := range Methods[i].Settings {
			if Methods[i].Settings[j].Flag == flag {
				return &Methods[i], &Methods[i].Settings[j]
			}
		}
	}
	return nil, nil
}

// Present reports whether s carries d's settings.
func (d *Descriptor) Present(s *Sampling) bool { return d.present != nil && d.present(s) }

// Reset sets s's settings of d to d's defaults.
func (d *Descriptor) Reset(s *Sampling) {
	if d.reset != nil {
		d.reset(s)
	}
}

// Ensure sets s's settings of d to d's defaults where s carries none.
func (d *Descriptor) Ensure(s *Sampling) {
	if !d.Present(s) {
		d.Reset(s)
	}
}

// Clear removes d's settings from s.
func (d *Descriptor) Clear(s *Sampling) {
	if d.clear != nil {
		d.clear(s)
	}
}

// Get returns the value of st in s (whose settings of st's sampler must
// be present): a float64, int, bool or string.
func (st *Setting) Get(s *Sampling) any {
	v := reflect.ValueOf(st.field(s)).Elem()
	switch st.Kind {
	case KindFloat:
		return v.Float()
	case KindInt:
		return int(v.Int())
	case KindBool:
		return v.Bool()
	}
	return v.String()
}

// Set sets st in s to v (a float64, int, bool or string, by Kind), unchecked.
func (st *Setting) Set(s *Sampling, v any) {
	f := reflect.ValueOf(st.field(s)).Elem()
	switch x := v.(type) {
	case float64:
		f.SetFloat(x)
	case int:
		f.SetInt(int64(x))
	case bool:
		f.SetBool(x)
	case string:
		f.SetString(x)
	default:
		panic(fmt.Sprintf("run: setting %s: value of type %T", st.Flag, v))
	}
}

// Interval is the range of a numeric setting as text: "[0, 1)".
func (st *Setting) Interval() string {
	lo, hi := "[", "]"
	if st.LoOpen {
		lo = "("
	}
	if st.HiOpen || math.IsInf(st.Hi, 1) {
		hi = ")"
	}
	h := number(st.Hi)
	if math.IsInf(st.Hi, 1) {
		h = "∞"
	}
	return fmt.Sprintf("%s%s, %s%s", lo, number(st.Lo), h, hi)
}

// number formats a bound: integers in full, others shortest.
func number(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// Range describes the values st accepts: its interval or its choices.
func (st *Setting) Range() string {
	switch st.Kind {
	case KindBool:
		return "true or false"
	case KindChoice:
		return "one of " + strings.Join(st.Choices, ", ")
	}
	return st.Interval()
}

// Check reports a value of st outside its range (nil when inside).
func (st *Setting) Check(v any) error {
	ok := true
	switch st.Kind {
	case KindFloat, KindInt:
		var x float64
		if n, isInt := v.(int); isInt {
			x = float64(n)
		} else {
			x = v.(float64)
		}
		ok = !math.IsNaN(x) && !math.IsInf(x, 0) &&
			(x > st.Lo || !st.LoOpen && x == st.Lo) && (x < st.Hi || !st.HiOpen && x == st.Hi)
	case KindChoice:
		ok = slices.Contains(st.Choices, v.(string))
	}
	if ok {
		return nil
	}
	want := st.Want
	if want != "" {
		want += " "
	}
	if st.Kind == KindChoice {
		return fmt.Errorf("needs %s%s, got %q", want, st.Range(), v)
	}
	return fmt.Errorf("needs %sin %s, got %v", want, st.Range(), v)
}

// Parse reads a value of st from text strictly: integers decimal without
// sign or leading zeros, numbers decimal (no hexadecimal, NaN or Inf),
// booleans true or false; the value must lie in st's range. Errors name
// the setting as key=text.
func (st *Setting) Parse(key, text string) (any, error) {
	switch st.Kind {
	case KindInt:
		n, err := parseIntIn(key, text, int64(st.Lo), int64(math.Min(st.Hi, math.MaxInt64)))
		return int(n), err
	case KindFloat:
		x, err := parseFloatIn(key, text, func(x float64) bool { return st.Check(x) == nil }, st.Interval()+st.note())
		return x, err
	case KindBool:
		if text != "true" && text != "false" {
			return nil, fmt.Errorf("%s=%s: want true or false", key, text)
		}
		return text == "true", nil
	}
	if !slices.Contains(st.Choices, text) {
		return nil, fmt.Errorf("%s=%s: want %s", key, text, strings.Join(st.Choices, " or "))
	}
	return text, nil
}

// note is what a zero means, where the usage says so in brackets at its
// start ("0: …").
func (st *Setting) note() string {
	if i := strings.Index(st.Usage, "(0: "); i >= 0 && strings.HasPrefix(st.Want, "0") {
		return " " + st.Usage[i:strings.Index(st.Usage[i:], ")")+i+1]
	}
	return ""
}

// Describe names c's sampler with its settings, for tables:
// "rs2 (frac 0.3)".
func (d *Descriptor) Describe(s Sampling) string {
	d.Ensure(&s)
	if len(d.Settings) == 0 {
		return d.Name
	}
	parts := make([]string, 0, len(d.Settings))
	for i := range d.Settings {
		st := &d.Settings[i]
		parts = append(parts, fmt.Sprintf("%s %v", st.Key, st.Get(&s)))
	}
	return d.Name + " (" + strings.Join(parts, ", ") + ")"
}

// validate checks the settings of c's sampler one at a time, naming the
// flag at fault, then by the sampler package's own rules, and refuses the
// settings of another sampler.
func (d *Descriptor) validate(c Config) error {
	for i := range Methods {
		o := &Methods[i]
		if o != d && o.Present(&c.Sampling) {
			var flags []string
			for _, st := range o.Settings {
				flags = append(flags, "--"+st.Flag)
			}
			return fmt.Errorf("%s apply to the %s sampler only, not to %q", strings.Join(flags, ", "), o.Name, c.Sampler)
		}
	}
	s := c.Sampling
	d.Ensure(&s)
	for i := range d.Settings {
		st := &d.Settings[i]
		if err := st.Check(st.Get(&s)); err != nil {
			return fmt.Errorf("--%s: the %s sampler %w", st.Flag, d.Name, err)
		}
	}
	if d.check != nil {
		c.Sampling = s.Clone()
		c.bind()
		return d.check(c)
	}
	return nil
}
