package main

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sgds/sgds/internal/lock"
	"github.com/sgds/sgds/internal/testfs"
	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/training"
)

// maxBadInputRSS bounds the peak resident memory of the binary on any bad
// input: every bad input is refused before its cost is paid (the largest
// legitimate allocation, real MNIST, is about 200 MiB).
const maxBadInputRSS = 1 << 30

// badInputTimeout bounds each bad-input run: none may hang.
const badInputTimeout = 60 * time.Second

// badCase is one kind of bad input: a command line (after setup has
// prepared dir, a fresh folder), extra environment, and a text the error
// must contain (the flag or file at fault).
type badCase struct {
	name  string
	args  []string
	env   []string
	setup func(t *testing.T, dir string) // may add to args through dir-relative paths
	want  string
}

// trainArgs is a quick training run into dir/out plus extra flags.
func trainArgs(extra ...string) []string {
	return append([]string{"train", "--model", "mlp", "--epochs", "1", "--subset", "640", "--out", "{dir}/out"}, extra...)
}

// moreBadInputs are the kinds of bad input beyond the data files and the
// first flag checks of TestBadInput: integers that are not decimal, sizes
// beyond the memory budget or the data, positional arguments, settings
// that would be silently ignored, locked or occupied output folders,
// --config files, --resume misuse and crafted checkpoints, special files
// where files are read, and the experiments' own flags.
func moreBadInputs() []badCase {
	ckDir := func(mutate func(ck *training.Checkpoint, rc *run.Job)) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) { craftCheckpoint(t, filepath.Join(dir, "run"), mutate) }
	}
	writeFile := func(name, content string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	fifo := func(name string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
			if err := testfs.FIFO(filepath.Join(dir, name)); err != nil {
				t.Skip(err)
			}
		}
	}
	return []badCase{
		// Integers are decimal, for flags and SGDS_* alike (defect 7).
		{name: "epochs octal 010", args: trainArgs("--epochs", "010"), want: "--epochs \"010\""},
		{name: "epochs 09", args: trainArgs("--epochs", "09"), want: "--epochs \"09\""},
		{name: "subset hex", args: trainArgs("--subset", "0x7d0"), want: "--subset \"0x7d0\""},
		{name: "batch 0100", args: trainArgs("--batch", "0100"), want: "--batch \"0100\""},
		{name: "batch with separator", args: trainArgs("--batch", "1_000"), want: "--batch \"1_000\""},
		{name: "seed hex", args: trainArgs("--seed", "0x10"), want: "--seed \"0x10\""},
		{name: "seed negative", args: trainArgs("--seed", "-1"), want: "--seed"},
		{name: "lr hex float", args: trainArgs("--lr", "0x1p-3"), want: "--lr \"0x1p-3\""},
		{name: "epochs overflow", args: trainArgs("--epochs", "99999999999999999999"), want: "--epochs"},
		{name: "env epochs octal", args: trainArgs(), env: []string{"SGDS_EPOCHS=010"}, want: "SGDS_EPOCHS"},
		{name: "env batch hex", args: trainArgs(), env: []string{"SGDS_BATCH=0x40"}, want: "--batch \"0x40\""},
		{name: "env budget malformed", args: trainArgs(), env: []string{"SGDS_MEMORY_BUDGET=lots"}, want: "SGDS_MEMORY_BUDGET"},
		// Every size that allocates is bounded (defects 1 and 4).
		{name: "epochs absurd", args: trainArgs("--epochs", "1000000"), want: "--epochs must be in [1, 100000]"},
		{name: "epochs negative", args: trainArgs("--epochs", "-1"), want: "--epochs"},
		{name: "batch 1e18", args: trainArgs("--batch", "1000000000000000000"), want: "--batch 1000000000000000000: needs"},
		{name: "batch 1e7", args: trainArgs("--batch", "10000000"), want: "over the memory budget"},
		{name: "batch over the budget", args: trainArgs("--batch", "64"), env: []string{"SGDS_MEMORY_BUDGET=64KiB"}, want: "--batch 64"},
		{name: "batch above subset", args: trainArgs("--batch", "100000", "--subset", "200"), want: "--batch 100000"},
		{name: "batch above training set", args: trainArgs("--batch", "1000"), want: "--batch 1000: larger than the 640 training samples"},
		{name: "val negative", args: trainArgs("--val", "-1"), want: "--val"},
		{name: "subset negative", args: trainArgs("--subset", "-5"), want: "--subset"},
		{name: "subset above data", args: trainArgs("--subset", "70000"), want: "--subset 70000"},
		// Positional arguments (defect 6).
		{name: "positional first", args: []string{"train", "somedir", "--model", "resnet", "--epochs", "1"}, want: "unexpected argument \"somedir\""},
		{name: "positional last", args: trainArgs("extra"), want: "unexpected argument \"extra\""},
		{name: "unknown command", args: []string{"trian", "--model", "mlp"}, want: "unknown command \"trian\""},
		{name: "unknown flag", args: trainArgs("--epoch", "2"), want: "-epoch"},
		// Silent substitutions and misleading messages (defects 12, 13).
		{name: "drop without sgds", args: trainArgs("--drop", "0.3"), want: "--drop"},
		{name: "knobs without sgds", args: trainArgs("--mix", "0.1", "--unbiased"), want: "--mix, --unbiased"},
		{name: "debias without sgds", args: trainArgs("--debias", "0.5"), want: "--debias"},
		{name: "score without sgds", args: trainArgs("--score", "gradnorm"), want: "--score"},
		{name: "frac without rs2", args: trainArgs("--frac", "0.5"), want: "--frac"},
		{name: "eval-every below batch", args: trainArgs("--eval-every", "10"), want: "--eval-every"},
		{name: "lr above 1e6", args: trainArgs("--lr", "1000001"), want: "--lr"},
		{name: "momentum negative", args: trainArgs("--momentum", "-0.1"), want: "--momentum"},
		{name: "target NaN", args: trainArgs("--target-acc", "NaN"), want: "--target-acc"},
		{name: "transient hex", args: trainArgs("--sampler", "sgds", "--transient", "0x1"), want: "--transient"},
		{name: "empty model", args: trainArgs("--model", ""), want: "--model"},
		{name: "empty dataset", args: trainArgs("--dataset", ""), want: "--dataset"},
		{name: "timing steps 0", args: []string{"correlate", "--model", "mlp", "--epochs", "1", "--subset", "640", "--timing-steps", "0", "--out", "{dir}/out"}, want: "--timing-steps must be in [1, 100000], got 0"},
		{name: "timing steps absurd", args: []string{"correlate", "--model", "mlp", "--epochs", "1", "--timing-steps", "100000000", "--out", "{dir}/out"}, want: "--timing-steps"},
		{name: "correlate samples 5", args: []string{"correlate", "--model", "mlp", "--epochs", "1", "--subset", "640", "--samples", "5", "--out", "{dir}/out"}, want: "--samples"},
		{name: "correlate samples above data", args: []string{"correlate", "--model", "mlp", "--epochs", "1", "--subset", "640", "--samples", "1000", "--out", "{dir}/out"}, want: "--samples"},
		{name: "patterns 1 epoch", args: []string{"patterns", "--model", "mlp", "--epochs", "1", "--subset", "640", "--out", "{dir}/out"}, want: "--epochs"},
		{name: "patterns epochs absurd", args: []string{"patterns", "--model", "mlp", "--epochs", "1000000", "--subset", "640", "--out", "{dir}/out"}, want: "--epochs"},
		{name: "completion zsh", args: []string{"completion", "zsh"}, want: "only bash"},
		// Output folders (defects 8 and 14).
		{name: "out holds a run", args: trainArgs(), setup: ckDirAt("out"), want: "--force"},
		{name: "out locked", args: trainArgs(), setup: func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Join(dir, "out"), 0o755)
			l, err := lock.Acquire(filepath.Join(dir, "out"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Release() })
		}, want: "in use by another sgds run (process " + strconv.Itoa(os.Getpid())},
		{name: "lock file is a FIFO", args: trainArgs(), setup: fifo("out/" + lock.File), want: "named pipe"},
		{name: "lock file is a link", args: trainArgs(), setup: func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Join(dir, "out"), 0o755)
			os.Symlink("/dev/zero", filepath.Join(dir, "out", lock.File))
		}, want: "symbolic link"},
		// --config files.
		{name: "config missing", args: trainArgs("--config", "{dir}/none.yaml"), want: "--config"},
		{name: "config FIFO", args: trainArgs("--config", "{dir}/c.yaml"), setup: fifo("c.yaml"), want: "named pipe"},
		{name: "config /dev/zero", args: trainArgs("--config", "/dev/zero"), want: "/dev/zero"},
		{name: "config unknown key", args: trainArgs("--config", "{dir}/c.yaml"), setup: writeFile("c.yaml", "epochs: 1\nkept_floor: 0.2\n"), want: "\"kept_floor\" is not a flag"},
		{name: "config octal", args: trainArgs("--config", "{dir}/c.yaml"), setup: writeFile("c.yaml", "batch: 010\n"), want: "--batch \"010\""},
		{name: "config not a mapping", args: trainArgs("--config", "{dir}/c.yaml"), setup: writeFile("c.yaml", "- epochs\n"), want: "--config"},
		{name: "config bad bool", args: trainArgs("--config", "{dir}/c.yaml"), setup: writeFile("c.yaml", "sampler: sgds\nunbiased: maybe\n"), want: "--unbiased"},
		{name: "config not YAML", args: trainArgs("--config", "{dir}/c.yaml"), setup: writeFile("c.yaml", "epochs: [1\n"), want: "--config"},
		{name: "config too large", args: trainArgs("--config", "{dir}/c.yaml"), setup: writeFile("c.yaml", "# "+strings.Repeat("x", MaxConfigBytes)+"\n"), want: "too large"},
		{name: "config empty", args: trainArgs("--config", "{dir}/c.yaml"), setup: writeFile("c.yaml", ""), want: "empty"},
		// --resume (defects 4, 5, 10).
		{name: "resume missing folder", args: []string{"train", "--resume", "{dir}/nothing"}, want: "--resume"},
		{name: "resume conflicts", args: []string{"train", "--resume", "{dir}/run", "--model", "cnn", "--batch", "7"}, setup: ckDirAt("run"), want: "--model cnn"},
		{name: "resume epochs below done", args: []string{"train", "--resume", "{dir}/run", "--epochs", "0"}, setup: ckDirAt("run"), want: "--epochs 0"},
		{name: "resume epochs absurd", args: []string{"train", "--resume", "{dir}/run", "--epochs", "1000000"}, setup: ckDirAt("run"), want: "--epochs 1000000"},
		{name: "resume with force", args: []string{"train", "--resume", "{dir}/run", "--force"}, setup: ckDirAt("run"), want: "--force"},
		{name: "checkpoint batch 1e7", args: []string{"train", "--resume", "{dir}/run"}, setup: ckDir(func(_ *training.Checkpoint, rc *run.Job) { rc.Run.Batch = 10_000_000 }), want: "batch 10000000"},
		{name: "checkpoint epochs 0", args: []string{"train", "--resume", "{dir}/run"}, setup: ckDir(func(_ *training.Checkpoint, rc *run.Job) { rc.Run.Epochs = 0 }), want: "0 epochs"},
		{name: "checkpoint epoch 1e6", args: []string{"train", "--resume", "{dir}/run"}, setup: ckDir(func(_ *training.Checkpoint, rc *run.Job) { rc.Run.Epochs = 1_000_000 }), want: "1000000 epochs"},
		{name: "checkpoint history beyond config", args: []string{"train", "--resume", "{dir}/run"}, setup: ckDir(func(ck *training.Checkpoint, rc *run.Job) {
			ck.Meta.History = append(ck.Meta.History, ck.Meta.History[0])
			h := &ck.Meta.History[1]
			h.Epoch, h.SamplesSeen = 2, 2*h.SamplesSeen
		}), want: "reaches epoch 2"},
		{name: "checkpoint NaN parameter", args: []string{"train", "--resume", "{dir}/run", "--epochs", "2"}, setup: ckDir(func(ck *training.Checkpoint, _ *run.Job) {
			ck.Params[0].Data[3] = float32(math.NaN())
		}), want: "parameters"},
		{name: "checkpoint Inf momentum", args: []string{"train", "--resume", "{dir}/run", "--epochs", "2"}, setup: ckDir(func(ck *training.Checkpoint, _ *run.Job) {
			ck.Velocity[1].Data[0] = float32(math.Inf(1))
		}), want: "momentum"},
		{name: "checkpoint version 1", args: []string{"train", "--resume", "{dir}/run"}, setup: func(t *testing.T, dir string) {
			craftCheckpoint(t, filepath.Join(dir, "run"), nil)
			p := filepath.Join(dir, "run", training.CheckpointFile)
			b, _ := os.ReadFile(p)
			binary.LittleEndian.PutUint32(b[8:], 1)
			os.WriteFile(p, b, 0o644)
		}, want: "older sgds"},
		{name: "checkpoint is a FIFO", args: []string{"train", "--resume", "{dir}/run"}, setup: fifo("run/" + training.CheckpointFile), want: "named pipe"},
		{name: "checkpoint links to /dev/zero", args: []string{"train", "--resume", "{dir}/run"}, setup: func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Join(dir, "run"), 0o755)
			os.Symlink("/dev/zero", filepath.Join(dir, "run", training.CheckpointFile))
		}, want: "/dev/zero"},
		{name: "checkpoint data folder holds a FIFO", args: []string{"train", "--resume", "{dir}/run", "--epochs", "2", "--data", "{dir}/data"}, setup: func(t *testing.T, dir string) {
			craftCheckpoint(t, filepath.Join(dir, "run"), nil)
			os.MkdirAll(filepath.Join(dir, "data"), 0o755)
			fifo("data/"+trainImages)(t, dir)
			fifo("data/"+trainLabels)(t, dir)
		}, want: "named pipe"},
		// Data files that are not regular files, or whose headers are bombs.
		{name: "data images FIFO", args: trainArgs("--data", "{dir}/data"), setup: func(t *testing.T, dir string) {
			copyMNIST(t, filepath.Join(dir, "data"))
			os.Remove(filepath.Join(dir, "data", trainImages))
			fifo("data/"+trainImages)(t, dir)
		}, want: "named pipe"},
		{name: "data images link to /dev/zero", args: trainArgs("--data", "{dir}/data"), setup: func(t *testing.T, dir string) {
			copyMNIST(t, filepath.Join(dir, "data"))
			os.Remove(filepath.Join(dir, "data", trainImages))
			os.Symlink("/dev/zero", filepath.Join(dir, "data", trainImages))
		}, want: "/dev/zero"},
		{name: "images 25000x25000", args: trainArgs("--data", "{dir}/data"), setup: func(t *testing.T, dir string) {
			copyMNIST(t, filepath.Join(dir, "data"))
			rewrite(t, filepath.Join(dir, "data", trainImages), func(b []byte) []byte {
				binary.BigEndian.PutUint32(b[4:], 1)
				binary.BigEndian.PutUint32(b[8:], 25000)
				binary.BigEndian.PutUint32(b[12:], 25000)
				return b[:16]
			})
		}, want: trainImages},
		{name: "labels announce 816326", args: trainArgs("--data", "{dir}/data"), setup: func(t *testing.T, dir string) {
			copyMNIST(t, filepath.Join(dir, "data"))
			rewrite(t, filepath.Join(dir, "data", trainLabels), func(b []byte) []byte {
				binary.BigEndian.PutUint32(b[4:], 816326)
				return b
			})
		}, want: trainLabels},
	}
}

