package run

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/sgds/sgds/sampler"
	"github.com/sgds/sgds/training"
)

func peerConfig(s string) Config {
	c := validConfig()
	c.Sampler, c.Schedule, c.Epochs = s, nil, 8
	return c
}

// TestPeerSettingsValidate: every peer runs with its defaults (nil
// settings) and at the ends of its ranges; a value out of range is refused
// naming its flag, as are settings given to another sampler and a score
// other than the loss.
func TestPeerSettingsValidate(t *testing.T) {
	ok := []func(c *Config){
		func(c *Config) { *c = peerConfig("infobatch") },
		func(c *Config) {
			*c = peerConfig("infobatch")
			c.InfoBatch = &sampler.InfoBatchConfig{Prune: 0, Anneal: 1}
		},
		func(c *Config) {
			*c = peerConfig("infobatch")
			c.InfoBatch = &sampler.InfoBatchConfig{Prune: 0.99, Anneal: 0}
		},
		func(c *Config) { *c = peerConfig("selective-backprop") },
		func(c *Config) {
			*c = peerConfig("selective-backprop")
			c.Selective = &sampler.SelectiveBackpropConfig{Beta: 0, Window: 1}
		},
		func(c *Config) {
			*c = peerConfig("selective-backprop")
			c.Selective = &sampler.SelectiveBackpropConfig{Beta: 1e300, Window: 1 << 24}
		},
		func(c *Config) { *c = peerConfig("kf-is") },
		func(c *Config) {
			*c = peerConfig("kf-is")
			c.KF = &sampler.KFConfig{Presample: 1, Threshold: 0, Momentum: 0}
		},
		func(c *Config) {
			*c = peerConfig("kf-is")
			c.KF = &sampler.KFConfig{Presample: 1 << 20, Threshold: 5, Momentum: 0.99}
		},
		func(c *Config) { *c = peerConfig("kakurenbo") },
		func(c *Config) {
			*c = peerConfig("kakurenbo")
			c.Kakurenbo = &sampler.KakurenboConfig{MaxHide: 0, Confidence: 1}
		},
		func(c *Config) {
			*c = peerConfig("kakurenbo")
			c.Kakurenbo = &sampler.KakurenboConfig{MaxHide: 0.9, Confidence: 1e-9}
		},
	}
	for i, set := range ok {
		var c Config
		set(&c)
		if err := c.Validate(); err != nil {
			t.Errorf("case %d (%s): %v", i, c.Sampler, err)
		}
	}
	nan := math.NaN()
	bad := []struct {
		flag string
		set  func(c *Config)
	}{
		{"--infobatch-r", func(c *Config) {
			*c = peerConfig("infobatch")
			c.InfoBatch = &sampler.InfoBatchConfig{Prune: 1, Anneal: 0.5}
		}},
		{"--infobatch-r", func(c *Config) {
			*c = peerConfig("infobatch")
			c.InfoBatch = &sampler.InfoBatchConfig{Prune: nan, Anneal: 0.5}
		}},
		{"--infobatch-anneal", func(c *Config) {
			*c = peerConfig("infobatch")
			c.InfoBatch = &sampler.InfoBatchConfig{Prune: 0.5, Anneal: 1.1}
		}},
		{"--sb-beta", func(c *Config) {
			*c = peerConfig("selective-backprop")
			c.Selective = &sampler.SelectiveBackpropConfig{Beta: -1, Window: 8}
		}},
		{"--sb-beta", func(c *Config) {
			*c = peerConfig("selective-backprop")
			c.Selective = &sampler.SelectiveBackpropConfig{Beta: math.Inf(1), Window: 8}
		}},
		{"--sb-window", func(c *Config) {
			*c = peerConfig("selective-backprop")
			c.Selective = &sampler.SelectiveBackpropConfig{Beta: 1, Window: 0}
		}},
		{"--sb-window", func(c *Config) {
			*c = peerConfig("selective-backprop")
			c.Selective = &sampler.SelectiveBackpropConfig{Beta: 1, Window: 1<<24 + 1}
		}},
		{"--kf-k", func(c *Config) { *c = peerConfig("kf-is"); c.KF = &sampler.KFConfig{Presample: 0, Momentum: 0.9} }},
		{"--kf-k", func(c *Config) {
			*c = peerConfig("kf-is")
			c.KF = &sampler.KFConfig{Presample: 1<<20 + 1, Momentum: 0.9}
		}},
		{"--kf-threshold", func(c *Config) {
			*c = peerConfig("kf-is")
			c.KF = &sampler.KFConfig{Presample: 3, Threshold: -1, Momentum: 0.9}
		}},
		{"--kf-tau-momentum", func(c *Config) { *c = peerConfig("kf-is"); c.KF = &sampler.KFConfig{Presample: 3, Momentum: 1} }},
		{"--kakurenbo-hide", func(c *Config) {
			*c = peerConfig("kakurenbo")
			c.Kakurenbo = &sampler.KakurenboConfig{MaxHide: 1, Confidence: 0.7}
		}},
		{"--kakurenbo-tau", func(c *Config) {
			*c = peerConfig("kakurenbo")
			c.Kakurenbo = &sampler.KakurenboConfig{MaxHide: 0.3, Confidence: 0}
		}},
		{"--kakurenbo-tau", func(c *Config) {
			*c = peerConfig("kakurenbo")
			c.Kakurenbo = &sampler.KakurenboConfig{MaxHide: 0.3, Confidence: 1.5}
		}},
		{"--infobatch-r", func(c *Config) {
			*c = peerConfig("uniform")
			c.InfoBatch = &sampler.InfoBatchConfig{Prune: 0.5, Anneal: 0.875}
		}},
		{"--kf-k", func(c *Config) { *c = peerConfig("selective-backprop"); d := sampler.DefaultKFConfig(); c.KF = &d }},
		{"--kakurenbo-hide", func(c *Config) {
			*c = peerConfig("sgds")
			c.Kakurenbo = &sampler.KakurenboConfig{MaxHide: 0.3, Confidence: 0.7}
		}},
		{"--score", func(c *Config) { *c = peerConfig("kakurenbo"); c.Score = "gradnorm" }},
		{"--score", func(c *Config) { *c = peerConfig("infobatch"); c.Score = "lastlayer" }},
		{"--score", func(c *Config) { *c = peerConfig("selective-backprop"); c.Score = "gradnorm" }},
		{"--score", func(c *Config) { *c = peerConfig("kf-is"); c.Score = "lastlayer" }},
	}
	for _, b := range bad {
		var c Config
		b.set(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), b.flag) {
			t.Errorf("%s (%s): got %v", b.flag, c.Sampler, err)
		}
	}
}

