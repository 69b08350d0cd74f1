package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/run"
)

// The tests of the rules of README's "Nothing is lost" (issue 23): one
// per rule, in-process where the rule is not about the process.

// tiny is an in-process training run of a second or two.
var tiny = []string{"--model", "mlp", "--subset", "640", "--test-subset", "500", "--epochs", "1", "--quiet"}

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
	ck, err := engine.LoadCheckpoint(filepath.Join(out, engine.CheckpointFile))
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
