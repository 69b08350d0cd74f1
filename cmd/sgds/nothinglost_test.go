package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sgds/sgds/bench"
	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/engine/data/datatest"
	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/training"
)

// The tests of the rules of README's "Nothing is lost" (issue 23): one
// per rule, in-process where the rule is not about the process.

// tiny is an in-process training run of a second or two.
var tiny = []string{"--model", "mlp", "--subset", "256", "--test-subset", "200", "--epochs", "1", "--quiet"}

// TestPipeClosedKeepsPrintedEpochs (R6): `sgds train … | head -3` ends the
// run when its stdout closes, and every epoch it printed has its metrics
// and its checkpoint.
func TestPipeClosedKeepsPrintedEpochs(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := sgdsCommand(ctx, []string{"SGDS_QUIET=false"}, "train", "--model", "mlp", "--subset", "640", "--epochs", "6", "--out", out)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(stdout)
	last := 0
	for range 3 { // head -3
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if strings.HasPrefix(line, "epoch") {
			last++
		}
	}
	stdout.Close()
	code := exitCode(t, cmd.Wait())
	if code == 0 || last == 0 {
		t.Fatalf("exit %d after %d epoch lines: the closed pipe did not end the run", code, last)
	}
	if code == 141 || code == -1 {
		t.Fatalf("killed by SIGPIPE (exit %d): the epoch in progress is lost", code)
	}
	b, err := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n < last {
		t.Errorf("metrics.jsonl holds %d epochs, %d were printed", n, last)
	}
	ck, err := training.LoadCheckpoint(filepath.Join(out, training.CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ck.Meta.History); n < last {
		t.Errorf("the checkpoint is of epoch %d, %d were printed", n, last)
	}
}

// TestConfigZeroKnobs (R9): a run with --debias 0 and --systematic=false
// is run again by --config summary.json with those values, also from an
// older summary.json that left them out.
func TestConfigZeroKnobs(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	args := append([]string{"train", "--sampler", "sgds", "--debias", "0", "--systematic=false", "--out", a}, tiny...)
	if code, out := runCLI(t, args...); code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	check := func(path string) {
		t.Helper()
		var s run.Summary
		readJSON(t, path, &s)
		if sc := s.Config.Schedule; sc == nil || sc.Debias != 0 || sc.Systematic {
			t.Errorf("%s: schedule %+v, want debias 0 and systematic false", path, sc)
		}
	}
	check(filepath.Join(a, "summary.json"))
	// An older summary.json omitted the zero values.
	var m map[string]any
	readJSON(t, filepath.Join(a, "summary.json"), &m)
	sched := m["config"].(map[string]any)["schedule"].(map[string]any)
	delete(sched, "debias")
	delete(sched, "systematic")
	old := filepath.Join(dir, "old.json")
	b, _ := json.Marshal(m)
	os.WriteFile(old, b, 0o644)
	for _, cfg := range []string{filepath.Join(a, "summary.json"), old} {
		out := filepath.Join(dir, "again-"+filepath.Base(cfg))
		if code, msg := runCLI(t, "train", "--config", cfg, "--out", out, "--quiet"); code != 0 {
			t.Fatalf("--config %s: exit %d\n%s", cfg, code, msg)
		}
		check(filepath.Join(out, "summary.json"))
	}
}

// tinyCompare runs a comparison of a few seconds into out, in-process.
func tinyCompare(t *testing.T, out string, extra ...string) string {
	t.Helper()
	args := append([]string{"compare", "--model", "mlp", "--subset", "256", "--test-subset", "200", "--epochs", "1", "--seeds", "1",
		"--targets", "0.5", "--method", "uniform", "--quiet", "--out", out}, extra...)
	code, msg := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d\n%s", args, code, msg)
	}
	return msg
}

