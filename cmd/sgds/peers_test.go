package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sgds/sgds/run"
)

// TestPeerFlagsRefused gives a peer sampler's flags to a run of another
// sampler, and out-of-range values to the peer's own: each is an error
// naming the flag (and the accepted range), before any data is read.
func TestPeerFlagsRefused(t *testing.T) {
	dir := t.TempDir()
	base := []string{"train", "--model", "mlp", "--subset", "640", "--epochs", "1", "--out", filepath.Join(dir, "out")}
	for _, tc := range []struct {
		extra []string
		want  []string
	}{
		{[]string{"--kakurenbo-hide", "0.2"}, []string{"--kakurenbo-hide: only the kakurenbo sampler reads it, this run uses --sampler uniform"}},
		{[]string{"--sampler", "sgds", "--infobatch-r", "0.3", "--infobatch-anneal", "0.5"}, []string{"--infobatch-r, --infobatch-anneal: only the infobatch sampler reads them"}},
		{[]string{"--sampler", "infobatch", "--kf-k", "4"}, []string{"--kf-k: only the kf-is sampler reads it, this run uses --sampler infobatch"}},
		{[]string{"--sampler", "kf-is", "--sb-window", "10"}, []string{"--sb-window", "selective-backprop"}},
		{[]string{"--sampler", "kakurenbo", "--kakurenbo-hide", "1"}, []string{"--kakurenbo-hide", "[0, 1)", "got 1"}},
		{[]string{"--sampler", "kakurenbo", "--kakurenbo-tau", "0"}, []string{"--kakurenbo-tau", "(0, 1]"}},
		{[]string{"--sampler", "infobatch", "--infobatch-r", "-0.1"}, []string{"--infobatch-r", "[0, 1)"}},
		{[]string{"--sampler", "infobatch", "--infobatch-anneal", "NaN"}, []string{"--infobatch-anneal", "[0, 1]"}},
		{[]string{"--sampler", "selective-backprop", "--sb-beta", "Inf"}, []string{"--sb-beta", "finite exponent"}},
		{[]string{"--sampler", "selective-backprop", "--sb-window", "0"}, []string{"--sb-window", "[1, 16777216]"}},
		{[]string{"--sampler", "kf-is", "--kf-k", "0"}, []string{"--kf-k", "[1, 1048576]"}},
		{[]string{"--sampler", "kf-is", "--kf-threshold", "-1"}, []string{"--kf-threshold", "> 0"}},
		{[]string{"--sampler", "kf-is", "--kf-tau-momentum", "1"}, []string{"--kf-tau-momentum", "[0, 1)"}},
		{[]string{"--sampler", "kf-is", "--kf-k", "010"}, []string{"--kf-k \"010\"", "decimal"}},
	} {
		r := runBounded(t, badInputTimeout, nil, append(append([]string{}, base...), tc.extra...)...)
		if r.hung || r.code == 0 || strings.Contains(r.out, "panic") {
			t.Errorf("%v: exit %d (hung %v), want a refusal\n%s", tc.extra, r.code, r.hung, r.out)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(r.out, w) {
				t.Errorf("%v: the error does not say %q:\n%s", tc.extra, w, r.out)
			}
		}
	}
}

// TestPeerFlagsRecorded trains kakurenbo with --kakurenbo-hide, expects
// summary.json to record it (and τ's default), re-runs the summary with
// --config and expects the same settings, and resumes the finished run:
// the same value is accepted, another one and another peer's flag are
// conflicts naming the flag.
func TestPeerFlagsRecorded(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "kb")
	runBoundedOK(t, nil, "train", "--sampler", "kakurenbo", "--kakurenbo-hide", "0.2", "--model", "mlp", "--subset", "1000", "--epochs", "2", "--out", out)
	check := func(path string) {
		t.Helper()
		var sum run.Summary
		readJSON(t, path, &sum)
		kb := sum.Config.Kakurenbo
		if sum.Config.Sampler != "kakurenbo" || kb == nil || kb.MaxHide != 0.2 || kb.Confidence != 0.7 {
			t.Fatalf("%s: sampler %q, kakurenbo settings %+v; want kakurenbo with hide 0.2, tau 0.7", path, sum.Config.Sampler, kb)
		}
		if sum.Config.InfoBatch != nil || sum.Config.Selective != nil || sum.Config.KF != nil || sum.Config.Schedule != nil {
			t.Errorf("%s: settings of another sampler recorded: %+v", path, sum.Config)
		}
	}
	check(filepath.Join(out, "summary.json"))

	again := filepath.Join(dir, "again")
	runBoundedOK(t, nil, "train", "--config", filepath.Join(out, "summary.json"), "--out", again)
	check(filepath.Join(again, "summary.json"))

	if got := runBoundedOK(t, nil, "train", "--resume", out, "--kakurenbo-hide", "0.2"); !strings.Contains(got, "complete") {
		t.Errorf("resume with the run's own --kakurenbo-hide: %s", got)
	}
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--kakurenbo-hide", "0.5"}, "--kakurenbo-hide 0.5: the run has 0.2"},
		{[]string{"--kakurenbo-tau", "0.9"}, "--kakurenbo-tau 0.9: the run has 0.7"},
		{[]string{"--sb-beta", "1"}, "--sb-beta: the run uses the kakurenbo sampler, which has no --sb-beta"},
	} {
		r := runBounded(t, time.Minute, nil, append([]string{"train", "--resume", out}, tc.flags...)...)
		if r.code == 0 || !strings.Contains(r.out, tc.want) {
			t.Errorf("resume %v: exit %d, want an error saying %q:\n%s", tc.flags, r.code, tc.want, r.out)
		}
	}
}

// TestInterruptAbandonsPeerEpoch interrupts a selective-backprop run,
// which cannot resume inside an epoch: the epoch is abandoned, and the
// message names the checkpoint of the epoch before as what is kept, and
// how to continue; that checkpoint is the one --resume finds.
func TestInterruptAbandonsPeerEpoch(t *testing.T) {
	out := t.TempDir()
	// 2,000 samples, batch 64: epoch 1 trains at most 32 batches, so an
	// interrupt after step 40 lands inside a later epoch.
	r := runBounded(t, time.Minute, []string{"SGDS_TEST_SIGNAL_AFTER_STEPS=40"},
		"train", "--sampler", "selective-backprop", "--model", "mlp", "--subset", "2000", "--epochs", "200", "--out", out)
	code, msg := r.code, r.out
	if code != 130 {
		t.Fatalf("exit %d:\n%s", code, msg)
	}
	var epoch int
	i := strings.Index(msg, "interrupted in epoch")
	if i < 0 || !strings.Contains(msg, "abandoned") {
		t.Fatalf("the interrupt did not land inside an epoch:\n%s", msg)
	}
	if _, err := fmt.Sscanf(msg[i:], "interrupted in epoch %d", &epoch); err != nil {
		t.Fatalf("%v:\n%s", err, msg)
	}
	want := fmt.Sprintf("checkpoint of epoch %d kept; continue with sgds train --resume %s", epoch-1, out)
	if !strings.Contains(msg, want) {
		t.Fatalf("the message does not say %q:\n%s", want, msg)
	}
	done := fmt.Sprint(epoch - 1)
	if got := runBoundedOK(t, nil, "train", "--resume", out, "--epochs", done); !strings.Contains(got, "complete: "+done+" of "+done+" epochs") {
		t.Fatalf("the checkpoint kept is not of epoch %s:\n%s", done, got)
	}
}
