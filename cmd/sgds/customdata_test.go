package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/engine/data/datatest"
)

// Two custom data sets cut and reshaped from real MNIST (--dataset idx):
// pooled14 is 14×14, 2×2 mean-pooled, digits 0–4 (5 classes); crop20x24 is
// a 20×24 crop with the digits folded mod 3 (3 classes, non-square).
var (
	pooled14  = datatest.Cut{Train: 1500, Test: 500, Pool: 2, Label: datatest.Digits(5)}
	crop20x24 = datatest.Cut{Train: 1500, Test: 500, Top: 4, Left: 2, Rows: 20, Cols: 24, Label: datatest.Mod(3)}
)

// customArgs are the flags of a small run on the custom data set in dir.
func customArgs(dir, model string, extra ...string) []string {
	return append([]string{"--dataset", "idx", "--data", dir, "--model", model, "--batch", "32", "--lr", "0.05", "--quiet"}, extra...)
}

// readJSON decodes the JSON file path into v.
func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestCustomDataTrain trains both models end to end through the binary on
// data sets that are neither 28×28 nor 10-class, and checks the accuracy
// (well above chance) and the normalisation computed from the training
// images kept (the first 1,000: --subset 1000 --val 200) against a float64
// reference over the bytes written; the cnn refuses 14×14 images, naming
// the size.
func TestCustomDataTrain(t *testing.T) {
	cases := []struct {
		name, model string
		cut         datatest.Cut
		minAcc      float64 // chance: 0.2 (5 classes), 0.4 (the largest of 3)
	}{
		{"mlp 14x14 5 classes", "mlp", pooled14, 0.8},
		{"mlp 20x24 3 classes", "mlp", crop20x24, 0.7},
		{"cnn 20x24 3 classes", "cnn", crop20x24, 0.6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, out := t.TempDir(), t.TempDir()
			s := datatest.WriteMNISTCut(t, dir, c.cut)
			code, log := runSGDS(t, append([]string{"train"}, customArgs(dir, c.model, "--subset", "1000", "--val", "200", "--epochs", "2", "--out", out)...)...)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, log)
			}
			var sum struct {
				Config struct {
					Dataset string `json:"dataset"`
				} `json:"config"`
				FinalTestAcc float64                    `json:"final_test_acc"`
				Data         map[string]json.RawMessage `json:"data"`
			}
			readJSON(t, filepath.Join(out, "summary.json"), &sum)
			t.Logf("%s: test accuracy %.3f", c.name, sum.FinalTestAcc)
			if sum.Config.Dataset != "idx" || sum.FinalTestAcc < c.minAcc {
				t.Fatalf("dataset %q, test accuracy %.3f, want ≥ %.2f", sum.Config.Dataset, sum.FinalTestAcc, c.minAcc)
			}
			p := s.Rows * s.Cols
			mean, std := datatest.Stats(s.TrainImages[:1000*p])
			train, _, err := data.LoadWith(data.Custom, dir, data.Options{Subset: 1000, Val: 200})
			if err != nil {
				t.Fatal(err)
			}
			if n := train.Norm; n.Images != 1000 || math.Abs(n.Mean-mean) > 1e-12 || math.Abs(n.Std-std) > 1e-12 {
				t.Fatalf("the data package's normalisation %+v, want mean %v std %v over 1000 images", n, mean, std)
			}
			checkRecordedNorm(t, sum.Data, s, mean, std)
		})
	}
	dir := t.TempDir()
	datatest.WriteMNISTCut(t, dir, pooled14)
	code, log := runSGDS(t, append([]string{"train"}, customArgs(dir, "cnn", "--epochs", "1", "--out", t.TempDir())...)...)
	if code == 0 || !strings.Contains(log, "14x14 images are too small") || !strings.Contains(log, "at least 16x16") || strings.Contains(log, "panic") {
		t.Fatalf("cnn on 14x14: exit %d:\n%s", code, log)
	}
}