// TestFoldersHoldingResultsRefused (R2): every command that writes a
// folder refuses one holding results without --resume or --force, before
// it trains; --force deletes the earlier results, plots included.
func TestFoldersHoldingResultsRefused(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"compare", "--seeds", "1", "--method", "uniform"}, "sgds compare --resume"},
		{[]string{"tune", "--lrs", "0.1", "--momenta", "0.5", "--val", "100", "--method", "uniform"}, "--force"},
		{[]string{"correlate", "--samples", "100"}, "--force"},
		{[]string{"patterns", "--epochs", "2"}, "--force"},
		{[]string{"train"}, "sgds train --resume"},
	} {
		for _, held := range []string{"compare.json", "tune.json", "summary.json", "correlate.json", "patterns.json"} {
			out := filepath.Join(dir, c.args[0]+"-"+held)
			os.MkdirAll(out, 0o755)
			os.WriteFile(filepath.Join(out, held), []byte("{}"), 0o644)
			args := append(append(append([]string{}, c.args...), "--out", out), tiny...)
			code, msg := runCLI(t, args...)
			if code == 0 || !strings.Contains(msg, "holds the results of an earlier run ("+held+")") || !strings.Contains(msg, c.want) {
				t.Errorf("%v: exit %d, want a refusal naming %s and %s:\n%s", args, code, held, c.want, msg)
			}
			if b, _ := os.ReadFile(filepath.Join(out, held)); string(b) != "{}" {
				t.Errorf("%v: a refused run changed %s", args, held)
			}
		}
	}
	// --force starts over: the old comparison's plots go with it.
	out := filepath.Join(dir, "old")
	os.MkdirAll(out, 0o755)
	os.WriteFile(filepath.Join(out, "acc_vs_seconds.png"), []byte("old"), 0o644)
	os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine"), 0o644)
	if code, msg := runCLI(t, "compare", "--out", out); code == 0 || !strings.Contains(msg, "acc_vs_seconds.png") {
		t.Fatalf("a folder with an old plot: exit %d\n%s", code, msg)
	}
	var notesBuf strings.Builder
	defer func(w io.Writer) { notes = w }(notes)
	notes = &notesBuf
	tinyCompare(t, out, "--force")
	if !strings.Contains(notesBuf.String(), "--force: removed "+filepath.Join(out, "acc_vs_seconds.png")) {
		t.Errorf("--force did not name the plot it removed:\n%s", notesBuf.String())
	}
	if b, _ := os.ReadFile(filepath.Join(out, "notes.txt")); string(b) != "mine" {
		t.Error("--force removed a file that is not sgds's")
	}
}

// TestPlotWritesOnlyItsOutputs (R1, R7): plot never rewrites compare.json
// (its input), and stops when its context is cancelled (SIGINT, SIGTERM).
func TestPlotWritesOnlyItsOutputs(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cmp")
	tinyCompare(t, out)
	path := filepath.Join(out, "compare.json")
	before, _ := os.ReadFile(path)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(path, old, old)
	if code, msg := runCLI(t, "plot", out); code != 0 {
		t.Fatalf("plot: exit %d\n%s", code, msg)
	}
	st, _ := os.Stat(path)
	if after, _ := os.ReadFile(path); string(after) != string(before) || !st.ModTime().Equal(old) {
		t.Error("plot rewrote compare.json")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	app := newApp()
	var buf strings.Builder
	app.Writer, app.ErrWriter = &buf, &buf
	err := app.RunContext(ctx, []string{"sgds", "plot", out})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "compare.json is untouched") {
		t.Errorf("plot after a signal: %v", err)
	}
}

// TestPlotTakesTheLock (R1): plot during a comparison is refused by the
// folder's lock, naming the holder.
func TestPlotTakesTheLock(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cmp")
	cmp, _ := startSGDS(t, "compare", "--model", "mlp", "--subset", "6400", "--epochs", "200", "--seeds", "1", "--method", "uniform", "--out", out)
	path := filepath.Join(out, "compare.json")
	waitForFile(t, path, time.Minute)
	checkBad(t, []string{"plot", out}, nil, fmt.Sprintf("in use by another sgds run (process %d", cmp.Process.Pid))
}