// TestPeerRulesAreTheSampler: around each bound, Config.Validate accepts
// exactly what the sampler package accepts.
func TestPeerRulesAreTheSampler(t *testing.T) {
	for _, r := range []float64{-0.1, 0, 0.5, 1, nan()} {
		for _, d := range []float64{-0.1, 0, 1, 1.1} {
			c := peerConfig("infobatch")
			c.InfoBatch = &sampler.InfoBatchConfig{Prune: r, Anneal: d}
			agree(t, c, sampler.InfoBatchConfig{BatchSize: c.Batch, Prune: r, Epochs: c.Epochs, Anneal: d}.Validate())
		}
	}
	for _, b := range []float64{-1, 0, 3, math.Inf(1)} {
		for _, w := range []int{0, 1, 1 << 24, 1<<24 + 1} {
			c := peerConfig("selective-backprop")
			c.Selective = &sampler.SelectiveBackpropConfig{Beta: b, Window: w}
			var err error
			if w <= 1<<10 { // the sampler allocates its window
				_, err = sampler.NewSelectiveBackprop(b, w, 1)
			} else if w > 1<<24 || !(b >= 0 && b <= math.MaxFloat64) {
				err = sampler.ErrBadConfig
			}
			agree(t, c, err)
		}
	}
	for _, k := range []int{0, 1, 1 << 20, 1<<20 + 1} {
		for _, th := range []float64{-1, 0, 2} {
			for _, m := range []float64{0, 0.9, 1} {
				c := peerConfig("kf-is")
				c.KF = &sampler.KFConfig{Presample: k, Threshold: th, Momentum: m}
				agree(t, c, sampler.KFConfig{Presample: k, Threshold: th, Momentum: m}.Validate())
			}
		}
	}
	for _, f := range []float64{-0.1, 0, 0.3, 1} {
		for _, tau := range []float64{0, 0.5, 1, 1.01} {
			c := peerConfig("kakurenbo")
			c.Kakurenbo = &sampler.KakurenboConfig{MaxHide: f, Confidence: tau}
			agree(t, c, sampler.KakurenboConfig{BatchSize: c.Batch, MaxHide: f, Confidence: tau}.Validate())
		}
	}
}

