package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgds/sgds/bench"
	"github.com/sgds/sgds/training"
)

// noTime is a run's epochs without the fields that measure time.
func noTime(t *testing.T, r *bench.RunResult) string {
	t.Helper()
	var out []training.EpochMetrics
	for _, e := range r.Epochs {
		e.TrainSeconds, e.EvalSeconds = 0, 0
		out = append(out, e)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestShardsMergeToOneProcess runs a comparison (2 methods × 2 budgets ×
// 2 seeds) in one process and as two shards, merges the shards, and
// expects the same runs, run by run, and the same accuracy tables.
func TestShardsMergeToOneProcess(t *testing.T) {
	dir := t.TempDir()
	args := []string{"compare", "--model", "mlp", "--subset", "640", "--test-subset", "200", "--epochs", "2", "--seeds", "1,2",
		"--budgets", "0.5,1", "--method", "uniform", "--method", "sgds", "--targets", "0.5", "--quiet"}
	for _, part := range [][]string{{"--out", filepath.Join(dir, "one")}, {"--shard", "1/2", "--out", filepath.Join(dir, "s1")}, {"--shard", "2/2", "--out", filepath.Join(dir, "s2")}} {
		if code, out := runCLI(t, append(append([]string{}, args...), part...)...); code != 0 {
			t.Fatalf("%v: exit %d\n%s", part, code, out)
		}
	}
	if code, out := runCLI(t, "merge", "--out", filepath.Join(dir, "m"), filepath.Join(dir, "s1")); code == 0 || !strings.Contains(out, "missing [2]") {
		t.Fatalf("merge of one shard of two: exit %d\n%s", code, out)
	}
	if code, out := runCLI(t, "merge", "--out", filepath.Join(dir, "m"), filepath.Join(dir, "s1"), filepath.Join(dir, "s2")); code != 0 {
		t.Fatalf("merge: exit %d\n%s", code, out)
	}
	one, err := bench.ReadCompare(filepath.Join(dir, "one"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := bench.ReadCompare(filepath.Join(dir, "m"))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Complete || len(m.Runs) != 8 || len(one.Runs) != 8 || m.Config.Shard != nil || len(m.Shards) != 2 {
		t.Fatalf("merged: complete %t, %d runs, shard %v, %d shard provenances", m.Complete, len(m.Runs), m.Config.Shard, len(m.Shards))
	}
	for i := range one.Runs {
		a, b := one.Runs[i], m.Runs[i]
		if a.Method != b.Method || a.Seed != b.Seed || noTime(t, a) != noTime(t, b) {
			t.Errorf("run %d (%s seed %d) differs after the merge", i, a.Method, a.Seed)
		}
	}
	if x, y := bench.BudgetMarkdown(one), bench.BudgetMarkdown(m); budgetAccuracy(x) != budgetAccuracy(y) {
		t.Errorf("budget tables differ:\n%s\n%s", x, y)
	}
	if code, out := runCLI(t, "merge", "--out", filepath.Join(dir, "m"), filepath.Join(dir, "s1"), filepath.Join(dir, "s2")); code == 0 || !strings.Contains(out, "holds a comparison") {
		t.Errorf("merge into a folder holding one: exit %d\n%s", code, out)
	}
}

// budgetAccuracy keeps the accuracy tables of BudgetMarkdown (its first
// table and the paired differences), not the seconds.
func budgetAccuracy(md string) string {
	if i := strings.Index(md, "Smallest budget"); i >= 0 {
		return md[:i]
	}
	return md
}

// TestTuneShardsMerge tunes a small grid in one process and as two
// shards, merges the shards, and expects the same trials in the same
// order and the same choices.
func TestTuneShardsMerge(t *testing.T) {
	dir := t.TempDir()
	args := []string{"tune", "--model", "mlp", "--subset", "640", "--val", "200", "--epochs", "2", "--lrs", "0.05,0.1", "--momenta", "0.5",
		"--schedules", "constant,linear", "--method", "uniform", "--method", "rs2:frac=0.5", "--quiet"}
	for _, part := range [][]string{{"--out", filepath.Join(dir, "one")}, {"--shard", "1/2", "--out", filepath.Join(dir, "s1")}, {"--shard", "2/2", "--out", filepath.Join(dir, "s2")}} {
		if code, out := runCLI(t, append(append([]string{}, args...), part...)...); code != 0 {
			t.Fatalf("%v: exit %d\n%s", part, code, out)
		}
	}
	if code, out := runCLI(t, "merge", "--out", filepath.Join(dir, "m"), filepath.Join(dir, "s1"), filepath.Join(dir, "s2")); code != 0 {
		t.Fatalf("merge: exit %d\n%s", code, out)
	}
	one, err := bench.ReadTune(filepath.Join(dir, "one", "tune.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := bench.ReadTune(filepath.Join(dir, "m", "tune.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Trials) != 8 || len(m.Trials) != 8 || m.Config.Shard != nil || len(m.Shards) != 2 {
		t.Fatalf("trials %d and %d, shard %v, %d shard provenances", len(one.Trials), len(m.Trials), m.Config.Shard, len(m.Shards))
	}
	for i := range one.Trials {
		a, b := one.Trials[i], m.Trials[i]
		a.TrainSeconds, b.TrainSeconds = 0, 0
		if a != b {
			t.Errorf("trial %d: %+v, merged %+v", i, a, b)
		}
	}
	if len(one.Chosen) != len(m.Chosen) || one.Chosen[0] != m.Chosen[0] || one.Chosen[1] != m.Chosen[1] {
		t.Errorf("chosen %+v, merged %+v", one.Chosen, m.Chosen)
	}
}