// TestLargestInputsRoundTrip (R3): counts from the command line are
// bounded before anything is allocated, and a comparison with the most
// targets accepted writes a compare.json that plot and compare --resume
// read back; one whose compare.json could outgrow what sgds reads is
// refused before it trains.
func TestLargestInputsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	list := func(n int) string {
		var ts []string
		for i := range n {
			ts = append(ts, fmt.Sprintf("0.%04d", 5000+i))
		}
		return strings.Join(ts, ",")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"compare", "--targets", list(bench.MaxTargets + 1)}, "--targets: 101 accuracy targets, at most 100"},
		{[]string{"compare", "--seeds", strings.Repeat("1,", bench.MaxSeeds) + "2"}, "--seeds: 1001 seeds"},
		{[]string{"compare", "--subset", "640", "--epochs", "100000", "--eval-every", "64", "--out", filepath.Join(dir, "big")}, "compare.json could grow to"},
		{[]string{"tune", "--lrs", strings.Repeat("0.1,", 1000) + "0.1"}, "--lrs: 1001 values"},
	} {
		code, msg := runCLI(t, c.args...)
		if code == 0 || !strings.Contains(msg, c.want) {
			t.Errorf("%v: exit %d, want %q:\n%s", c.args[:3], code, c.want, msg)
		}
	}
	out := filepath.Join(dir, "cmp")
	tinyCompare(t, out, "--targets", list(bench.MaxTargets))
	if code, msg := runCLI(t, "plot", out); code != 0 {
		t.Fatalf("plot of the largest accepted targets: exit %d\n%s", code, msg)
	}
	if code, msg := runCLI(t, "compare", "--resume", out, "--quiet"); code != 0 {
		t.Fatalf("compare --resume of the largest accepted targets: exit %d\n%s", code, msg)
	}
}

// TestResultValuesRangeChecked (R5, R16): plot and compare --resume
// range-check every value of compare.json before use: a time of 1e300, a
// negative count, an accuracy outside [0, 1] or a method name the command
// line refuses is an error naming the file and the value, never a panic
// or a plot of nonsense.
func TestResultValuesRangeChecked(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	tinyCompare(t, good)
	for _, c := range []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"seconds 1e300", func(m map[string]any) { epoch0(m)["train_seconds"] = 1e300 }, "train_seconds 1e+300"},
		{"grid samples -1e18", func(m map[string]any) { eval0(m)["grid_samples"] = -1e18 }, "grid_samples -1000000000000000000"},
		{"accuracy 7.5", func(m map[string]any) { epoch0(m)["test_acc"] = 7.5 }, "test_acc 7.5: not an accuracy"},
		{"accuracy -3", func(m map[string]any) { eval0(m)["test_acc"] = -3 }, "test_acc -3: not an accuracy"},
		{"method name", func(m map[string]any) {
			name := "a|b\n\x00c"
			m["config"].(map[string]any)["methods"].([]any)[0].(map[string]any)["name"] = name
			m["runs"].([]any)[0].(map[string]any)["method"] = name
		}, "config.methods: method name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-"))
			os.MkdirAll(out, 0o755)
			var m map[string]any
			readJSON(t, filepath.Join(good, "compare.json"), &m)
			c.edit(m)
			b, _ := json.Marshal(m)
			os.WriteFile(filepath.Join(out, "compare.json"), b, 0o644)
			for _, args := range [][]string{{"plot", out}, {"compare", "--resume", out, "--quiet"}} {
				code, msg := runCLI(t, args...)
				if code == 0 || !strings.Contains(msg, "compare.json") || !strings.Contains(msg, c.want) {
					t.Errorf("%v: exit %d, want an error naming %q:\n%s", args, code, c.want, msg)
				}
			}
			if _, err := os.Stat(filepath.Join(out, "compare.md")); err == nil {
				t.Error("compare.md written from a bad compare.json")
			}
		})
	}
}

func epoch0(m map[string]any) map[string]any {
	return m["runs"].([]any)[0].(map[string]any)["epochs"].([]any)[0].(map[string]any)
}

func eval0(m map[string]any) map[string]any {
	return m["runs"].([]any)[0].(map[string]any)["evals"].([]any)[0].(map[string]any)
}