func nan() float64 { return math.NaN() }

func agree(t *testing.T, c Config, want error) {
	t.Helper()
	got := c.Validate()
	if (got == nil) != (want == nil) {
		t.Errorf("%s %+v %+v %+v %+v: run says %v, sampler says %v", c.Sampler, c.InfoBatch, c.Selective, c.KF, c.Kakurenbo, got, want)
	}
}

// TestNewOrderPeers builds every peer from its settings: InfoBatch anneals
// over the run's epochs with its batch; Selective-Backprop and KF are the
// engine's orders over a shuffle; KAKURENBO is refreshed by the trainer.
// ResolveDevice records the defaults.
func TestNewOrderPeers(t *testing.T) {
	c := peerConfig("infobatch")
	c.InfoBatch = &sampler.InfoBatchConfig{Prune: 0.3, Anneal: 0.5}
	o, err := NewOrder(c, 100)
	if ib, ok := o.(*sampler.InfoBatch); err != nil || !ok || ib.Config() != (sampler.InfoBatchConfig{BatchSize: 64, Prune: 0.3, Epochs: 8, Anneal: 0.5}) {
		t.Fatalf("infobatch: %T %v", o, err)
	}
	c = peerConfig("kakurenbo")
	o, err = NewOrder(c, 100)
	if _, ok := o.(training.Refresher); err != nil || !ok || o.(*sampler.Kakurenbo).Config() != sampler.DefaultKakurenboConfig() {
		t.Fatalf("kakurenbo: %T %v", o, err)
	}
	c = peerConfig("selective-backprop")
	c.Selective = &sampler.SelectiveBackpropConfig{Beta: 0.5, Window: 7}
	o, err = NewOrder(c, 100)
	if sb, ok := o.(*training.SelectiveOrder); err != nil || !ok || sb.Selector().Beta() != 0.5 || sb.Selector().Window() != 7 {
		t.Fatalf("selective-backprop: %T %v", o, err)
	}
	if _, ok := o.(*training.SelectiveOrder).Candidates.(*sampler.Shuffled); !ok {
		t.Fatal("selective-backprop's candidates are not a shuffle")
	}
	c = peerConfig("kf-is")
	o, err = NewOrder(c, 100)
	if kf, ok := o.(*training.KFOrder); err != nil || !ok || kf.Sampler().Config() != sampler.DefaultKFConfig() {
		t.Fatalf("kf-is: %T %v", o, err)
	}
	for _, s := range []string{"infobatch", "selective-backprop", "kf-is", "kakurenbo"} {
		c := peerConfig(s)
		if err := c.ResolveDevice(); err != nil {
			t.Fatal(err)
		}
		if (c.InfoBatch != nil) != (s == "infobatch") || (c.Selective != nil) != (s == "selective-backprop") ||
			(c.KF != nil) != (s == "kf-is") || (c.Kakurenbo != nil) != (s == "kakurenbo") {
			t.Fatalf("%s: resolved settings %+v %+v %+v %+v", s, c.InfoBatch, c.Selective, c.KF, c.Kakurenbo)
		}
	}
}

// TestTrainPeers trains each peer for 2 epochs on 640 images through
// run.Train (1,000 test images): the samplers that forward more than they train on report it.
func TestTrainPeers(t *testing.T) {
	c := peerConfig("uniform")
	c.Subset = 640
	d, err := LoadData(c, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, d.Test, err = d.Test.Split(1000); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"infobatch", "selective-backprop", "kf-is", "kakurenbo"} {
		c := peerConfig(s)
		c.Epochs, c.Subset, c.LR, c.EvalEvery = 2, 640, 0.05, 640
		tr, net, err := Train(context.Background(), c, d, nil, Hooks{})
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		net.Close()
		m := tr.History[1]
		extra := m.ForwardSamples - m.BackwardSamples
		switch {
		case m.BackwardSamples != m.SamplesSeen || m.BackwardSamples <= 0,
			s == "infobatch" && extra != 0,
			(s == "selective-backprop" || s == "kf-is") && extra != 2*640,
			s == "kakurenbo" && (extra < 0 || extra > 192):
			t.Errorf("%s: %+v", s, m)
		}
	}
}

