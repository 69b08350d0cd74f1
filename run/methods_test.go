package run

import (
	"slices"
	"strings"
	"testing"

	"github.com/sgds/sgds/sampler"
)

func methodBase() Config {
	c := validConfig()
	c.Sampler, c.Schedule = "", nil
	return c
}

func TestParseMethod(t *testing.T) {
	tuned := map[string]Choice{"uniform": {LR: 0.05, Momentum: 0.9}}
	cases := []struct {
		spec string
		want Method
	}{
		{"uniform", Method{Name: "uniform", Sampling: Sampling{Sampler: "uniform"}, LR: 0.01, Momentum: 0.5, Batch: 64}},
		{"u-fast:sampler=uniform,lr=0.05,momentum=0.9,batch=128", Method{Name: "u-fast", Sampling: Sampling{Sampler: "uniform"}, LR: 0.05, Momentum: 0.9, Batch: 128}},
		{"u.tuned:sampler=uniform,tuned=uniform", Method{Name: "u.tuned", Sampling: Sampling{Sampler: "uniform"}, LR: 0.05, Momentum: 0.9, Batch: 64, Tuned: "uniform"}},
		{"rs2:frac=0.3", Method{Name: "rs2", Sampling: Sampling{Sampler: "rs2", Frac: 0.3}, LR: 0.01, Momentum: 0.5, Batch: 64}},
		{"r:sampler=rs2,frac=1", Method{Name: "r", Sampling: Sampling{Sampler: "rs2", Frac: 1}, LR: 0.01, Momentum: 0.5, Batch: 64}},
		{"uniform-replace", Method{Name: "uniform-replace", Sampling: Sampling{Sampler: "uniform-replace"}, LR: 0.01, Momentum: 0.5, Batch: 64}},
		{"u2:sampler=uniform,order-seed=18446744073709551615", Method{Name: "u2", Sampling: Sampling{Sampler: "uniform"}, LR: 0.01, Momentum: 0.5, Batch: 64, OrderSeed: 1<<64 - 1}},
	}
	for _, c := range cases {
		m, err := ParseMethod(c.spec, methodBase(), tuned)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		if m != c.want {
			t.Fatalf("%s: %+v, want %+v", c.spec, m, c.want)
		}
	}
	m, err := ParseMethod("d30_m10:drop=0.3,mix=0.1,transient=0,lr=0.02,score=lastlayer,unbiased=true,readd-score=mean,kept-floor=0.2,readd=0.02", methodBase(), nil)
	if err != nil {
		t.Fatal(err)
	}
	sc := m.Schedule
	if m.Sampler != "sgds" || m.LR != 0.02 || m.Score != "lastlayer" || sc.DropFrac != 0.3 || sc.Mix != 0.1 || sc.TransientEpochs != 0 ||
		!sc.Unbiased || sc.ReaddScore != "mean" || sc.KeptFloor != 0.2 || sc.ReaddFrac != 0.02 {
		t.Fatalf("sgds method %+v, schedule %+v", m, *sc)
	}
	if c := m.Config(methodBase()); c.Schedule.BatchSize != 64 || c.Sampler != "sgds" || c.LR != 0.02 {
		t.Fatalf("config %+v", c)
	}
}

// TestParseMethodErrors expects every malformed spec to be refused with
// an error naming what is wrong (and the accepted range for numbers).
func TestParseMethodErrors(t *testing.T) {
	tuned := map[string]Choice{"uniform": {LR: 0.05, Momentum: 0.9}}
	cases := []struct{ spec, want string }{
		{"", "name"},
		{":drop=0.3", "name"},
		{"a b:drop=0.3", "name"},
		{"ünï:drop=0.3", "name"},
		{strings.Repeat("x", 65), "name"},
		{"x:transient=2.9", "transient=2.9: want a decimal integer in [0, 2147483647]"},
		{"x:transient=1e30", "transient=1e30: want a decimal integer"},
		{"x:transient=010", "transient=010: want a decimal integer"},
		{"x:transient=0x10", "transient=0x10: want a decimal integer"},
		{"x:transient=-1", "transient=-1: want a decimal integer"},
		{"x:transient=99999999999999999999", "transient=99999999999999999999: want a decimal integer"},
		{"x:batch=0", "batch=0: want a decimal integer in [1, 65536]"},
		{"x:batch=+64", "batch=+64"},
		{"x:lr=0x1p-3", "lr=0x1p-3: want a decimal number in (0, 1e6]"},
		{"x:lr=NaN", "lr=NaN"},
		{"x:lr=inf", "lr=inf"},
		{"x:lr=0", "lr=0: want a decimal number in (0, 1e6]"},
		{"x:momentum=1", "momentum=1: want a decimal number in [0, 1)"},
		{"x:drop=1", "drop=1: want a decimal number in [0, 1)"},
		{"x:mix=1.5", "mix=1.5: want a decimal number in [0, 1]"},
		{"x:unbiased=1", "unbiased=1: want true or false"},
		{"x:readd-score=oldest", "readd-score=oldest"},
		{"x:score=entropy", "score=entropy"},
		{"x:speed=3", `unknown key "speed"`},
		{"u:sampler=uniform,order-seed=-1", "order-seed=-1: want a decimal integer in [0, 2^64)"},
		{"u:sampler=uniform,order-seed=18446744073709551616", "order-seed=18446744073709551616"},
		{"u:sampler=uniform,order-seed=07", "order-seed=07"},
		{"x:drop", `"drop" is not key=value`},
		{"x:drop=", `"drop=" is not key=value`},
		{"x:drop=0.3,", `"" is not key=value`},
		{"x:drop=0.3,drop=0.2", "drop is given twice"},
		{"x:sampler=greedy", "sampler=greedy: want one of"},
		{"u:sampler=uniform,drop=0.3", "drop= applies to sampler sgds, not to uniform"},
		{"uniform:frac=0.3", "frac= applies to sampler rs2, not to uniform"},
		{"rs2", "sampler rs2 needs frac=F"},
		{"rs2:frac=0", "frac=0: want a decimal number in (0, 1]"},
		{"rs2:frac=1.01", "frac=1.01"},
		{"rs2:score=loss,frac=0.3", "score= applies to sampler sgds, not to rs2"},
		{"u:sampler=uniform,tuned=sgds", "the tuning file has no method sgds"},
		{"u:sampler=uniform,tuned=uniform,lr=0.1", "lr= cannot be given with it"},
	}
	for _, c := range cases {
		_, err := ParseMethod(c.spec, methodBase(), tuned)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want an error containing %q", c.spec, err, c.want)
		}
	}
	if _, err := ParseMethod("u:tuned=uniform", methodBase(), nil); err == nil || !strings.Contains(err.Error(), "--tuned") {
		t.Errorf("tuned= without a file: %v", err)
	}
	b := methodBase()
	b.EvalEvery = 100
	if _, err := ParseMethod("u:sampler=uniform,batch=128", b, nil); err == nil || !strings.Contains(err.Error(), "--eval-every") {
		t.Errorf("batch above the grid step: %v", err)
	}
}

