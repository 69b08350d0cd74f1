package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// quick is a training run of a few seconds.
var quick = []string{"--model", "mlp", "--subset", "640", "--epochs", "1"}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	r := runBounded(t, 3*time.Minute, nil, args...)
	if r.code != 0 || r.hung {
		t.Fatalf("sgds %s: exit %d (hung %v)\n%s", strings.Join(args, " "), r.code, r.hung, r.out)
	}
	return r.out
}

func readJSONMap(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// TestInterruptStops is defect 3: the first Ctrl-C stops every loop
// within a second, saying what was saved, on a line of its own. The
// timing loop of correlate ignored it; a training run saves its
// checkpoint and says where.
func TestInterruptStops(t *testing.T) {
	t.Run("correlate timing loop", func(t *testing.T) {
		out := t.TempDir()
		cmd, stderr := startSGDS(t, "correlate", "--model", "mlp", "--subset", "640", "--epochs", "1", "--samples", "100",
			"--timing-steps", "100000", "--out", out)
		for {
			line, err := stderr.ReadString('\n')
			if err != nil {
				t.Fatalf("correlate ended before timing: %v", err)
			}
			if strings.Contains(line, "timing the norms") {
				break
			}
		}
		time.Sleep(200 * time.Millisecond)
		code, msg, took := interrupt(t, cmd, stderr)
		if code != 130 || took > 2*time.Second {
			t.Fatalf("exit %d after %v:\n%s", code, took, msg)
		}
		if !strings.Contains(msg, "interrupted while timing") || !strings.Contains(msg, "nothing was written to "+out) {
			t.Fatalf("message does not say what was saved:\n%s", msg)
		}
		if _, err := os.Stat(filepath.Join(out, "correlate.json")); err == nil {
			t.Fatal("correlate.json written by an interrupted run")
		}
	})
	t.Run("training", func(t *testing.T) {
		out := t.TempDir()
		cmd, stderr := startSGDS(t, "train", "--model", "mlp", "--subset", "6400", "--epochs", "200", "--out", out)
		waitForFile(t, filepath.Join(out, "checkpoint.bin"), time.Minute)
		code, msg, took := interrupt(t, cmd, stderr)
		if code != 130 {
			t.Fatalf("exit %d after %v:\n%s", code, took, msg)
		}
		if !strings.HasPrefix(msg, "sgds: interrupted") || !strings.Contains(msg, "saved: "+filepath.Join(out, "checkpoint.bin")) || !strings.Contains(msg, "--resume "+out) {
			t.Fatalf("message does not start its line or say what was saved:\n%q", msg)
		}
	})
}

// TestResumeFinishedRun is defect 4: resuming a finished run prints its
// real summary and says it is complete (exit 0); --epochs below what is
// done is refused; a higher --epochs trains on.
func TestResumeFinishedRun(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, append([]string{"train", "--out", dir, "--target-acc", "0.3"}, quick...)...)
	sum := readJSONMap(t, filepath.Join(dir, "summary.json"))
	acc := fmt.Sprintf("test accuracy %.4f (best %.4f) after 1 epochs", sum["final_test_acc"], sum["best_test_acc"])
	for _, extra := range [][]string{nil, {"--epochs", "1"}} {
		out := mustRun(t, append([]string{"train", "--resume", dir}, extra...)...)
		if !strings.Contains(out, "is complete: 1 of 1 epochs") || !strings.Contains(out, acc) || strings.Contains(out, "after 0 epochs") {
			t.Fatalf("resume %v of a finished run:\n%s\nwant %q", extra, out, acc)
		}
		if !strings.Contains(out, "target 0.3000 reached") {
			t.Fatalf("target not reported:\n%s", out)
		}
	}
	checkBad(t, []string{"train", "--resume", dir, "--epochs", "0"}, nil, "--epochs 0: the run in "+dir+" has trained 1 epochs")
	out := mustRun(t, "train", "--resume", dir, "--epochs", "2")
	if !strings.Contains(out, "after 2 epochs") {
		t.Fatalf("resume --epochs 2:\n%s", out)
	}
}

// TestResumeConflicts is defect 5: flags that conflict with the resumed
// run are an error listing each, and nothing is written elsewhere; flags
// equal to the run's, --quiet and --epochs are accepted.
func TestResumeConflicts(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, append([]string{"train", "--out", dir}, quick...)...)
	elsewhere := filepath.Join(t.TempDir(), "elsewhere")
	r := runBounded(t, time.Minute, nil, "train", "--resume", dir, "--model", "cnn", "--sampler", "sgds", "--batch", "7", "--lr", "0.5", "--out", elsewhere)
	if r.code == 0 {
		t.Fatalf("exit 0:\n%s", r.out)
	}
	for _, want := range []string{"--model cnn: the run has mlp", "--sampler sgds: the run has uniform", "--batch 7: the run has 64", "--lr 0.5: the run has 0.01", "--out " + elsewhere} {
		if !strings.Contains(r.out, want) {
			t.Errorf("conflict %q not listed:\n%s", want, r.out)
		}
	}
	if _, err := os.Stat(elsewhere); err == nil {
		t.Error("--out of a refused resume was created")
	}
	r = runBounded(t, time.Minute, []string{"SGDS_DROP=0.3"}, "train", "--resume", dir)
	if r.code == 0 || !strings.Contains(r.out, "--drop: the run uses the uniform sampler") {
		t.Errorf("SGDS_DROP with --resume of a uniform run: exit %d\n%s", r.code, r.out)
	}
	out := mustRun(t, "train", "--resume", dir, "--model", "mlp", "--batch", "64", "--quiet", "--out", dir, "--epochs", "2")
	if !strings.Contains(out, "after 2 epochs") {
		t.Fatalf("resume with the run's own settings:\n%s", out)
	}
}