// TestParseMethodPeers parses the peers' keys, with their defaults and
// ranges, and refuses a key of another sampler.
func TestParseMethodPeers(t *testing.T) {
	base := methodBase()
	m, err := ParseMethod("infobatch:r=0.3", base, nil)
	if err != nil || m.Sampler != "infobatch" || *m.InfoBatch != (sampler.InfoBatchConfig{Prune: 0.3, Anneal: 0.875}) || m.Selective != nil {
		t.Fatalf("%+v %v", m, err)
	}
	m, err = ParseMethod("sb3:sampler=selective-backprop,beta=3,window=256", base, nil)
	if err != nil || m.Sampler != "selective-backprop" || *m.Selective != (sampler.SelectiveBackpropConfig{Beta: 3, Window: 256}) {
		t.Fatalf("%+v %v", m, err)
	}
	m, err = ParseMethod("kf-is:k=2,threshold=1.5,tau-momentum=0.5", base, nil)
	if err != nil || *m.KF != (sampler.KFConfig{Presample: 2, Threshold: 1.5, Momentum: 0.5}) {
		t.Fatalf("%+v %v", m, err)
	}
	m, err = ParseMethod("kakurenbo:hide=0.2,tau=0.9", base, nil)
	if err != nil || *m.Kakurenbo != (sampler.KakurenboConfig{MaxHide: 0.2, Confidence: 0.9}) {
		t.Fatalf("%+v %v", m, err)
	}
	c := m.Config(base)
	if c.Sampler != "kakurenbo" || c.Kakurenbo == m.Kakurenbo || c.Kakurenbo.MaxHide != 0.2 || c.Kakurenbo.Confidence != 0.9 || c.Kakurenbo.BatchSize != base.Batch || c.Validate() != nil {
		t.Fatalf("config %+v", c)
	}
	for spec, d := range map[string]string{"selective-backprop": "selective-backprop (beta 2, window 1024)",
		"kf-is": "kf-is (k 3, threshold 0, tau-momentum 0.9)", "kakurenbo": "kakurenbo (hide 0.3, tau 0.7)", "infobatch": "infobatch (r 0.5, anneal 0.875)"} {
		m, err := ParseMethod(spec, base, nil)
		if err != nil || m.Describe() != d {
			t.Errorf("%s: %q, %v", spec, m.Describe(), err)
		}
	}
	for spec, want := range map[string]string{
		"infobatch:r=1":                      "r=1: want a decimal number in [0, 1)",
		"infobatch:anneal=-0.1":              "anneal=-0.1: want a decimal number in [0, 1]",
		"selective-backprop:beta=-1":         "beta=-1: want a decimal number in [0, ∞)",
		"selective-backprop:window=0":        "window=0: want a decimal integer in [1, 16777216]",
		"kf-is:k=0":                          "k=0: want a decimal integer in [1, 1048576]",
		"kf-is:tau-momentum=1":               "tau-momentum=1: want a decimal number in [0, 1)",
		"kf-is:threshold=-2":                 "threshold=-2",
		"kakurenbo:tau=0":                    "tau=0: want a decimal number in (0, 1]",
		"kakurenbo:hide=1":                   "hide=1: want a decimal number in [0, 1)",
		"uniform:beta=2":                     "beta= applies to sampler selective-backprop, not to uniform",
		"kf-is:hide=0.3":                     "hide= applies to sampler kakurenbo, not to kf-is",
		"x:sampler=infobatch,frac=0.3":       "frac= applies to sampler rs2, not to infobatch",
		"x:sampler=kakurenbo,score=gradnorm": "score= applies to sampler sgds",
		"x:zeta=1":                           "for kf-is k, threshold, tau-momentum",
	} {
		_, err := ParseMethod(spec, base, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", spec, err, want)
		}
	}
	if _, err := ParseMethod("infobatch", base, nil); err != nil {
		t.Fatal(err)
	}
}
