package run

import (
	"errors"
	"math"
	"strings"
	"testing"

	_ "github.com/sgds/sgds/engine/cpu"
	"github.com/sgds/sgds/internal/limits"
	"github.com/sgds/sgds/sampler"
)

func validConfig() Config {
	sc := sampler.DefaultScheduleConfig()
	return Config{Dataset: "mnist", Model: "mlp", Device: "cpu", Sampling: Sampling{Sampler: "sgds", Score: "loss", Schedule: &sc},
		Epochs: 1, Batch: 64, LR: 0.01, Momentum: 0.5, Seed: 1}
}

// TestValidateNamesTheFlag breaks one setting at a time and expects an
// error that names its flag.
func TestValidateNamesTheFlag(t *testing.T) {
	if err := validConfig().Validate(); err != nil {
		t.Fatalf("valid configuration rejected: %v", err)
	}
	cases := []struct {
		flag  string
		spoil func(c *Config)
	}{
		{"--dataset", func(c *Config) { c.Dataset = "cifar10" }},
		{"--model", func(c *Config) { c.Model = "resnet" }},
		{"--device", func(c *Config) { c.Device = "tpu" }},
		{"--epochs", func(c *Config) { c.Epochs = 0 }},
		{"--batch", func(c *Config) { c.Batch = 0 }},
		{"--lr", func(c *Config) { c.LR = math.Inf(1) }},
		{"--lr", func(c *Config) { c.LR = math.NaN() }},
		{"--momentum", func(c *Config) { c.Momentum = 1 }},
		{"--score", func(c *Config) { c.Score = "entropy" }},
		{"--sampler", func(c *Config) { c.Sampler = "greedy" }},
		{"--transient", func(c *Config) { c.Schedule.TransientEpochs = -1 }},
		{"--drop", func(c *Config) { c.Schedule.DropFrac = 1 }},
		{"--readd", func(c *Config) { c.Schedule.ReaddFrac = -0.1 }},
		{"--kept-floor", func(c *Config) { c.Schedule.KeptFloor = 1.5 }},
		{"--mix", func(c *Config) { c.Schedule.Mix = math.NaN() }},
		{"--readd-score", func(c *Config) { c.Schedule.ReaddScore = "oldest" }},
	}
	for _, tc := range cases {
		c := validConfig()
		sc := *c.Schedule
		c.Schedule = &sc
		tc.spoil(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("%s: got %v, want an error naming %s", tc.flag, err, tc.flag)
		}
	}
}

// TestValidateBounds checks the bounds Validate shares with the command
// line, for library callers: --epochs in [1, MaxEpochs], and the batch's
// buffers within the memory budget (SGDS_MEMORY_BUDGET) before anything
// is allocated.
func TestValidateBounds(t *testing.T) {
	for _, tc := range []struct {
		epochs, batch int
		budget        string // SGDS_MEMORY_BUDGET; "" for the default
		want          string // "" for a valid configuration
		overBudget    bool
	}{
		{epochs: MaxEpochs, batch: 64},
		{epochs: MaxEpochs + 1, batch: 64, want: "--epochs must be in [1, 100000], got 100001"},
		{epochs: -1, batch: 64, want: "--epochs must be in [1, 100000], got -1"},
		{epochs: 1, batch: 10_000_000, want: "--batch 10000000: needs", overBudget: true},
		{epochs: 1, batch: 1 << 62, want: "--batch 4611686018427387904: needs more than 8 EiB", overBudget: true},
		{epochs: 1, batch: 64, budget: "64KiB", want: "--batch 64: needs", overBudget: true},
		{epochs: 1, batch: 64, budget: "64MiB"},
	} {
		t.Setenv(limits.EnvBudget, tc.budget)
		c := validConfig()
		c.Epochs, c.Batch = tc.epochs, tc.batch
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("epochs %d, batch %d, budget %q: %v", tc.epochs, tc.batch, tc.budget, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("epochs %d, batch %d, budget %q: got %v, want an error containing %q", tc.epochs, tc.batch, tc.budget, err, tc.want)
		case tc.overBudget && !errors.Is(err, limits.ErrOverBudget):
			t.Errorf("epochs %d, batch %d, budget %q: %v does not wrap limits.ErrOverBudget", tc.epochs, tc.batch, tc.budget, err)
		}
	}
}

