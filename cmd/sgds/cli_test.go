package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgds/sgds/engine/data"
)

// sgdsBin is the real binary, built once for the CLI tests.
var sgdsBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sgds-cli-")
	if err != nil {
		panic(err)
	}
	sgdsBin = filepath.Join(dir, "sgds")
	if out, err := exec.Command("go", "build", "-o", sgdsBin, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// realMNISTCopy copies the four real MNIST files into a fresh folder.
func realMNISTCopy(t *testing.T) string {
	t.Helper()
	src, err := data.Locate("mnist", "")
	if err != nil {
		t.Fatalf("real MNIST is required (run ./build.sh): %v", err)
	}
	dst := t.TempDir()
	for _, f := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// rewrite replaces a gzipped IDX file by edit(its decompressed bytes).
func rewrite(t *testing.T, path string, edit func([]byte) []byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(edit(raw))
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

const (
	trainImages = "train-images-idx3-ubyte.gz"
	trainLabels = "train-labels-idx1-ubyte.gz"
	testLabels  = "t10k-labels-idx1-ubyte.gz"
)

// TestBadInput runs every kind of bad input through the real binary: each
// must exit non-zero with a message naming the fault (the flag or the
// file), never panic, never hang (each runs under badInputTimeout) and
// stay within maxBadInputRSS of peak memory (ru_maxrss of the child).
func TestBadInput(t *testing.T) {
	type tc struct {
		name  string
		setup func(t *testing.T, dir string) // corrupts a copy of real MNIST
		args  []string
		want  string
	}
	dataCase := func(name, want string, setup func(t *testing.T, dir string)) tc {
		return tc{name: name, setup: setup, want: want}
	}
	cases := []tc{
		dataCase("truncated images", "truncated", func(t *testing.T, dir string) {
			p := filepath.Join(dir, trainImages)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/3], 0o644)
		}),
		dataCase("empty images", "empty file", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, trainImages), nil, 0o644)
		}),
		dataCase("not gzip", "not a gzip stream", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, trainImages), []byte("P5 28 28 255\n"), 0o644)
		}),
		dataCase("wrong magic", "magic number", func(t *testing.T, dir string) {
			rewrite(t, filepath.Join(dir, trainImages), func(b []byte) []byte { b[3] = 0x02; return b })
		}),
		dataCase("wrong dimension", "want 28x28", func(t *testing.T, dir string) {
			rewrite(t, filepath.Join(dir, trainImages), func(b []byte) []byte {
				binary.BigEndian.PutUint32(b[4:], 47040)
				binary.BigEndian.PutUint32(b[8:], 20)
				binary.BigEndian.PutUint32(b[12:], 50)
				return b
			})
		}),
		dataCase("count mismatch", "labels for", func(t *testing.T, dir string) {
			rewrite(t, filepath.Join(dir, trainLabels), func(b []byte) []byte {
				binary.BigEndian.PutUint32(b[4:], 59999)
				return b[:len(b)-1]
			})
		}),
		dataCase("trailing payload", "more payload", func(t *testing.T, dir string) {
			rewrite(t, filepath.Join(dir, testLabels), func(b []byte) []byte { return append(b, 3, 4) })
		}),
		dataCase("label out of range", "outside [0, 10)", func(t *testing.T, dir string) {
			rewrite(t, filepath.Join(dir, trainLabels), func(b []byte) []byte { b[8+123] = 42; return b })
		}),
		dataCase("missing file", "build.sh", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, testLabels))
		}),
		{name: "missing data folder", args: []string{"--data", "/nonexistent/sgds-data"}, want: "no such file"},
		{name: "data folder is a file", args: []string{"--data", "/etc/hostname"}, want: "not a directory"},
		{name: "output is a file", args: []string{"--out", "/etc/hostname"}, want: "not a directory"},
		{name: "output not writable", args: []string{"--out", "/proc/sgds-out"}, want: "output folder"},
		{name: "batch 0", args: []string{"--batch", "0"}, want: "--batch"},
		{name: "batch negative", args: []string{"--batch", "-5"}, want: "--batch"},
		{name: "lr 0", args: []string{"--lr", "0"}, want: "--lr"},
		{name: "lr negative", args: []string{"--lr", "-0.1"}, want: "--lr"},
		{name: "lr NaN", args: []string{"--lr", "NaN"}, want: "--lr"},
		{name: "lr Inf", args: []string{"--lr", "Inf"}, want: "--lr"},
		{name: "momentum 1", args: []string{"--momentum", "1"}, want: "--momentum"},
		{name: "epochs 0", args: []string{"--epochs", "0"}, want: "--epochs"},
		{name: "drop 1", args: []string{"--sampler", "sgds", "--drop", "1"}, want: "--drop"},
		{name: "readd negative", args: []string{"--sampler", "sgds", "--readd", "-0.1"}, want: "--readd"},
		{name: "kept floor 1.5", args: []string{"--sampler", "sgds", "--kept-floor", "1.5"}, want: "--kept-floor"},
		{name: "mix 2", args: []string{"--sampler", "sgds", "--mix", "2"}, want: "--mix"},
		{name: "debias 1.5", args: []string{"--sampler", "sgds", "--debias", "1.5"}, want: "--debias"},
		{name: "order seed negative", args: []string{"--order-seed", "-1"}, want: "--order-seed"},
		{name: "readd score", args: []string{"--sampler", "sgds", "--readd-score", "oldest"}, want: "oldest"},
		{name: "transient negative", args: []string{"--sampler", "sgds", "--transient", "-1"}, want: "ransient"},
		{name: "unknown model", args: []string{"--model", "resnet"}, want: "unknown model \"resnet\""},
		{name: "unknown dataset", args: []string{"--dataset", "cifar10"}, want: "unknown dataset \"cifar10\""},
		{name: "unknown device", args: []string{"--device", "tpu"}, want: "unknown device \"tpu\""},
		{name: "cuda not built", args: []string{"--device", "cuda"}, want: "not compiled"},
		{name: "unknown sampler", args: []string{"--sampler", "greedy"}, want: "unknown sampler \"greedy\""},
		{name: "unknown score", args: []string{"--sampler", "sgds", "--score", "entropy"}, want: "unknown score \"entropy\""},
		{name: "target 0", args: []string{"--target-acc", "0"}, want: "--target-acc"},
		{name: "target above 1", args: []string{"--target-acc", "1.5"}, want: "--target-acc"},
		{name: "validation too large", args: []string{"--val", "60000"}, want: "--val"},
		{name: "not a number", args: []string{"--lr", "fast"}, want: "invalid value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"train", "--model", "mlp", "--epochs", "1", "--out", t.TempDir()}
			if c.setup == nil {
				// A bad flag is refused before anything is read or
				// allocated: the app in this process (checkBadInProcess).
				checkBadInProcess(t, append(args, c.args...), c.want)
				return
			}
			dir := realMNISTCopy(t)
			c.setup(t, dir)
			args = append(args, "--data", dir)
			checkBad(t, append(args, c.args...), nil, c.want)
		})
	}
	more := moreBadInputs()
	for _, c := range more {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.setup != nil {
				c.setup(t, dir)
			}
			checkBad(t, expand(c.args, dir), c.env, c.want)
		})
	}
	t.Logf("%d kinds of bad input tried, each under a %v timeout with peak memory at most %d MiB", len(cases)+len(more), badInputTimeout, maxBadInputRSS>>20)
}