// TestConfigFileKinds (R8, R13, R14, R20): --config refuses a result file
// it does not read (compare.json, tune.json) saying what to pass; a YAML
// file with a "config:" key is read as flags, so that its other keys are
// checked; a key given twice, a second document and an alias are refused
// by name.
func TestConfigFileKinds(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, content, want string
	}{
		{"compare.json", `{"provenance": {}, "config": {"base": {"model": "mlp"}, "seeds": [1]}, "train_samples": 640, "complete": true, "runs": [], "summary": []}`, "sgds compare --resume DIR"},
		{"tune.json", `{"provenance": {}, "config": {"base": {"model": "mlp"}}, "complete": true, "trials": [], "chosen": []}`, "sgds compare --tuned FILE"},
		{"flags.yaml", "config:\n  model: mlp\nepohcs: 2\n", `"config" is not a flag`},
		{"dup.yaml", "epochs: 1\nmodel: mlp\nepochs: 5\n", `line 3: key "epochs" given twice (first on line 1)`},
		{"docs.yaml", "epochs: 1\n---\nepochs: 5\n", "line 2: a second YAML document"},
		{"alias.yaml", "lr: &n 0.1\nmomentum: *n\n", "line 2: YAML aliases (*n) are not supported"},
		{"unknown-alias.yaml", "batch: *n\n", "YAML aliases (*name) are not supported"},
	} {
		path := filepath.Join(dir, c.name)
		os.WriteFile(path, []byte(c.content), 0o644)
		code, msg := runCLI(t, append([]string{"train", "--config", path, "--out", filepath.Join(dir, "out")}, tiny...)...)
		if code == 0 || !strings.Contains(msg, "--config "+path) || !strings.Contains(msg, c.want) {
			t.Errorf("--config %s: exit %d, want %q:\n%s", c.name, code, c.want, msg)
		}
	}
}

// TestTunedChecksModelAndData (R12): compare --tuned refuses a tune.json
// made for another model or data set.
func TestTunedChecksModelAndData(t *testing.T) {
	dir := t.TempDir()
	tj := filepath.Join(dir, "tune.json")
	os.WriteFile(tj, []byte(`{"provenance": {}, "config": {"base": {"dataset": "fashion-mnist", "model": "cnn"}}, "complete": true, "trials": [],
		"chosen": [{"method": "uniform", "lr": 0.1, "momentum": 0.9, "val_acc": 0.9}]}`), 0o644)
	code, msg := runCLI(t, "compare", "--model", "mlp", "--tuned", tj, "--method", "u:sampler=uniform,tuned=uniform", "--out", filepath.Join(dir, "out"))
	if code == 0 || !strings.Contains(msg, "--tuned "+tj+": tuned for the cnn on fashion-mnist, this comparison trains the mlp on mnist") {
		t.Errorf("exit %d:\n%s", code, msg)
	}
}