// checkRecordedNorm checks the "data" object of summary.json: its shape,
// classes and normalisation (mean, std: computed from the training images
// kept, to 1e-12) against the data set written. Without a "data" object
// it says so in the log and leaves the check to the data package's.
func checkRecordedNorm(t *testing.T, d map[string]json.RawMessage, s *datatest.Set, mean, std float64) {
	t.Helper()
	if d == nil {
		t.Log(`summary.json has no "data" object: normalisation checked through the data package only`)
		return
	}
	num := func(key string) float64 {
		var v float64
		if err := json.Unmarshal(d[key], &v); err != nil {
			t.Fatalf(`summary.json data.%s: %s (%v)`, key, d[key], err)
		}
		return v
	}
	if num("rows") != float64(s.Rows) || num("cols") != float64(s.Cols) || num("classes") != float64(s.Classes) {
		t.Errorf("summary.json data: %dx%d, %v classes; wrote %dx%d, %d classes", int(num("rows")), int(num("cols")), num("classes"), s.Rows, s.Cols, s.Classes)
	}
	var norm struct{ Mean, Std float64 }
	if err := json.Unmarshal(d["normalisation"], &norm); err != nil {
		t.Fatalf("summary.json data.normalisation: %s (%v)", d["normalisation"], err)
	}
	if m, sd := norm.Mean, norm.Std; math.Abs(m-mean) > 1e-12 || math.Abs(sd-std) > 1e-12 {
		t.Errorf("summary.json records normalisation mean %v std %v; the images went through mean %v std %v, "+
			"computed from the training images kept (data.Set.Norm, run.Data.Info().Normalisation)", m, sd, mean, std)
	}
}

// TestCustomDataCompareCorrelateResume runs the experiment commands on a
// custom data set: compare (2 methods, 1 seed, 2 epochs), correlate, and a
// train resumed from its checkpoint, which rebuilds the same sized model.
func TestCustomDataCompareCorrelateResume(t *testing.T) {
	dir := t.TempDir()
	datatest.WriteMNISTCut(t, dir, crop20x24)

	t.Run("compare", func(t *testing.T) {
		out := t.TempDir()
		code, log := runSGDS(t, append([]string{"compare", "--quick"}, customArgs(dir, "mlp", "--val", "200",
			"--seeds", "1", "--epochs", "2", "--targets", "0.6", "--method", "drop30:drop=0.3", "--out", out)...)...)
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, log)
		}
		var res struct {
			Runs []struct {
				Method  string    `json:"method"`
				TestAcc []float64 `json:"test_acc"`
			} `json:"runs"`
		}
		readJSON(t, filepath.Join(out, "compare.json"), &res)
		if len(res.Runs) != 2 {
			t.Fatalf("%d runs, want uniform and drop30", len(res.Runs))
		}
		for _, r := range res.Runs {
			if len(r.TestAcc) != 2 || r.TestAcc[1] < 0.7 {
				t.Errorf("%s: test accuracy per epoch %v, want 2 epochs ending ≥ 0.7", r.Method, r.TestAcc)
			}
		}
	})

	t.Run("correlate", func(t *testing.T) {
		out := t.TempDir()
		code, log := runSGDS(t, append([]string{"correlate"}, customArgs(dir, "cnn", "--subset", "1000",
			"--epochs", "2", "--samples", "100", "--timing-steps", "2", "--out", out)...)...)
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, log)
		}
		var res struct {
			TestAcc  float64   `json:"test_acc"`
			GradNorm []float64 `json:"grad_norm"`
		}
		readJSON(t, filepath.Join(out, "correlate.json"), &res)
		if res.TestAcc < 0.6 || len(res.GradNorm) != 100 {
			t.Fatalf("test accuracy %.3f, %d gradient norms", res.TestAcc, len(res.GradNorm))
		}
	})

	t.Run("resume", func(t *testing.T) {
		out := t.TempDir()
		if code, log := runSGDS(t, append([]string{"train"}, customArgs(dir, "cnn", "--subset", "1000", "--epochs", "1", "--out", out)...)...); code != 0 {
			t.Fatalf("exit %d:\n%s", code, log)
		}
		if code, log := runSGDS(t, "train", "--resume", out, "--epochs", "2", "--quiet"); code != 0 {
			t.Fatalf("resume: exit %d:\n%s", code, log)
		}
		var sum struct {
			EpochsDone   int     `json:"epochs_done"`
			FinalTestAcc float64 `json:"final_test_acc"`
		}
		readJSON(t, filepath.Join(out, "summary.json"), &sum)
		if sum.EpochsDone != 2 || sum.FinalTestAcc < 0.6 {
			t.Fatalf("after resuming: %d epochs, test accuracy %.3f", sum.EpochsDone, sum.FinalTestAcc)
		}
	})
}
