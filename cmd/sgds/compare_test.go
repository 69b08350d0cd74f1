package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/sgds/sgds/bench"
	"github.com/sgds/sgds/internal/lock"
)

// runApp runs the command line in this process (the app the binary runs)
// and returns the error and the output.
func runApp(t *testing.T, args ...string) (error, string) {
	t.Helper()
	var out bytes.Buffer
	app := newApp()
	app.Writer, app.ErrWriter = &out, &out
	app.ExitErrHandler = func(*cli.Context, error) {}
	err := app.RunContext(context.Background(), append([]string{"sgds"}, args...))
	return err, out.String()
}

// small is a comparison of a few batches: 1,280 training images, 256 for
// validation, the MLP.
var small = []string{"--model", "mlp", "--subset", "1280", "--val", "256", "--quiet"}

func TestCompareFlagErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--seed", "3"}, "flag provided but not defined: -seed"},
		{[]string{"--method", "x:transient=2.9"}, "transient=2.9: want a decimal integer in [0, 2147483647]"},
		{[]string{"--method", "u:sampler=uniform,drop=0.3"}, "drop= applies to sampler sgds, not to uniform"},
		{[]string{"--method", "a b"}, "the name"},
		{[]string{"--method", "rs2:frac=0.3", "--method", "rs2:frac=0.5"}, `name "rs2" used twice`},
		{[]string{"--baseline", "nope"}, "--baseline nope: no method of that name"},
		{[]string{"--tuned", "/nonexistent/tune.json"}, "--tuned"},
		{[]string{"--method", "u:sampler=uniform,tuned=uniform"}, "needs a tuning file"},
		{[]string{"--seeds", "1,1"}, "listed twice"},
		{[]string{"--seeds", "0x1"}, "not a seed"},
		{[]string{"--eval-every", "10"}, "--eval-every"},
		{[]string{"--resume", t.TempDir()}, "compare.json"},
		{[]string{"--resume", t.TempDir(), "--epochs", "3"}, "--epochs cannot be changed"},
	}
	for _, c := range cases {
		err, out := runApp(t, append(append([]string{"compare"}, small...), c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want %q\n%s", c.args, err, c.want, out)
		}
	}
}

// snakeCase is the form of every key of compare.json (method names, the
// keys of "tuned", are data, not keys).
var snakeCase = regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)

func checkKeys(t *testing.T, v any, path string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if path != ".config.tuned" && !snakeCase.MatchString(k) {
				t.Errorf("key %s.%s is not snake_case", path, k)
			}
			checkKeys(t, e, path+"."+k)
		}
	case []any:
		for _, e := range x {
			checkKeys(t, e, path+"[]")
		}
	}
}