// TestResumeChecksTheData (R10, R25): a checkpoint and a compare.json
// record the data they trained on, and a resume given other data (other
// labels, another image size) is refused blaming --data; a checkpoint
// written before the record is checked by its model's size.
func TestResumeChecksTheData(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	for _, d := range []string{a, b, c} {
		os.MkdirAll(d, 0o755)
	}
	datatest.WriteMNISTCut(t, a, datatest.Cut{Train: 300, Test: 200, Top: 4, Left: 2, Rows: 20, Cols: 24, Label: datatest.Mod(3)})
	datatest.WriteMNISTCut(t, b, datatest.Cut{Train: 300, Test: 200, Top: 4, Left: 2, Rows: 20, Cols: 24, Label: func(d int) int { return (d + 1) % 3 }})
	datatest.WriteMNISTCut(t, c, datatest.Cut{Train: 300, Test: 200, Pool: 2, Label: datatest.Mod(3)})
	out := filepath.Join(dir, "run")
	if code, msg := runCLI(t, "train", "--dataset", "idx", "--data", a, "--model", "mlp", "--epochs", "1", "--quiet", "--out", out); code != 0 {
		t.Fatalf("exit %d\n%s", code, msg)
	}
	for _, c := range []struct{ data, want string }{
		{b, "--data " + b + ": not the data the run trained on: its labels differ"},
		{c, "--data " + c + ": not the data the run trained on: its images are 14×14, the run trained on 20×24"},
	} {
		if code, msg := runCLI(t, "train", "--resume", out, "--epochs", "2", "--data", c.data); code == 0 || !strings.Contains(msg, c.want) {
			t.Errorf("--resume --data %s: exit %d, want %q:\n%s", c.data, code, c.want, msg)
		}
	}
	// A checkpoint from before the record.
	editJob(t, out, func(j *run.Job) {
		if j.DataPrint == nil {
			t.Fatal("the checkpoint does not record its data")
		}
		j.DataPrint = nil
	})
	if code, msg := runCLI(t, "train", "--resume", out, "--epochs", "2", "--data", c); code == 0 || !strings.Contains(msg, "--data "+c+": not the data the run trained on") {
		t.Errorf("an older checkpoint resumed on other images: exit %d:\n%s", code, msg)
	}
	if code, msg := runCLI(t, "train", "--resume", out, "--epochs", "2", "--data", a, "--quiet"); code != 0 {
		t.Errorf("resume on its own data: exit %d\n%s", code, msg)
	}

	cmp := filepath.Join(dir, "cmp")
	if code, msg := runCLI(t, "compare", "--dataset", "idx", "--data", a, "--model", "mlp", "--epochs", "1", "--seeds", "1", "--targets", "0.5",
		"--method", "uniform", "--quiet", "--out", cmp); code != 0 {
		t.Fatalf("compare: exit %d\n%s", code, msg)
	}
	if code, msg := runCLI(t, "compare", "--resume", cmp, "--data", b, "--quiet"); code == 0 || !strings.Contains(msg, "--data "+b+": not the data") {
		t.Errorf("compare --resume on other data: exit %d:\n%s", code, msg)
	}
}

// TestCompareResumeKeepsProvenance (R11): compare --resume refuses a
// compare.json written by another binary or machine unless --force, and
// keeps the provenance of the start, adding its own and recording which
// invocation trained each run.
func TestCompareResumeKeepsProvenance(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cmp")
	tinyCompare(t, out, "--seeds", "1,2")
	path := filepath.Join(out, "compare.json")
	var m map[string]any
	readJSON(t, path, &m)
	m["provenance"].(map[string]any)["cpu"] = "Another CPU"
	run1 := m["runs"].([]any)[1].(map[string]any)
	run1["done"] = false
	run1["epochs"], run1["evals"], run1["test_acc"], run1["targets"] = []any{}, []any{}, []any{}, []any{}
	b, _ := json.Marshal(m)
	os.WriteFile(path, b, 0o644)
	code, msg := runCLI(t, "compare", "--resume", out, "--quiet")
	if code == 0 || !strings.Contains(msg, "cpu Another CPU → ") || !strings.Contains(msg, "--force") {
		t.Fatalf("resume on another machine: exit %d\n%s", code, msg)
	}
	if code, msg := runCLI(t, "compare", "--resume", out, "--quiet", "--force"); code != 0 {
		t.Fatalf("--resume --force: exit %d\n%s", code, msg)
	}
	var res bench.CompareResult
	readJSON(t, path, &res)
	if res.Provenance.CPU != "Another CPU" || len(res.Resumes) != 1 || res.Resumes[0].CPU == "Another CPU" {
		t.Errorf("provenance %q, resumes %+v: want the start's kept and this one added", res.Provenance.CPU, res.Resumes)
	}
	if res.Runs[0].Session != 0 || res.Runs[1].Session != 1 || !res.Runs[1].Done {
		t.Errorf("sessions %d, %d: want 0 for the kept run, 1 for the one the resume trained", res.Runs[0].Session, res.Runs[1].Session)
	}
}

