package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgds/sgds/internal/lock"
	"github.com/sgds/sgds/training"
)

// quickJob is a small run on real MNIST: the MLP on 640 training images,
// evaluated on 500 test images once per epoch.
func quickJob(samplerName string, epochs int) Job {
	c := Config{Dataset: "mnist", Model: "mlp", Device: "cpu", Sampling: Sampling{Sampler: samplerName},
		Epochs: epochs, Batch: 64, LR: 0.05, Momentum: 0.5, Seed: 3, Subset: 640, TestSubset: 500, EvalEvery: 640}
	c.Defaults()
	return Job{Run: c, Targets: []float64{0.5}}
}

// metricsOf reads dir's metrics.jsonl without the fields that measure
// time.
func metricsOf(t *testing.T, dir string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		for k := range m {
			if strings.HasSuffix(k, "seconds") {
				delete(m, k)
			}
		}
		out = append(out, m)
	}
	return out
}

func sameJSON(t *testing.T, a, b any) bool {
	t.Helper()
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestStartStopResume trains sgds for 3 epochs in one go, and again
// stopped deterministically inside epoch 2 (a hook cancels after 4 steps)
// then resumed: the checkpoint holds the partial epoch, the resumed run's
// metrics equal the uninterrupted run's, and a resume of a complete run
// says so.
func TestStartStopResume(t *testing.T) {
	dir := t.TempDir()
	whole, parted := filepath.Join(dir, "whole"), filepath.Join(dir, "parted")
	job := quickJob("sgds", 3)
	res, err := Start(context.Background(), job, whole, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.EpochsDone != 3 || res.Summary.TimeToTarget == nil {
		t.Fatalf("summary %+v", res.Summary)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	steps := 0
	o := Options{Hooks: func(int) Hooks {
		return Hooks{OnStep: func(epoch int, _ []int, _ []float32) {
			if epoch == 2 {
				if steps++; steps == 4 {
					cancel()
				}
			}
		}}
	}}
	_, err = Start(ctx, job, parted, o)
	var ie *training.InterruptedError
	if !errors.As(err, &ie) || ie.Partial.Epoch != 2 || !strings.Contains(err.Error(), "--resume "+parted) {
		t.Fatalf("interrupted run: %v", err)
	}
	ck, err := training.LoadCheckpoint(filepath.Join(parted, training.CheckpointFile))
	if err != nil || ck.Meta.Partial == nil || len(ck.Meta.History) != 1 {
		t.Fatalf("checkpoint after the stop: %v %+v", err, ck)
	}
	var log bytes.Buffer
	if _, err := Resume(context.Background(), parted, Overrides{Value: func(string, any) any { return nil }}, Options{Log: &log}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "resuming "+parted+" after epoch 1 (and") {
		t.Errorf("log: %s", log.String())
	}
	if a, b := metricsOf(t, whole), metricsOf(t, parted); !sameJSON(t, a, b) {
		t.Errorf("resumed run differs:\n%v\n%v", a, b)
	}
	done, err := Resume(context.Background(), parted, Overrides{}, Options{})
	if err != nil || !done.Complete || done.Summary.EpochsDone != 3 {
		t.Fatalf("resume of a complete run: %+v %v", done, err)
	}
	if _, err := Resume(context.Background(), parted, Overrides{SetEpochs: true, Epochs: 2}, Options{}); err == nil || !strings.Contains(err.Error(), "--epochs 2") {
		t.Errorf("--epochs below those done: %v", err)
	}
}

// TestStartClaimsTheFolder: a folder that holds a run is refused without
// Force, and Force removes the old run's files; a folder another process
// (or this one, through another lock) holds is refused.
func TestStartClaimsTheFolder(t *testing.T) {
	dir := t.TempDir()
	job := quickJob("uniform", 1)
	if _, err := Start(context.Background(), job, dir, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(context.Background(), job, dir, Options{}); err == nil || !strings.Contains(err.Error(), "--resume") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("second start: %v", err)
	}
	var notes bytes.Buffer
	if _, err := Start(context.Background(), job, dir, Options{Force: true, Notes: &notes}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(notes.String(), "--force: removed") {
		t.Errorf("notes: %q", notes.String())
	}
	l, err := lock.Acquire(dir) // as another process would
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if _, err := Start(context.Background(), job, dir, Options{Force: true}); !errors.Is(err, lock.ErrHeld) {
		t.Fatalf("start into a held folder: %v", err)
	}
}

// TestOpenFolder: holds of one folder in a process share its lock, which
// the last Close releases; stale temporary files are removed and named.
func TestOpenFolder(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, ".summary.json.tmp-123")
	if err := os.WriteFile(stale, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	var notes bytes.Buffer
	a, err := OpenFolder(dir, &notes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) || !strings.Contains(notes.String(), stale) {
		t.Errorf("stale file kept: %v; notes %q", err, notes.String())
	}
	b, err := OpenFolder(dir, &notes)
	if err != nil {
		t.Fatalf("second hold in one process: %v", err)
	}
	a.Close()
	if _, err := lock.Acquire(dir); err == nil {
		t.Fatal("lock released while a hold remains")
	}
	b.Close()
	l, err := lock.Acquire(dir)
	if err != nil {
		t.Fatalf("lock not released by the last Close: %v", err)
	}
	l.Release()
}

// TestResumeChecks: a corrupt checkpoint, a configuration that disagrees
// with the parameters, and settings given with the resume that differ from
// the run's are refused, each naming what is wrong.
func TestResumeChecks(t *testing.T) {
	dir := t.TempDir()
	job := quickJob("kakurenbo", 1)
	job.Run.Kakurenbo.MaxHide = 0.2
	if _, err := Start(context.Background(), job, dir, Options{}); err != nil {
		t.Fatal(err)
	}
	given := map[string]any{"kakurenbo-hide": 0.5, "kakurenbo-tau": 0.7, "sb-beta": 1.0, "lr": 0.05, "force": true, "epochs": 3}
	ov := Overrides{Given: []string{"kakurenbo-hide", "kakurenbo-tau", "sb-beta", "lr", "force", "epochs"},
		Value: func(flag string, _ any) any { return given[flag] }}
	got := strings.Join(job.Conflicts(dir, ov), "\n")
	for _, want := range []string{"--kakurenbo-hide 0.5: the run has 0.2", "--sb-beta: the run uses the kakurenbo sampler, which has no --sb-beta", "--force: the run is continued"} {
		if !strings.Contains(got, want) {
			t.Errorf("conflicts %q lack %q", got, want)
		}
	}
	if strings.Contains(got, "tau") || strings.Contains(got, "--lr") || strings.Contains(got, "epochs") {
		t.Errorf("a setting equal to the run's, or --epochs, reported: %q", got)
	}
	if _, err := Resume(context.Background(), dir, ov, Options{}); err == nil || !strings.Contains(err.Error(), "--kakurenbo-hide 0.5") {
		t.Errorf("resume with conflicts: %v", err)
	}
	ck := filepath.Join(dir, training.CheckpointFile)
	b, _ := os.ReadFile(ck)
	b[len(b)/2] ^= 0xff
	os.WriteFile(ck, b, 0o644)
	if _, err := Resume(context.Background(), dir, Overrides{}, Options{}); !errors.Is(err, training.ErrBadCheckpoint) {
		t.Errorf("corrupt checkpoint: %v", err)
	}
	if _, err := Resume(context.Background(), filepath.Join(dir, "none"), Overrides{}, Options{}); err == nil {
		t.Error("resume of a missing folder accepted")
	}
}

// TestSummaryRecordsEverySetting: summary.json records every setting of
// the sampler, zero values included, so a re-run reproduces it.
func TestSummaryRecordsEverySetting(t *testing.T) {
	dir := t.TempDir()
	job := quickJob("sgds", 1)
	job.Run.Schedule.Debias, job.Run.Schedule.Systematic = 0, false
	if _, err := Start(context.Background(), job, dir, Options{}); err != nil {
		t.Fatal(err)
	}
	var s struct {
		Config map[string]any `json:"config"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	sc := s.Config["schedule"].(map[string]any)
	d, _ := Lookup("sgds")
	for _, st := range d.Settings {
		if k, ok := strings.CutPrefix(st.JSON, "schedule."); ok {
			if _, has := sc[k]; !has {
				t.Errorf("summary.json lacks schedule.%s", k)
			}
		}
	}
	if sc["debias"] != 0.0 || sc["systematic"] != false {
		t.Errorf("schedule %v", sc)
	}
}

// TestBudgetedRun: a run with --budget 0.75 of 2 epochs on 640 samples
// plans 2 epochs, ends at the first step boundary at or past 960 samples,
// records its schedule, and a resume finds it complete.
func TestBudgetedRun(t *testing.T) {
	dir := t.TempDir()
	job := quickJob("sgds", 2)
	job.Run.Budget, job.Run.LRSchedule, job.Run.Warmup = 0.75, "linear", 0.1
	if got := job.Run.PlannedEpochs(); got != 2 {
		t.Fatalf("planned epochs %d", got)
	}
	res, err := Start(context.Background(), job, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Summary.SamplesSeen; s < 960 || s >= 960+64 || res.Summary.Config.LRSchedule != "linear" {
		t.Fatalf("summary %+v", res.Summary)
	}
	done, err := Resume(context.Background(), dir, Overrides{}, Options{})
	if err != nil || !done.Complete {
		t.Fatalf("resume of a spent budget: %+v %v", done, err)
	}
	bad := job.Run
	for _, spoil := range []func(c *Config){
		func(c *Config) { c.LRSchedule = "exp" }, func(c *Config) { c.Warmup = 1 }, func(c *Config) { c.Budget = -1 }, func(c *Config) { c.Budget = MaxBudget + 1 },
	} {
		c := bad
		spoil(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
