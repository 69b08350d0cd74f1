package bench

import (
	"context"
	"io"
	"testing"

	_ "github.com/sgds/sgds/engine/cpu"
	"github.com/sgds/sgds/run"
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