// TestMisspeltVariablesWarned (R15): an SGDS_* variable that is no flag's
// and none of the others sgds reads is warned about, with the closest
// name; the flags' variables and the others are not.
func TestMisspeltVariablesWarned(t *testing.T) {
	t.Setenv("SGDS_EPOHCS", "2")
	t.Setenv("SGDS_KAKURENBO_HIDE", "0.2")
	t.Setenv("SGDS_MEMORY_BUDGET", "8GiB")
	t.Setenv("SGDS_KERNELS", "portable")
	t.Setenv("SGDS_TEST_SIGNAL_AFTER_STEPS", "")
	code, msg := runCLI(t, "methods")
	if code != 0 || !strings.Contains(msg, "sgds: warning: SGDS_EPOHCS is not a variable sgds reads; it is ignored (did you mean SGDS_EPOCHS?)") {
		t.Errorf("exit %d:\n%s", code, msg)
	}
	if n := strings.Count(msg, "warning"); n != 1 {
		t.Errorf("%d warnings, want 1 (SGDS_EPOHCS):\n%s", n, msg)
	}
}

// TestNetMemoryChecked (R4): the memory of a net (and of what compare
// holds at once: a net per seed in training, the other methods parked) is
// checked against the budget before it is allocated: an error naming the
// model and the budget, never an out-of-memory crash.
func TestNetMemoryChecked(t *testing.T) {
	dir := t.TempDir()
	datatest.WriteMNISTCut(t, dir, datatest.Cut{Train: 300, Test: 200, Label: datatest.Mod(10)})
	base := []string{"--dataset", "idx", "--data", dir, "--model", "mlp", "--epochs", "1", "--quiet"}
	t.Setenv("SGDS_MEMORY_BUDGET", "2MiB") // the data fits, one MLP (3.6 MB) does not
	code, msg := runCLI(t, append([]string{"train", "--out", filepath.Join(dir, "a")}, base...)...)
	if code == 0 || !strings.Contains(msg, "--model mlp on 28×28 images (203530 parameters) at --batch 64: needs 3.5 MiB, over the memory budget of 2 MiB") {
		t.Errorf("train: exit %d\n%s", code, msg)
	}
	t.Setenv("SGDS_MEMORY_BUDGET", "8MiB") // one MLP fits, not with four parked runs (6.2 MiB)
	code, msg = runCLI(t, append([]string{"compare", "--seeds", "1", "--targets", "0.5", "--method", "uniform", "--method", "a:sampler=uniform,lr=0.1",
		"--method", "b:sampler=uniform,lr=0.2", "--method", "c:sampler=uniform,lr=0.3", "--out", filepath.Join(dir, "b")}, base...)...)
	if code == 0 || !strings.Contains(msg, "1 nets and 4 parked runs at once (4 methods × 1 seeds in parallel)") || !strings.Contains(msg, "over the memory budget of 8 MiB") {
		t.Errorf("compare: exit %d\n%s", code, msg)
	}
}

// TestPatternsNeedsADecile (R17): patterns refuses fewer training samples
// than loss deciles instead of showing empty deciles as 0.0%.
func TestPatternsNeedsADecile(t *testing.T) {
	code, msg := runCLI(t, "patterns", "--model", "mlp", "--subset", "9", "--batch", "3", "--epochs", "2", "--test-subset", "100", "--quiet",
		"--out", filepath.Join(t.TempDir(), "p"))
	if code == 0 || !strings.Contains(msg, "patterns needs at least 10 training samples (one per loss decile), got 9: give a larger --subset") {
		t.Errorf("exit %d\n%s", code, msg)
	}
}

// TestMethodNamedUniform (R21): a method named uniform that does not
// sample uniformly is refused saying that compare adds the uniform
// baseline under that name.
func TestMethodNamedUniform(t *testing.T) {
	code, msg := runCLI(t, "compare", "--method", "uniform:sampler=sgds", "--out", filepath.Join(t.TempDir(), "c"))
	if code == 0 || !strings.Contains(msg, "--method uniform:sampler=sgds: compare adds the uniform baseline under the name uniform") {
		t.Errorf("exit %d\n%s", code, msg)
	}
}