// FuzzParseMethod: ParseMethod never panics, and every spec it accepts
// gives a configuration that validates, with a well-formed name.
func FuzzParseMethod(f *testing.F) {
	for _, s := range []string{"uniform", "rs2:frac=0.3", "d:drop=0.3,mix=0.1,kept-floor=0.2", "u:sampler=uniform,lr=0.05,momentum=0.9",
		"x:transient=2", "x:batch=32,score=gradnorm", "t:tuned=uniform,sampler=uniform", "x:unbiased=true,readd-score=mean", "x:lr=1e-3",
		"infobatch:r=0.3,anneal=1", "sb:sampler=selective-backprop,beta=0,window=8", "kf-is:k=2,threshold=0,tau-momentum=0.5", "kakurenbo:hide=0.2,tau=0.9"} {
		f.Add(s)
	}
	tuned := map[string]Choice{"uniform": {LR: 0.05, Momentum: 0.9}, "bad": {LR: -1, Momentum: 2}}
	f.Fuzz(func(t *testing.T, spec string) {
		m, err := ParseMethod(spec, methodBase(), tuned)
		if err != nil {
			return
		}
		if !methodName.MatchString(m.Name) {
			t.Fatalf("%q: accepted name %q", spec, m.Name)
		}
		if err := m.Config(methodBase()).Validate(); err != nil {
			t.Fatalf("%q: accepted, but its configuration is invalid: %v", spec, err)
		}
	})
}

// TestOrderSeed: order-seed 0 keeps the order of the seed (the orders of
// earlier runs), another order seed gives another order for every
// sampler that draws, and Method.Config carries it.
func TestOrderSeed(t *testing.T) {
	m, err := ParseMethod("u2:sampler=uniform,order-seed=1", methodBase(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Config(methodBase()); c.OrderSeed != 1 || c.Seed != methodBase().Seed {
		t.Fatalf("config %+v", c)
	}
	plan := func(c Config) []int {
		t.Helper()
		o, err := NewOrder(c, 200)
		if err != nil {
			t.Fatal(err)
		}
		p, err := o.Plan(1)
		if err != nil {
			t.Fatal(err)
		}
		return p.Indices
	}
	for _, s := range []string{"uniform", "uniform-replace", "infobatch"} {
		c := peerConfig(s)
		if s != "infobatch" {
			c.InfoBatch = nil
		}
		c.Seed = 3
		base := plan(c)
		if s == "uniform" { // the seed's own stream, as before order seeds existed
			sh, err := sampler.NewShuffled(200, 3^0x9e3779b97f4a7c15)
			if err != nil {
				t.Fatal(err)
			}
			if p, _ := sh.Plan(1); !slices.Equal(base, p.Indices) {
				t.Fatal("order seed 0 changed uniform's order")
			}
		}
		c.OrderSeed = 1
		o1 := plan(c)
		c.OrderSeed = 2
		o2 := plan(c)
		if slices.Equal(base, o1) || slices.Equal(o1, o2) {
			t.Fatalf("%s: order seeds 0, 1, 2 give the same order", s)
		}
	}
}

// TestTunedSchedule: a tuning choice with a schedule gives it to the
// method; schedule= cannot be given with it.
func TestTunedSchedule(t *testing.T) {
	tuned := map[string]Choice{"uniform": {LR: 0.05, Momentum: 0.9, Schedule: "linear"}}
	m, err := ParseMethod("u:sampler=uniform,tuned=uniform,budget=0.3", methodBase(), tuned)
	if err != nil || m.LRSchedule != "linear" || m.LR != 0.05 || m.Budget != 0.3 {
		t.Fatalf("%+v %v", m, err)
	}
	if c := m.Config(methodBase()); c.LRSchedule != "linear" || c.Budget != 0.3 || c.PlannedEpochs() != 1 {
		t.Fatalf("config %+v", c)
	}
	if _, err := ParseMethod("u:sampler=uniform,tuned=uniform,schedule=cosine", methodBase(), tuned); err == nil {
		t.Fatal("schedule= with a tuned schedule accepted")
	}
	for spec, want := range map[string]string{"u:schedule=exp": "schedule=exp", "u:warmup=1": "warmup=1", "u:budget=0": "budget=0"} {
		if _, err := ParseMethod(spec, methodBase(), nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", spec, err)
		}
	}
}
