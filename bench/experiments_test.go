package bench

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/sgds/sgds/engine/cpu"
	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/sampler"
)

// smallData is real MNIST cut to its first n training images, with the
// last 256 as the validation split.
func smallData(t *testing.T, n int) *run.Data {
	t.Helper()
	c := smallRun()
	c.Subset = n
	d, err := run.LoadData(c, "")
	if err != nil {
		t.Fatalf("real MNIST is required (run ./build.sh): %v", err)
	}
	return d
}

func smallRun() run.Config {
	return run.Config{Dataset: "mnist", Model: "mlp", Device: "cpu", Epochs: 3, Batch: 64, LR: 0.05, Momentum: 0.5, Seed: 1, Val: 256}
}

// TestCompareEndToEnd runs uniform, SGD-S and its variants on 1,280 real
// images for 3 epochs and checks the report's bookkeeping.
func TestCompareEndToEnd(t *testing.T) {
	d := smallData(t, 1280)
	c := CompareConfig{Base: smallRun(), Seeds: []uint64{1, 2}, Parallel: 2, Targets: []float64{0.5, 0.999},
		Methods: Methods(sampler.DefaultScheduleConfig(), "loss", true)}
	res, err := Compare(context.Background(), c, d, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 2*4 || res.TargetOn != "val" {
		t.Fatalf("%d runs, targets on %s", len(res.Runs), res.TargetOn)
	}
	for _, r := range res.Runs {
		if len(r.TestAcc) != 3 || r.KeptFraction[0] != 1 {
			t.Fatalf("%s seed %d: %d epochs, kept %v", r.Method, r.Seed, len(r.TestAcc), r.KeptFraction)
		}
		if r.Method != "uniform" && r.KeptFraction[2] >= 1 {
			t.Fatalf("%s never pruned: %v", r.Method, r.KeptFraction)
		}
		if r.Targets["0.999"] != nil {
			t.Fatalf("impossible target reached")
		}
	}
	// Same initial weights and transient epoch: every method's epoch 1 is
	// the uniform one.
	u, s := res.run("uniform", 2), res.run("sgds", 2)
	if u.Epochs[0].TrainLoss != s.Epochs[0].TrainLoss || u.TestAcc[0] != s.TestAcc[0] {
		t.Fatalf("transient epochs differ: %v vs %v", u.Epochs[0], s.Epochs[0])
	}
	if sp := res.PerTarget["0.5"]["uniform"].SpeedupTime; sp.N != 2 || sp.Mean != 1 {
		t.Fatalf("uniform's speedup over itself %+v", sp)
	}
	dir := t.TempDir()
	if err := WriteCompare(res, dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"compare.json", "compare.md", "acc_vs_seconds.png", "acc_vs_samples.png", "kept_fraction.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", f, err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "compare.json"))
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if md := CompareMarkdown(res); !strings.Contains(md, "sgds-unbiased") || !strings.Contains(md, "Target 0.999") {
		t.Fatalf("compare.md:\n%s", md)
	}
}

func TestPatternsEndToEnd(t *testing.T) {
	d := smallData(t, 1000)
	res, err := Patterns(context.Background(), smallRun(), d, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range []string{"off", "on"} {
		if len(res.Stay[sh]) != 2 || len(res.Stay[sh]["1-3"]) != Bins {
			t.Fatalf("shuffle %s: %v", sh, res.Stay[sh])
		}
	}
	if res.Chance["1-3"] != 1 || res.Chance["2-3"] != 10 {
		t.Fatalf("chance %v", res.Chance)
	}
	if err := WritePatterns(res, t.TempDir()); err != nil {
		t.Fatal(err)
	}
}

func TestCorrelateEndToEnd(t *testing.T) {
	d := smallData(t, 640)
	rc := smallRun()
	rc.Sampler, rc.Epochs = "uniform", 1
	res, err := Correlate(context.Background(), CorrelateConfig{Run: rc, Samples: 200, TimingSteps: 2}, d, run.Hooks{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.GradNorm) != 200 || res.Spearman < 0.5 || res.Timing.NormsOverStep <= 0 {
		t.Fatalf("spearman %v, norms %d, timing %+v", res.Spearman, len(res.GradNorm), res.Timing)
	}
	if err := WriteCorrelate(res, t.TempDir()); err != nil {
		t.Fatal(err)
	}
}