// TestOutputFolderLocked is defect 8: while a run writes into a folder, a
// second run into it fails at once naming the first; a folder holding a
// checkpoint is not overwritten without --force; the default --out names
// the sampler.
func TestOutputFolderLocked(t *testing.T) {
	dir := t.TempDir()
	first, _ := startSGDS(t, "train", "--model", "mlp", "--subset", "6400", "--epochs", "200", "--out", dir)
	waitForFile(t, filepath.Join(dir, "checkpoint.bin"), time.Minute)
	start := time.Now()
	checkBad(t, append([]string{"train", "--out", dir}, quick...), nil, fmt.Sprintf("in use by another sgds run (process %d", first.Process.Pid))
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the second run took %v to fail", d)
	}
	checkBad(t, []string{"train", "--resume", dir}, nil, fmt.Sprintf("process %d", first.Process.Pid))
	first.Process.Kill()
	first.Wait()

	ck, _ := os.ReadFile(filepath.Join(dir, "checkpoint.bin"))
	checkBad(t, append([]string{"train", "--out", dir}, quick...), nil, "--force")
	if now, _ := os.ReadFile(filepath.Join(dir, "checkpoint.bin")); string(now) != string(ck) {
		t.Fatal("a refused run changed the checkpoint")
	}
	out := mustRun(t, append([]string{"train", "--out", dir, "--force"}, quick...)...)
	if !strings.Contains(out, "--force: removed "+filepath.Join(dir, "checkpoint.bin")) {
		t.Fatalf("--force did not say what it removed:\n%s", out)
	}

	wd := t.TempDir()
	data := realMNISTCopy(t)
	for _, s := range []string{"uniform", "sgds"} {
		cmd := sgdsCommand(context.Background(), nil, append([]string{"train", "--sampler", s, "--data", data}, quick...)...)
		cmd.Dir = wd
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", s, err, b)
		}
		if _, err := os.Stat(filepath.Join(wd, "runs", "mnist-mlp-"+s+"-seed1", "summary.json")); err != nil {
			t.Fatalf("default --out of the %s sampler: %v", s, err)
		}
	}
}

// TestStaleTempFiles is defect 14: the temporary files a killed run left
// are removed when the next run starts, and named; other files stay.
func TestStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	stale := []string{".checkpoint.bin.tmp-123456", ".metrics.jsonl.tmp-42", ".summary.json.tmp-7", ".evals.jsonl.tmp-9"}
	keep := []string{".other.tmp-1", ".checkpoint.bin.tmp-x", "notes.txt"}
	for _, f := range append(append([]string{}, stale...), keep...) {
		os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644)
	}
	out := mustRun(t, append([]string{"train", "--out", dir}, quick...)...)
	for _, f := range stale {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s not removed", f)
		}
		if !strings.Contains(out, "removed "+filepath.Join(dir, f)) {
			t.Errorf("removal of %s not reported:\n%s", f, out)
		}
	}
	for _, f := range keep {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s removed: %v", f, err)
		}
	}
}

// TestCorrelateConstantData is defect 11: on identical images with one
// label every correlation is undefined; correlate.json is written with
// null and the reason, and the table is printed.
func TestCorrelateConstantData(t *testing.T) {
	data := realMNISTCopy(t)
	rewrite(t, filepath.Join(data, trainImages), func(b []byte) []byte {
		img := b[16 : 16+784]
		for i := 16 + 784; i+784 <= len(b); i += 784 {
			copy(b[i:], img)
		}
		return b
	})
	rewrite(t, filepath.Join(data, trainLabels), func(b []byte) []byte {
		for i := 8; i < len(b); i++ {
			b[i] = 3
		}
		return b
	})
	out := t.TempDir()
	log := mustRun(t, "correlate", "--model", "mlp", "--subset", "640", "--epochs", "1", "--samples", "200", "--timing-steps", "2", "--data", data, "--out", out)
	if !strings.Contains(log, "score against exact") || !strings.Contains(log, "undefined: loss spearman") {
		t.Fatalf("table:\n%s", log)
	}
	res := readJSONMap(t, filepath.Join(out, "correlate.json"))
	if v, ok := res["spearman"]; !ok || v != nil {
		t.Fatalf("spearman = %v, want null", v)
	}
	und, _ := res["undefined"].(map[string]any)
	if r, _ := und["spearman"].(string); !strings.Contains(r, "same for all 200 samples") {
		t.Fatalf("reason %q", r)
	}
}

// TestPatternsTwoEpochs is defect 15: with 2 epochs every column and
// plot appears once.
func TestPatternsTwoEpochs(t *testing.T) {
	out := t.TempDir()
	log := mustRun(t, "patterns", "--model", "mlp", "--subset", "640", "--epochs", "2", "--out", out)
	var header string
	for _, l := range strings.Split(log, "\n") {
		if strings.HasPrefix(l, "bin ") {
			header = l
		}
	}
	if strings.Count(header, "shufoff 1-2") != 1 || strings.Count(header, "shufon 1-2") != 1 || strings.Count(header, "shuf") != 2 {
		t.Fatalf("header %q", header)
	}
	pngs, _ := filepath.Glob(filepath.Join(out, "patterns_*.png"))
	if len(pngs) != 1 {
		t.Fatalf("plots %v", pngs)
	}
}
