//go:build !cuda

// The sized-model tests cross-check against the gorgonia oracle, which cuda
// builds leave out.

package engine_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/cpu"
	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/engine/data/datatest"
	"github.com/sgds/sgds/engine/enginetest"
	"github.com/sgds/sgds/engine/gorgonia"
)

// TestLookupModelIsMNISTs: the plain names still give the 28×28, 10-class
// specs they always gave (written out here), so MNIST runs and their
// checkpoints are unchanged, and ModelFor gives the same for MNIST's shape.
func TestLookupModelIsMNISTs(t *testing.T) {
	want := map[string]engine.ModelSpec{
		"mlp": {Name: "mlp", Input: []int{784}, Classes: 10, Params: []engine.ParamSpec{
			{"fc1.w", []int{784, 256}, 784}, {"fc1.b", []int{256}, 784},
			{"fc2.w", []int{256, 10}, 256}, {"fc2.b", []int{10}, 256},
		}},
		"cnn": {Name: "cnn", Input: []int{1, 28, 28}, Classes: 10, Params: []engine.ParamSpec{
			{"conv1.w", []int{10, 1, 5, 5}, 25}, {"conv1.b", []int{10}, 25},
			{"conv2.w", []int{20, 10, 5, 5}, 250}, {"conv2.b", []int{20}, 250},
			{"fc1.w", []int{320, 50}, 320}, {"fc1.b", []int{50}, 320},
			{"fc2.w", []int{50, 10}, 50}, {"fc2.b", []int{10}, 50},
		}},
	}
	for name, w := range want {
		m, err := engine.LookupModel(name)
		if err != nil || !reflect.DeepEqual(m, w) {
			t.Errorf("LookupModel(%s) = %+v, %v; want %+v", name, m, err, w)
		}
		for _, input := range [][]int{{1, 28, 28}, {28, 28}} {
			if m, err := engine.ModelFor(name, input, 10); err != nil || !reflect.DeepEqual(m, w) {
				t.Errorf("ModelFor(%s, %v, 10) = %+v, %v; want %+v", name, input, m, err, w)
			}
		}
	}
}

// TestModelForSizes: both models follow the image shape and the classes;
// Layers accepts every spec, with the conv sizes of the shape; the sized
// name reads back to the same spec.
func TestModelForSizes(t *testing.T) {
	cases := []struct {
		model   string
		h, w, k int
		name    string
		fc1     []int // the first dense weight's shape
		convs   [][4]int
	}{
		{"mlp", 8, 8, 2, "mlp:1x8x8:2", []int{64, 256}, nil},
		{"mlp", 14, 14, 5, "mlp:1x14x14:5", []int{196, 256}, nil},
		{"mlp", 28, 28, 1000, "mlp:1x28x28:1000", []int{784, 256}, nil},
		{"cnn", 16, 16, 3, "cnn:1x16x16:3", []int{20, 50}, [][4]int{{12, 12, 6, 6}, {2, 2, 1, 1}}},
		{"cnn", 20, 24, 5, "cnn:1x20x24:5", []int{120, 50}, [][4]int{{16, 20, 8, 10}, {4, 6, 2, 3}}},
		{"cnn", 24, 20, 5, "cnn:1x24x20:5", []int{120, 50}, [][4]int{{20, 16, 10, 8}, {6, 4, 3, 2}}},
		{"cnn", 28, 28, 5, "cnn:1x28x28:5", []int{320, 50}, [][4]int{{24, 24, 12, 12}, {8, 8, 4, 4}}},
		{"cnn", 17, 64, 2, "cnn:1x17x64:2", []int{20 * 1 * 13, 50}, [][4]int{{13, 60, 6, 30}, {2, 26, 1, 13}}},
	}
	for _, c := range cases {
		m, err := engine.ModelFor(c.model, []int{1, c.h, c.w}, c.k)
		if err != nil {
			t.Fatalf("%s %dx%d/%d: %v", c.model, c.h, c.w, c.k, err)
		}
		if m.Name != c.name || m.Classes != c.k || m.InputSize() != c.h*c.w {
			t.Errorf("%s: name %s, classes %d, input %v", c.name, m.Name, m.Classes, m.Input)
		}
		ls, err := engine.Layers(m)
		if err != nil {
			t.Fatalf("%s: Layers: %v", c.name, err)
		}
		dense := ls[len(c.convs)]
		if len(ls) != len(c.convs)+2 || dense.Kind != engine.Dense || dense.In != c.fc1[0] || dense.Out != c.fc1[1] || ls[len(ls)-1].Out != c.k {
			t.Fatalf("%s: layers %+v", c.name, ls)
		}
		for i, cv := range c.convs {
			l := ls[i]
			if got := [4]int{l.OH, l.OW, l.PH, l.PW}; l.Kind != engine.ConvPool || got != cv {
				t.Errorf("%s: conv %d is %+v, want OH, OW, PH, PW = %v", c.name, i+1, l, cv)
			}
		}
		if ls[0].InSize() != c.h*c.w {
			t.Errorf("%s: first layer takes %d values", c.name, ls[0].InSize())
		}
		back, err := engine.LookupModel(m.Name)
		if err != nil || !reflect.DeepEqual(back, m) {
			t.Errorf("LookupModel(%s) = %+v, %v; want %+v", m.Name, back, err, m)
		}
		if engine.BaseModel(m.Name) != c.model {
			t.Errorf("BaseModel(%s) = %s", m.Name, engine.BaseModel(m.Name))
		}
	}
}

