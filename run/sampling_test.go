package run

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/sgds/sgds/sampler"
)

// TestDescriptorsConsistent: every flag, key and JSON path names one
// setting; every setting is documented, has a field, and its default
// (after Reset) lies in its range unless the setting is required, which
// has none.
func TestDescriptorsConsistent(t *testing.T) {
	flags, keys, paths := map[string]string{}, map[string]string{}, map[string]string{}
	for _, k := range commonKeys {
		keys[k] = "every sampler"
	}
	for i := range Methods {
		d := &Methods[i]
		if d.Name == "" || d.Summary == "" || d.order == nil {
			t.Errorf("%q: name, summary and order are required", d.Name)
		}
		var def Sampling
		d.Reset(&def)
		for j := range d.Settings {
			st := &d.Settings[j]
			for _, u := range []struct {
				seen map[string]string
				name string
			}{{flags, st.Flag}, {keys, st.Key}, {paths, st.JSON}} {
				if other, dup := u.seen[u.name]; dup || u.name == "" {
					t.Errorf("%s: %q is empty or also %s's", d.Name, u.name, other)
				}
				u.seen[u.name] = d.Name
			}
			if st.Usage == "" || st.field == nil || (st.Kind != KindBool && st.Value == "") || (st.Kind == KindChoice) != (len(st.Choices) > 0) {
				t.Errorf("%s --%s: usage, field, placeholder or choices missing", d.Name, st.Flag)
			}
			if st.Kind != KindBool && !strings.Contains(st.Usage, "`"+st.Value+"`") {
				t.Errorf("%s --%s: the usage does not name its value `%s`", d.Name, st.Flag, st.Value)
			}
			if err := st.Check(st.Get(&def)); (err == nil) == st.Required {
				t.Errorf("%s --%s: default %v, required %t: %v", d.Name, st.Flag, st.Get(&def), st.Required, err)
			}
		}
	}
}

// aroundBounds lists values of st at, inside and outside its range.
func aroundBounds(st *Setting) []any {
	switch st.Kind {
	case KindBool:
		return []any{false, true}
	case KindChoice:
		return append(slicesOf(st.Choices), "bogus", "")
	case KindInt:
		lo, hi := int(st.Lo), int(math.Min(st.Hi, math.MaxInt32))
		return []any{lo - 1, lo, lo + 1, hi - 1, hi, hi + 1}
	}
	hi := st.Hi
	if math.IsInf(hi, 1) {
		hi = 1e300
	}
	return []any{st.Lo - 0.1, st.Lo, math.Nextafter(st.Lo, math.Inf(1)), (st.Lo + hi) / 2, math.Nextafter(hi, math.Inf(-1)),
		hi, hi + 0.1, math.Inf(1), math.Inf(-1), math.NaN()}
}