// ckDirAt writes a finished one-epoch run's checkpoint into dir/name.
func ckDirAt(name string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) { craftCheckpoint(t, filepath.Join(dir, name), nil) }
}

// goodCheckpoint is the checkpoint of a real one-epoch run of the MLP on
// 640 samples, made once.
var goodCheckpoint []byte

// craftCheckpoint writes into dir a checkpoint of a real finished run,
// changed by mutate (its checksum recomputed), so that only the changed
// field is wrong.
func craftCheckpoint(t *testing.T, dir string, mutate func(ck *training.Checkpoint, rc *run.Job)) {
	t.Helper()
	if goodCheckpoint == nil {
		src := t.TempDir()
		r := runBounded(t, 2*time.Minute, nil, "train", "--model", "mlp", "--subset", "640", "--epochs", "1", "--out", src)
		if r.code != 0 {
			t.Fatalf("reference run: exit %d\n%s", r.code, r.out)
		}
		b, err := os.ReadFile(filepath.Join(src, training.CheckpointFile))
		if err != nil {
			t.Fatal(err)
		}
		goodCheckpoint = b
	}
	ck, err := training.UnmarshalCheckpoint(goodCheckpoint)
	if err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		var rc run.Job
		if err := json.Unmarshal(ck.Meta.Config, &rc); err != nil {
			t.Fatal(err)
		}
		mutate(ck, &rc)
		if ck.Meta.Config, err = json.Marshal(rc); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := ck.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, training.CheckpointFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyMNIST copies the real MNIST files into dst.
func copyMNIST(t *testing.T, dst string) {
	t.Helper()
	src := realMNISTCopy(t)
	if err := os.Rename(src, dst); err != nil {
		if err := os.MkdirAll(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		ents, _ := os.ReadDir(src)
		for _, e := range ents {
			b, _ := os.ReadFile(filepath.Join(src, e.Name()))
			os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644)
		}
	}
}

// expand replaces {dir} in args.
func expand(args []string, dir string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.ReplaceAll(a, "{dir}", dir)
	}
	return out
}