// TestTrainWritesResults runs a tiny real training (1 epoch of a 2,000-image
// prefix is not possible from the CLI, so 1 epoch of the MLP) only when not
// in -short mode.
func TestTrainWritesResults(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a full MLP epoch; covered by make test")
	}
	out := t.TempDir()
	code, log := runSGDS(t, "train", "--model", "mlp", "--epochs", "1", "--seed", "3", "--out", out, "--target-acc", "0.5")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, log)
	}
	for _, f := range []string{"metrics.jsonl", "summary.json"} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil || len(b) == 0 {
			t.Fatalf("%s missing: %v", f, err)
		}
	}
	sum, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	if !strings.Contains(string(sum), `"time_to_target": {`) {
		t.Fatalf("target 0.5 not recorded:\n%s", sum)
	}
}

// TestAutoDeviceRecorded trains with --device auto and expects summary.json
// to name the backend that ran, not "auto".
func TestAutoDeviceRecorded(t *testing.T) {
	out := t.TempDir()
	if code, log := runSGDS(t, "train", "--model", "mlp", "--subset", "640", "--epochs", "1", "--device", "auto", "--out", out); code != 0 {
		t.Fatalf("exit %d:\n%s", code, log)
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Config struct{ Device string } `json:"config"`
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Config.Device != "cpu" && sum.Config.Device != "cuda" {
		t.Fatalf("summary.json records device %q", sum.Config.Device)
	}
}

func TestDevices(t *testing.T) {
	code, out := runSGDS(t, "devices")
	if code != 0 || !strings.Contains(out, "cpu") || !strings.Contains(out, "cuda\tnot built in") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}