func slicesOf(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// peerConfigOf is a valid configuration of sampler d at its defaults.
func peerConfigOf(d *Descriptor) Config {
	c := validConfig()
	c.Epochs = 8
	c.Sampling = Sampling{Sampler: d.Name}
	d.Reset(&c.Sampling)
	if d.Name == "rs2" {
		c.Frac = 0.5
	}
	return c
}

// TestSettingRangesAreTheSampler: around every bound of every setting, a
// setting's range accepts exactly what the sampler package's own rules
// accept (the descriptor's check, on an otherwise default configuration),
// and Config.Validate names the flag of a value out of range.
func TestSettingRangesAreTheSampler(t *testing.T) {
	for i := range Methods {
		d := &Methods[i]
		for j := range d.Settings {
			st := &d.Settings[j]
			for _, v := range aroundBounds(st) {
				c := peerConfigOf(d)
				c.Sampling = c.Sampling.Clone()
				st.Set(&c.Sampling, v)
				inRange := st.Check(v) == nil
				if d.check != nil && strings.Contains(st.JSON, ".") { // a field of the sampler's own configuration
					b := c
					b.Sampling = b.Sampling.Clone()
					b.bind()
					if err := d.check(b); (err == nil) != inRange {
						t.Errorf("%s --%s %v: range says %t, the sampler says %v", d.Name, st.Flag, v, inRange, err)
					} else if err != nil && !errors.Is(err, sampler.ErrBadConfig) {
						t.Errorf("%s --%s %v: %v does not wrap sampler.ErrBadConfig", d.Name, st.Flag, v, err)
					}
				}
				err := c.Validate()
				if (err == nil) != inRange {
					t.Errorf("%s --%s %v: Validate says %v, range says %t", d.Name, st.Flag, v, err, inRange)
				}
				if err != nil && !strings.Contains(err.Error(), "--"+st.Flag) {
					t.Errorf("%s --%s %v: %q does not name the flag", d.Name, st.Flag, v, err)
				}
			}
		}
	}
}

// distinctValue returns a valid value of st other than its default def.
func distinctValue(st *Setting, def any) any {
	switch st.Kind {
	case KindBool:
		return !def.(bool)
	case KindChoice:
		for _, c := range st.Choices {
			if c != def {
				return c
			}
		}
	case KindInt:
		return int(st.Lo) + 1
	}
	x := st.Lo + 0.25
	if x == def {
		x = st.Lo + 0.125
	}
	return x
}

// TestSettingsRoundTrip sets every setting of every sampler to a value
// other than its default, then through summary.json's JSON (the path
// Setting.JSON names), back into a Config, through a method spec and the
// method's Config: every value survives each step.
func TestSettingsRoundTrip(t *testing.T) {
	for i := range Methods {
		d := &Methods[i]
		c := peerConfigOf(d)
		var def Sampling
		d.Reset(&def)
		want := map[string]any{}
		var spec []string
		for j := range d.Settings {
			st := &d.Settings[j]
			v := distinctValue(st, st.Get(&def))
			if st.Flag == "unbiased" {
				v = false // unbiased overrides debias; both are set apart
			}
			st.Set(&c.Sampling, v)
			want[st.Flag] = v
			spec = append(spec, st.Key+"="+strings.Trim(strings.ReplaceAll(jsonText(t, v), `"`, ""), " "))
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		var back Config
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		m, err := ParseMethod(d.Name+"-x:sampler="+d.Name+","+strings.Join(spec, ","), c, nil)
		if err != nil && len(spec) > 0 {
			t.Fatalf("%s: %v", d.Name, err)
		}
		mc := m.Config(c)
		for j := range d.Settings {
			st := &d.Settings[j]
			at := any(doc)
			for _, k := range strings.Split(st.JSON, ".") {
				at = at.(map[string]any)[k]
			}
			if jsonText(t, at) != jsonText(t, want[st.Flag]) {
				t.Errorf("%s: JSON %s is %v, want %v", d.Name, st.JSON, at, want[st.Flag])
			}
			for what, got := range map[string]any{"JSON": st.Get(&back.Sampling), "method spec": st.Get(&mc.Sampling)} {
				if got != want[st.Flag] {
					t.Errorf("%s --%s: after the %s %v, want %v", d.Name, st.Flag, what, got, want[st.Flag])
				}
			}
		}
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestScratchMethod adds a method the way a contributor would, by one
// descriptor, and uses it through every path that derives from the
// registry: the sampler list, Lookup, a method spec, validation and the
// order. It is removed when the test ends.
func TestScratchMethod(t *testing.T) {
	saved := Methods
	t.Cleanup(func() { Methods = saved })
	Methods = append(slices.Clone(saved), Descriptor{Name: "scratch", Summary: "the data set in its stored order (a test method)",
		order: func(c Config, n int, _, _ uint64) (sampler.Order, error) { return sampler.NewSequential(n) }})
	if !slices.Contains(Samplers(), "scratch") {
		t.Fatalf("Samplers() = %v", Samplers())
	}
	m, err := ParseMethod("scratch:lr=0.02", methodBase(), nil)
	if err != nil || m.Sampler != "scratch" || m.Describe() != "scratch" {
		t.Fatalf("%+v %v", m, err)
	}
	if _, err := ParseMethod("s2:sampler=scratch,drop=0.3", methodBase(), nil); err == nil || !strings.Contains(err.Error(), "drop= applies to sampler sgds, not to scratch") {
		t.Fatalf("a key of another sampler: %v", err)
	}
	c := m.Config(methodBase())
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	o, err := NewOrder(c, 10)
	if _, ok := o.(*sampler.Sequential); err != nil || !ok {
		t.Fatalf("order %T, %v", o, err)
	}
}