// TestResolveDevice expects "auto" to be recorded as the backend it picks.
func TestResolveDevice(t *testing.T) {
	c := validConfig()
	c.Device = "auto"
	if err := c.ResolveDevice(); err != nil || (c.Device != "cpu" && c.Device != "cuda") {
		t.Fatalf("auto resolved to %q (%v)", c.Device, err)
	}
	c.Device = "tpu"
	if err := c.ResolveDevice(); err == nil || !strings.Contains(err.Error(), "--device") {
		t.Fatalf("tpu: %v", err)
	}
}

// TestLoadData checks the validation split and the subset against the
// whole training set.
func TestLoadData(t *testing.T) {
	c := validConfig()
	all, err := LoadData(c, "")
	if err != nil {
		t.Fatalf("real MNIST is required (run ./build.sh): %v", err)
	}
	c.Val, c.Subset = 256, 1000
	d, err := LoadData(c, "")
	if err != nil {
		t.Fatal(err)
	}
	full := all.Train
	p := full.Pixels()
	if d.Train.N != 1000 || d.Val.N != 256 || d.Test.N != all.Test.N {
		t.Fatalf("train %d, val %d, test %d", d.Train.N, d.Val.N, d.Test.N)
	}
	for i, k := range []int{0, 999} {
		if d.Train.Labels[k] != full.Labels[k] || d.Train.Images[k*p+300] != full.Images[k*p+300] {
			t.Fatalf("training image %d is not image %d of the set", i, k)
		}
	}
	if d.Val.Labels[0] != full.Labels[full.N-256] || d.Val.Images[300] != full.Images[(full.N-256)*p+300] {
		t.Fatal("the validation split is not the last 256 images")
	}
	for _, bad := range []struct {
		val, subset int
		flag        string
	}{{-1, 0, "--val"}, {0, -1, "--subset"}, {full.N, 0, "--val"}, {100, full.N, "--subset"}} {
		c.Val, c.Subset = bad.val, bad.subset
		if _, err := LoadData(c, ""); err == nil || !strings.Contains(err.Error(), bad.flag) {
			t.Errorf("val %d subset %d: got %v, want an error naming %s", bad.val, bad.subset, err, bad.flag)
		}
	}
}

// TestValidateBaselinesAndGrid checks the rs2 fraction, that --frac is
// refused for other samplers, and the --eval-every range.
func TestValidateBaselinesAndGrid(t *testing.T) {
	ok := []func(c *Config){
		func(c *Config) { c.Sampler, c.Schedule, c.Frac = "rs2", nil, 0.3 },
		func(c *Config) { c.Sampler, c.Schedule, c.Frac = "rs2", nil, 1 },
		func(c *Config) { c.Sampler, c.Schedule = "uniform-replace", nil },
		func(c *Config) { c.EvalEvery = 64 },
		func(c *Config) { c.EvalEvery = 10000 },
	}
	for i, set := range ok {
		c := validConfig()
		set(&c)
		if err := c.Validate(); err != nil {
			t.Errorf("case %d: %v", i, err)
		}
	}
	bad := []struct {
		flag string
		set  func(c *Config)
	}{
		{"--frac", func(c *Config) { c.Sampler, c.Schedule = "rs2", nil }},
		{"--frac", func(c *Config) { c.Sampler, c.Schedule, c.Frac = "rs2", nil, 1.5 }},
		{"--frac", func(c *Config) { c.Sampler, c.Schedule, c.Frac = "rs2", nil, math.NaN() }},
		{"--frac", func(c *Config) { c.Sampler, c.Schedule, c.Frac = "uniform", nil, 0.3 }},
		{"--eval-every", func(c *Config) { c.EvalEvery = 63 }},
		{"--eval-every", func(c *Config) { c.EvalEvery = -1 }},
		{"--eval-every", func(c *Config) { c.EvalEvery = MaxEvalEvery + 1 }},
	}
	for _, b := range bad {
		c := validConfig()
		b.set(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), b.flag) {
			t.Errorf("%s: got %v", b.flag, err)
		}
	}
}