// TestDataBesideTheBinary (R22): bin/sgds run from another folder without
// a Go module cache finds data/mnist beside the binary, and a data set it
// cannot find is named with every folder searched.
func TestDataBesideTheBinary(t *testing.T) {
	repo, elsewhere := t.TempDir(), t.TempDir()
	src, err := data.Locate("mnist", "")
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(repo, "bin"), 0o755)
	os.MkdirAll(filepath.Join(repo, "data"), 0o755)
	if err := os.Symlink(src, filepath.Join(repo, "data", "mnist")); err != nil {
		t.Fatal(err)
	}
	exe, _ := os.ReadFile(sgdsBin)
	bin := filepath.Join(repo, "bin", "sgds")
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) {
		cmd := sgdsCommand(context.Background(), []string{"GOMODCACHE=" + filepath.Join(elsewhere, "none"), "GOPATH=", "HOME=" + elsewhere}, args...)
		cmd.Path, cmd.Dir = bin, elsewhere
		out, err := cmd.CombinedOutput()
		return exitCode(t, err), string(out)
	}
	if code, out := run("train", "--model", "mlp", "--subset", "256", "--epochs", "1", "--out", filepath.Join(elsewhere, "run")); code != 0 {
		t.Fatalf("bin/sgds from another folder: exit %d\n%s", code, out)
	}
	os.Remove(filepath.Join(repo, "data", "mnist"))
	code, out := run("train", "--model", "mlp", "--subset", "256", "--epochs", "1", "--out", filepath.Join(elsewhere, "run2"))
	if code == 0 || !strings.Contains(out, "searched ") || !strings.Contains(out, filepath.Join(repo, "data", "mnist")) || !strings.Contains(out, filepath.Join(elsewhere, "data", "mnist")) {
		t.Errorf("missing data: exit %d, want every folder searched named:\n%s", code, out)
	}
}