// TestCompareKillAndResume kills a comparison (SIGKILL) after its first
// finished run, reads the partial compare.json, resumes it to the end and
// redraws its plots; every key is snake_case and a provenance is recorded.
func TestCompareKillAndResume(t *testing.T) {
	dir := t.TempDir()
	args := append([]string{"compare", "--epochs", "4", "--seeds", "1,2,3", "--method", "rs2:frac=0.5", "--method", "sgds",
		"--targets", "0.5,0.9", "--baseline", "uniform", "--baseline", "rs2", "--out", dir}, small...)
	// 1,024 training images, batch 64: a seed's three runs take about 160
	// steps, the comparison about 480; the kill lands in seed 2.
	cmd := exec.Command(sgdsBin, args...)
	cmd.Env = append(os.Environ(), "SGDS_QUIET=1", "SGDS_TEST_SUBSET=500", "SGDS_TEST_SIGNAL_AFTER_STEPS=250:KILL")
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the comparison was not killed at step 250: %v", err)
	}
	path := filepath.Join(dir, "compare.json")
	part, err := bench.ReadCompare(dir)
	if err != nil {
		t.Fatalf("partial compare.json unreadable: %v", err)
	}
	done := 0
	for _, r := range part.Runs {
		if r.Done {
			done++
		}
	}
	if part.Complete || done == 0 {
		t.Fatalf("after the kill: complete %t, %d runs done; want a partial result", part.Complete, done)
	}
	err, out := runApp(t, "compare", "--resume", dir, "--quiet")
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	res, err := bench.ReadCompare(dir)
	if err != nil || !res.Complete || len(res.Runs) != 9 {
		t.Fatalf("after resuming: %v, %+v", err, res)
	}
	for _, r := range part.Runs {
		if r.Done {
			got := res.Run(r.Method, r.Seed)
			if got.Epochs[len(got.Epochs)-1].TrainSeconds != r.Epochs[len(r.Epochs)-1].TrainSeconds {
				t.Fatalf("finished run %s seed %d was trained again", r.Method, r.Seed)
			}
		}
	}
	b, _ := os.ReadFile(path)
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	checkKeys(t, raw, "")
	if p, ok := raw["provenance"].(map[string]any); !ok || p["command"] == "" || p["go_version"] == "" {
		t.Fatalf("provenance %v", raw["provenance"])
	}
	for _, f := range bench.CompareFiles {
		os.Remove(filepath.Join(dir, f))
	}
	os.WriteFile(path, b, 0o644)
	if err, out := runApp(t, "plot", dir); err != nil || !strings.Contains(out, "### Target 0.9") {
		t.Fatalf("plot: %v\n%s", err, out)
	}
	for _, f := range bench.CompareFiles {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Fatalf("plot did not write %s: %v", f, err)
		}
	}
	// plot's options: some methods, one axis, one format, a size and a
	// range, into another folder; options that name nothing are refused.
	other := t.TempDir()
	if err, out := runApp(t, "plot", "--method", "sgds", "--method", "uniform", "--axis", "samples", "--format", "pdf",
		"--size", "6x4", "--ymin", "0.1", "--out", other, dir); err != nil {
		t.Fatalf("plot with options: %v\n%s", err, out)
	}
	got, _ := filepath.Glob(filepath.Join(other, "*.*"))
	got = slices.DeleteFunc(got, func(p string) bool { return filepath.Base(p) == lock.File }) // the folder's lock
	if len(got) != 4 ||
		!slices.Contains(got, filepath.Join(other, "acc_vs_samples.pdf")) || !slices.Contains(got, filepath.Join(other, "epoch_fraction.pdf")) {
		t.Fatalf("plot --axis samples --format pdf wrote %v", got)
	}
	for _, bad := range [][]string{{"--method", "nope"}, {"--axis", "budget"}, {"--format", "gif"}, {"--size", "6"}, {"--ymin", "2"}, {"--ymin", "0.9", "--ymax", "0.8"}} {
		if err, _ := runApp(t, append(append([]string{"plot"}, bad...), "--out", t.TempDir(), dir)...); err == nil {
			t.Errorf("plot %v: accepted", bad)
		}
	}
}

// TestTuneThenCompare tunes uniform on a tiny grid, then compares with
// the tuned setting: compare.json records the choice and the method's lr.
func TestTuneThenCompare(t *testing.T) {
	dir := t.TempDir()
	err, out := runApp(t, append([]string{"tune", "--epochs", "1", "--lrs", "0.01,0.05", "--momenta", "0.5", "--method", "uniform", "--out", dir}, small...)...)
	if err != nil {
		t.Fatalf("tune: %v\n%s", err, out)
	}
	tr, err := bench.ReadTune(filepath.Join(dir, "tune.json"))
	if err != nil || len(tr.Trials) != 2 || len(tr.Chosen) != 1 {
		t.Fatalf("tune.json: %v %+v", err, tr)
	}
	ch := tr.Chosen[0]
	cdir := t.TempDir()
	err, out = runApp(t, append([]string{"compare", "--epochs", "1", "--seeds", "1", "--targets", "0.5", "--tuned", filepath.Join(dir, "tune.json"),
		"--method", "uniform", "--method", "u-tuned:sampler=uniform,tuned=uniform", "--out", cdir}, small...)...)
	if err != nil {
		t.Fatalf("compare: %v\n%s", err, out)
	}
	res, err := bench.ReadCompare(cdir)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Config.Methods[1]
	if m.Tuned != "uniform" || m.LR != ch.LR || m.Momentum != ch.Momentum || res.Config.Tuned["uniform"].LR != ch.LR {
		t.Fatalf("method %+v, tuned %+v, chosen %+v", m, res.Config.Tuned, ch)
	}
	if err, _ := runApp(t, append([]string{"tune", "--val", "0", "--out", t.TempDir()}, small[:4]...)...); err == nil || !strings.Contains(err.Error(), "--val") {
		t.Fatalf("tune without validation: %v", err)
	}
}
