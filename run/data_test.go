package run

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/engine/data/datatest"
	"github.com/sgds/sgds/training"
)

// customConfig is a small uniform run on the custom data set.
func customConfig(model string) Config {
	return Config{Dataset: data.Custom, Model: model, Device: "cpu", Sampling: Sampling{Sampler: "uniform"},
		Epochs: 1, Batch: 32, LR: 0.05, Momentum: 0.5, Seed: 1, Subset: 512, Val: 64}
}

// cutData writes a 20×24 crop of real MNIST with the digits folded to 3
// classes and loads it for c.
func cutData(t *testing.T, c Config) *Data {
	t.Helper()
	dir := t.TempDir()
	datatest.WriteMNISTCut(t, dir, datatest.Cut{Train: 640, Test: 300, Top: 4, Left: 2, Rows: 20, Cols: 24, Label: datatest.Mod(3)})
	d, err := LoadData(c, dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestCustomDataRun: LoadData gives what sizes the model (shape, classes,
// normalisation in Info); NewTrainer builds the sized model and trains it
// above chance; initial parameters of MNIST's model are refused.
func TestCustomDataRun(t *testing.T) {
	c := customConfig("cnn")
	d := cutData(t, c)
	info := d.Info()
	if info.Rows != 20 || info.Cols != 24 || info.Classes != 3 || info.Train != 512 || info.Val != 64 || info.Test != 300 ||
		info.Normalisation.Source != data.NormTraining || info.Normalisation.Images != 512 || !reflect.DeepEqual(d.Input(), []int{1, 20, 24}) {
		t.Fatalf("info %+v, input %v", info, d.Input())
	}
	m, err := Model(c, d)
	if err != nil || m.Name != "cnn:1x20x24:3" {
		t.Fatalf("model %s, %v", m.Name, err)
	}
	c.Epochs = 5
	tr, net, err := Train(context.Background(), c, d, nil, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	e := tr.History[len(tr.History)-1]
	t.Logf("%s: test accuracy %.3f after %d epochs", net.Spec().Name, e.TestAcc, e.Epoch)
	if net.Spec().Name != m.Name || e.TestAcc < 0.65 {
		t.Fatalf("%s: test accuracy %.3f after %d epochs, want ≥ 0.65 (3 classes)", net.Spec().Name, e.TestAcc, e.Epoch)
	}
	mnist, _ := engine.LookupModel("cnn")
	if _, err := NewTrainer(c, d, engine.InitParams(mnist, 1), Hooks{}); err == nil || !strings.Contains(err.Error(), "fc1.w") {
		t.Fatalf("MNIST-sized parameters on 20x24 data: err = %v", err)
	}
	small := customConfig("cnn")
	dir := t.TempDir()
	datatest.WriteMNISTCut(t, dir, datatest.Cut{Train: 640, Test: 100, Pool: 2, Label: datatest.Digits(5)})
	ds, err := LoadData(small, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewTrainer(small, ds, nil, Hooks{}); err == nil || !strings.Contains(err.Error(), "--model cnn on idx") ||
		!strings.Contains(err.Error(), "14x14 images are too small") {
		t.Fatalf("cnn on 14x14 images: err = %v", err)
	}
}

// TestCustomDataResume: a checkpoint of a run on custom data records the
// sized model name, loads (validated against the sized spec), and restores
// into a trainer built again from the data, continuing with the same
// parameters; a trainer on data of another shape refuses it.
func TestCustomDataResume(t *testing.T) {
	for _, model := range engine.Models() {
		t.Run(model, func(t *testing.T) {
			c := customConfig(model)
			d := cutData(t, c)
			tr, net, err := Train(context.Background(), c, d, nil, Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			defer net.Close()
			ck, err := tr.Snapshot(net.Spec().Name, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), training.CheckpointFile)
			if err := training.SaveCheckpoint(path, ck); err != nil {
				t.Fatal(err)
			}
			back, err := training.LoadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := back.CheckRun(training.CheckpointRun{Epochs: 2, Batch: c.Batch, TrainN: d.Train.N}); err != nil {
				t.Fatal(err)
			}
			c.Epochs = 2
			again, err := NewTrainer(c, d, nil, Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			defer again.Net.Close()
			if err := again.Restore(back); err != nil {
				t.Fatal(err)
			}
			want, _ := net.Params()
			got, _ := again.Net.Params()
			if !reflect.DeepEqual(got, want) || again.Done() != 1 {
				t.Fatalf("restored %d epochs, parameters equal: %v", again.Done(), reflect.DeepEqual(got, want))
			}
			if err := again.Run(context.Background()); err != nil || len(again.History) != 2 {
				t.Fatalf("continuing: %v, %d epochs", err, len(again.History))
			}
			other := customConfig(model)
			dir := t.TempDir()
			datatest.WriteMNISTCut(t, dir, datatest.Cut{Train: 640, Test: 100, Top: 2, Left: 4, Rows: 24, Cols: 20, Label: datatest.Mod(3)})
			od, err := LoadData(other, dir)
			if err != nil {
				t.Fatal(err)
			}
			wrong, err := NewTrainer(other, od, nil, Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			defer wrong.Net.Close()
			if err := wrong.Restore(back); !errors.Is(err, training.ErrBadCheckpoint) || !strings.Contains(err.Error(), model+":1x20x24:3") ||
				!strings.Contains(err.Error(), model+":1x24x20:3") {
				t.Fatalf("restoring 20x24 into 24x20: err = %v", err)
			}
		})
	}
}

// TestOwnDataWithoutIdx: a folder of the user's own IDX files read as
// MNIST (--data without --dataset idx) is refused with the hint to add
// --dataset idx, not as corrupt data alone.
func TestOwnDataWithoutIdx(t *testing.T) {
	dir := t.TempDir()
	datatest.WriteMNISTCut(t, dir, datatest.Cut{Train: 300, Test: 100, Pool: 2, Label: datatest.Digits(10)})
	c := Config{Dataset: "mnist", Model: "mlp", Device: "cpu", Sampling: Sampling{Sampler: "uniform"}, Epochs: 1, Batch: 64, LR: 0.01}
	if _, err := LoadData(c, dir); err == nil || !strings.Contains(err.Error(), "add --dataset idx") {
		t.Fatalf("14×14 images read as MNIST: %v", err)
	}
	c.Dataset = "idx"
	if _, err := LoadData(c, dir); err != nil {
		t.Fatalf("the same folder with --dataset idx: %v", err)
	}
}