// editJob rewrites the job recorded in the checkpoint of the run in dir.
func editJob(t *testing.T, dir string, edit func(*run.Job)) {
	t.Helper()
	path := filepath.Join(dir, training.CheckpointFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := training.UnmarshalCheckpoint(raw)
	if err != nil {
		t.Fatal(err)
	}
	var job run.Job
	if err := json.Unmarshal(ck.Meta.Config, &job); err != nil {
		t.Fatal(err)
	}
	edit(&job)
	ck.Meta.Config, _ = json.Marshal(job)
	raw, _ = ck.MarshalBinary()
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestResumeOnAnotherDevice (R23): the checkpoint of a --device cuda run
// resumes with --device cpu, and summary.json records the switch; without
// --device the message says to give it.
func TestResumeOnAnotherDevice(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	if code, msg := runCLI(t, append([]string{"train", "--out", out}, tiny...)...); code != 0 {
		t.Fatalf("exit %d\n%s", code, msg)
	}
	editJob(t, out, func(j *run.Job) { j.Run.Device = "cuda" })
	if _, err := engine.LookupBackend("cuda"); err != nil {
		code, msg := runCLI(t, "train", "--resume", out, "--epochs", "2")
		if code == 0 || !strings.Contains(msg, "the run trained on --device cuda, which cannot run here") || !strings.Contains(msg, "give --device cpu") {
			t.Errorf("resume of a cuda run on a machine without it: exit %d\n%s", code, msg)
		}
	}
	if code, msg := runCLI(t, "train", "--resume", out, "--epochs", "2", "--device", "cpu", "--quiet"); code != 0 {
		t.Fatalf("--device cpu: exit %d\n%s", code, msg)
	}
	var s run.Summary
	readJSON(t, filepath.Join(out, "summary.json"), &s)
	if s.Config.Device != "cpu" || s.EpochsDone != 2 || len(s.DeviceSwitches) != 1 || s.DeviceSwitches[0] != "cuda → cpu after epoch 1" {
		t.Errorf("summary: device %s, %d epochs, switches %q", s.Config.Device, s.EpochsDone, s.DeviceSwitches)
	}
}

// TestTuneResume (R24): an interrupted tune says how many trials
// tune.json holds and how to continue, and tune --resume keeps them and
// trains the rest.
func TestTuneResume(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tune")
	args := []string{"sgds", "tune", "--model", "mlp", "--subset", "256", "--val", "100", "--epochs", "1", "--seeds", "1,2",
		"--lrs", "0.05,0.1,0.2", "--momenta", "0.5,0.9", "--method", "uniform", "--quiet", "--out", out}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			var res bench.TuneResult
			if b, err := os.ReadFile(filepath.Join(out, "tune.json")); err == nil && json.Unmarshal(b, &res) == nil && len(res.Trials) >= 2 {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	app := newApp()
	var buf strings.Builder
	app.Writer, app.ErrWriter = &buf, &buf
	err := app.RunContext(ctx, args)
	var part bench.TuneResult
	readJSON(t, filepath.Join(out, "tune.json"), &part)
	want := fmt.Sprintf("partial result in %s/tune.json (%d of 12 trials); continue with: sgds tune --resume %s", out, len(part.Trials), out)
	if !errors.Is(err, context.Canceled) || !strings.Contains(buf.String(), want) || part.Complete {
		t.Fatalf("interrupted tune: %v, complete %v\n%s\nwant %q", err, part.Complete, buf.String(), want)
	}
	if code, msg := runCLI(t, "tune", "--resume", out, "--quiet"); code != 0 {
		t.Fatalf("tune --resume: exit %d\n%s", code, msg)
	}
	var done bench.TuneResult
	readJSON(t, filepath.Join(out, "tune.json"), &done)
	if !done.Complete || len(done.Trials) != 12 || len(done.Resumes) != 1 {
		t.Fatalf("after the resume: complete %v, %d trials, %d resumes", done.Complete, len(done.Trials), len(done.Resumes))
	}
	for i, tr := range part.Trials {
		if done.Trials[i] != tr {
			t.Errorf("trial %d changed: %+v → %+v", i, tr, done.Trials[i])
		}
	}
}

// TestResultKindOfCommittedFiles (R8, R13): the result files in
// bench/results, written by earlier versions, are told apart by kind.
func TestResultKindOfCommittedFiles(t *testing.T) {
	for path, want := range map[string]string{
		"../../bench/results/correlate-cnn/correlate.json":        "correlate.json",
		"../../bench/results/patterns-cnn/patterns.json":          "patterns.json",
		"../../bench/results/board-mnist-mlp/compare.json":        "compare.json",
		"../../bench/results/tune-mnist-mlp/tune.json":            "tune.json",
		"../../bench/results/correlate-cnn-native/correlate.json": "correlate.json",
	} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var root yaml.Node
		if err := yaml.Unmarshal(b, &root); err != nil {
			t.Fatal(err)
		}
		if got := resultKind(root.Content[0]); got != want {
			t.Errorf("%s: kind %q, want %q", path, got, want)
		}
	}
}

// TestInterruptedCompareCountsWhatItSaved (R18): an interrupted compare
// counts the finished runs that compare.json holds, which a resume keeps.
func TestInterruptedCompareCountsWhatItSaved(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cmp")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			var res bench.CompareResult
			if b, err := os.ReadFile(filepath.Join(out, "compare.json")); err == nil && json.Unmarshal(b, &res) == nil && len(res.Runs) > 0 && res.Runs[0].Done {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	app := newApp()
	var buf strings.Builder
	app.Writer, app.ErrWriter = &buf, &buf
	err := app.RunContext(ctx, []string{"sgds", "compare", "--model", "mlp", "--subset", "256", "--test-subset", "200", "--epochs", "1",
		"--seeds", "1,2,3,4,5,6", "--targets", "0.5", "--method", "uniform", "--quiet", "--out", out})
	var res bench.CompareResult
	readJSON(t, filepath.Join(out, "compare.json"), &res)
	done := 0
	for _, r := range res.Runs {
		if r.Done {
			done++
		}
	}
	want := fmt.Sprintf("partial result in %s/compare.json (%d of 6 runs finished); continue with: sgds compare --resume %s", out, done, out)
	if !errors.Is(err, context.Canceled) || !strings.Contains(buf.String(), want) {
		t.Fatalf("%v\n%s\nwant %q", err, buf.String(), want)
	}
}