// TestModelForErrors: what the models cannot take is an error that names
// the size, the classes or the channels at fault.
func TestModelForErrors(t *testing.T) {
	cases := []struct {
		model   string
		input   []int
		classes int
		want    []string
	}{
		{"cnn", []int{1, 14, 14}, 5, []string{"14x14", "too small", "at least 16x16", "1x1", "0x0"}},
		{"cnn", []int{1, 28, 15}, 5, []string{"28x15", "at least 16x16"}},
		{"cnn", []int{1, 8, 8}, 2, []string{"8x8", "the mlp takes images from 8x8"}},
		{"mlp", []int{1, 7, 9}, 5, []string{"7x9", "8x8 to 4096x4096"}},
		{"mlp", []int{1, 28, 5000}, 5, []string{"28x5000"}},
		{"mlp", []int{1, 28, 28}, 1, []string{"1 classes", "2 to 1000"}},
		{"cnn", []int{1, 28, 28}, 1001, []string{"1001 classes", "2 to 1000"}},
		{"cnn", []int{3, 28, 28}, 10, []string{"3 channels", "single-channel"}},
		{"mlp", []int{784}, 10, []string{"not an image shape"}},
		{"rnn", []int{1, 28, 28}, 10, []string{`unknown model "rnn"`, "mlp, cnn"}},
	}
	for _, c := range cases {
		_, err := engine.ModelFor(c.model, c.input, c.classes)
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("ModelFor(%s, %v, %d): err = %v, want it to say %q", c.model, c.input, c.classes, err, w)
			}
		}
	}
	for name, want := range map[string]string{
		"cnn:1x28x28:10":  "write it cnn",
		"cnn:1x020x24:5":  "write it cnn:1x20x24:5",
		"cnn:1x20x24":     "not a sized model name",
		"cnn:1x20:5":      "not a sized model name",
		"cnn:1x20x24:k":   `"k" is not a number of classes`,
		"cnn:1x-20x24:5":  `"-20" is not a size`,
		"cnn:3x20x24:5":   "3 channels",
		"cnn:1x14x14:5":   "14x14 images are too small",
		"rnn:1x20x24:5":   `unknown model "rnn"`,
		"cnn:1x20x24:5:1": "not a number of classes",
		"":                `unknown model ""`,
	} {
		if _, err := engine.LookupModel(name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LookupModel(%q): err = %v, want it to say %q", name, err, want)
		}
	}
}

// TestSizedModelsTrain trains both models sized for custom data sets cut
// from real MNIST (14×14 mean-pooled digits 0–4 for the mlp, a 20×24 crop
// with the digits folded to 3 classes for the cnn) for a few steps on the
// cpu backend: the test accuracy rises well above chance. The cnn's
// gradients on the non-square images match the gorgonia oracle's.
func TestSizedModelsTrain(t *testing.T) {
	cases := []struct {
		model string
		cut   datatest.Cut
		steps int
		acc   float64 // at least
	}{
		{"mlp", datatest.Cut{Train: 640, Test: 500, Pool: 2, Label: datatest.Digits(5)}, 40, 0.8},
		{"cnn", datatest.Cut{Train: 640, Test: 500, Top: 4, Left: 2, Rows: 20, Cols: 24, Label: datatest.Mod(3)}, 100, 0.7},
	}
	cfg := engine.Config{Batch: 32, LR: 0.05, Momentum: 0.5}
	for _, c := range cases {
		t.Run(c.model, func(t *testing.T) {
			dir := t.TempDir()
			datatest.WriteMNISTCut(t, dir, c.cut)
			train, test, err := data.Load(data.Custom, dir)
			if err != nil {
				t.Fatal(err)
			}
			m, err := engine.ModelFor(c.model, []int{1, train.Rows, train.Cols}, train.Classes)
			if err != nil {
				t.Fatal(err)
			}
			n := enginetest.NewNetOf(t, cpu.Backend{}, m, cfg, 1)
			acc0, _ := enginetest.MustEvaluate(t, n, test)
			for s := 0; s < c.steps; s++ {
				enginetest.MustStep(t, n, enginetest.BatchOf(train, enginetest.Seq(s*32%train.N, 32), 32))
			}
			acc, loss := enginetest.MustEvaluate(t, n, test)
			t.Logf("%s: test accuracy %.3f → %.3f (loss %.3f) after %d steps", m.Name, acc0, acc, loss, c.steps)
			if acc < c.acc {
				t.Errorf("%s: test accuracy %.3f after %d steps, want ≥ %.2f (chance %.2f)", m.Name, acc, c.steps, c.acc, 1/float64(m.Classes))
			}
			if c.model != "cnn" {
				return
			}
			b := enginetest.BatchOf(train, enginetest.Seq(0, 32), 32)
			oracle := enginetest.NewNetOf(t, gorgonia.Backend{}, m, cfg, 1)
			enginetest.MustSetParams(t, oracle, enginetest.Params(t, n))
			g, _ := enginetest.MustGradients(t, n, b)
			want, _ := enginetest.MustGradients(t, oracle, b)
			if d := enginetest.MaxRelDiff(g, want); d > 1e-4 {
				t.Errorf("%s: cpu gradients differ from gorgonia's by %g", m.Name, d)
			}
		})
	}
}
