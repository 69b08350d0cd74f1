package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/training"
)

// metricsCore reads metrics.jsonl without its timing fields.
func metricsCore(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("metrics.jsonl line %q: %v", sc.Text(), err)
		}
		for _, k := range []string{"train_seconds", "eval_seconds"} {
			delete(m, k)
		}
		b, _ := json.Marshal(m)
		out = append(out, string(b))
	}
	return out
}

// TestKillAndResume kills a run with SIGKILL and another with SIGINT in
// their second epoch, resumes both, and expects the same metrics.jsonl as
// an uninterrupted run with the same seed; the interrupted runs' finished
// epochs must survive the kill.
func TestKillAndResume(t *testing.T) {
	args := []string{"train", "--model", "mlp", "--subset", "6400", "--epochs", "4", "--sampler", "sgds", "--seed", "4"}
	ref := t.TempDir()
	if code, out := runSGDS(t, append(args, "--out", ref)...); code != 0 {
		t.Fatalf("reference run: exit %d\n%s", code, out)
	}
	want := metricsCore(t, ref)
	// 6,400 samples, batch 64: 100 steps an epoch; the signal comes after
	// step 150, in the middle of epoch 2 (SGDS_TEST_SIGNAL_AFTER_STEPS).
	for _, sig := range []string{"KILL", "INT"} {
		t.Run(sig, func(t *testing.T) {
			dir := t.TempDir()
			r := runBounded(t, time.Minute, []string{"SGDS_TEST_SIGNAL_AFTER_STEPS=150:" + sig}, append(args, "--out", dir)...)
			if r.code == 0 {
				t.Fatalf("the run was not stopped at step 150:\n%s", r.out)
			}
			got := metricsCore(t, dir)
			if len(got) == 0 || got[0] != want[0] {
				t.Fatalf("finished epoch lost or changed by the kill: %v", got)
			}
			if code, out := runSGDS(t, "train", "--resume", dir); code != 0 {
				t.Fatalf("resume: exit %d\n%s", code, out)
			}
			got = metricsCore(t, dir)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("resumed metrics differ:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestBadCheckpoints resumes from a corrupted checkpoint, a truncated one,
// a folder without one, and one whose configuration names another model.
func TestBadCheckpoints(t *testing.T) {
	good := t.TempDir()
	if code, out := runSGDS(t, "train", "--model", "mlp", "--subset", "640", "--epochs", "1", "--out", good); code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	raw, err := os.ReadFile(filepath.Join(good, "checkpoint.bin"))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		content []byte
		want    string
	}{
		"flipped byte": {flip(raw, len(raw)/2), "checksum mismatch"},
		"truncated":    {raw[:len(raw)-100], "checksum mismatch"},
		"empty":        {nil, "too short"},
		"not sgds":     {[]byte(strings.Repeat("x", 100)), "wrong magic"},
		"missing":      {[]byte("<remove>"), "no such file"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "checkpoint.bin")
			if string(c.content) != "<remove>" {
				os.WriteFile(p, c.content, 0o644)
			}
			code, out := runSGDS(t, "train", "--resume", dir)
			if code == 0 || !strings.Contains(out, c.want) || strings.Contains(out, "panic") {
				t.Fatalf("exit %d, output:\n%s", code, out)
			}
		})
	}
	t.Run("another model", func(t *testing.T) {
		// A valid checkpoint (checksum and all) of the MLP that claims to be
		// of the CNN: its parameters do not fit the CNN.
		ck, err := training.UnmarshalCheckpoint(raw)
		if err != nil {
			t.Fatal(err)
		}
		var rc run.Job
		json.Unmarshal(ck.Meta.Config, &rc)
		rc.Run.Model, ck.Meta.Model = "cnn", "cnn"
		ck.Meta.Config, _ = json.Marshal(rc)
		dir := t.TempDir()
		if err := training.SaveCheckpoint(filepath.Join(dir, "checkpoint.bin"), ck); err != nil {
			t.Fatal(err)
		}
		code, out := runSGDS(t, "train", "--resume", dir)
		if code == 0 || !strings.Contains(out, "bad checkpoint") || !strings.Contains(out, "parameter") {
			t.Fatalf("exit %d, output:\n%s", code, out)
		}
	})
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x40
	return c
}