// checkBad runs one bad input and checks the rules every bad input obeys:
// a non-zero exit, a message naming the fault, no panic, no hang, bounded
// memory.
func checkBad(t *testing.T, args, env []string, want string) {
	t.Helper()
	r := runBounded(t, badInputTimeout, env, args...)
	switch {
	case r.hung:
		t.Fatalf("hung for %v: %v\n%s", badInputTimeout, args, r.out)
	case r.code == 0:
		t.Fatalf("exit code 0 for bad input %v; output:\n%s", args, r.out)
	case strings.Contains(r.out, "panic") || strings.Contains(r.out, "goroutine "):
		t.Fatalf("panicked:\n%s", r.out)
	case !strings.Contains(r.out, want):
		t.Fatalf("output does not name the fault %q:\n%s", want, r.out)
	case r.maxRSS > maxBadInputRSS:
		t.Fatalf("peak memory %d MiB for a bad input (bound %d MiB)", r.maxRSS>>20, maxBadInputRSS>>20)
	}
}

// checkBadInProcess runs args through the app in this process (runCLI)
// and expects a non-zero exit code and an error naming the fault, without
// a panic. The process-level checks (hangs, peak memory) are checkBad's.
func checkBadInProcess(t *testing.T, args []string, want string) {
	t.Helper()
	var code int
	var out string
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("panicked on %v: %v", args, p)
			}
		}()
		code, out = runCLI(t, args...)
	}()
	switch {
	case code == 0:
		t.Fatalf("exit code 0 for bad input %v; output:\n%s", args, out)
	case !strings.Contains(out, want):
		t.Fatalf("output does not name the fault %q:\n%s", want, out)
	}
}
