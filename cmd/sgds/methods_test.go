package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgds/sgds/engine/data/datatest"
	"github.com/sgds/sgds/run"
)

// runCLI runs the command line in this process (the app the binary runs)
// and returns its exit code, as sgds would set it, and everything it
// printed, the error included.
func runCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	err, out := runApp(t, args...)
	switch {
	case err == nil:
		return 0, out
	case errors.Is(err, context.Canceled):
		return 130, out + fmt.Sprintf("sgds: %v\n", err)
	}
	return 1, out + fmt.Sprintf("sgds: %v\n", err)
}

// TestReadmeListsTheMethods: the README's table of methods is what sgds
// methods --markdown prints from the descriptors.
func TestReadmeListsTheMethods(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const start, end = "<!-- methods: the output of sgds methods --markdown; a test keeps it current -->\n", "<!-- end methods -->"
	s := string(b)
	i, j := strings.Index(s, start), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("README has no methods table between its markers")
	}
	if got, want := s[i+len(start):j], methodsMarkdown(); got != want {
		t.Errorf("README's methods table is stale; replace it by the output of sgds methods --markdown:\n%s", want)
	}
	code, out := runCLI(t, "methods")
	for _, d := range run.Methods {
		if code != 0 || !strings.Contains(out, d.Name+"\n  "+d.Summary) {
			t.Errorf("sgds methods (exit %d) does not list %s:\n%s", code, d.Name, out)
		}
	}
}

// flagText is value v of a setting as a flag's text.
func flagText(st *run.Setting, v any) string {
	if st.Kind == run.KindBool {
		return fmt.Sprintf("--%s=%t", st.Flag, v)
	}
	return fmt.Sprintf("--%s=%v", st.Flag, v)
}

// otherValue is a valid value of st other than its default def.
func otherValue(st *run.Setting, def any) any {
	switch st.Kind {
	case run.KindBool:
		return !def.(bool)
	case run.KindChoice:
		for _, c := range st.Choices {
			if c != def {
				return c
			}
		}
	case run.KindInt:
		if n := int(st.Lo) + 1; n != def {
			return n
		}
		return int(st.Lo) + 2
	}
	if x := st.Lo + 0.25; x != def {
		return x
	}
	return st.Lo + 0.125
}

// TestSettingsRoundTripCLI sets every setting of every sampler to a value
// other than its default on train's command line, then checks that it
// reaches summary.json, that --config summary.json runs the same settings
// again, and that --resume with the same flags finds no conflict.
func TestSettingsRoundTripCLI(t *testing.T) {
	// A small cut of real MNIST (640 training, 200 test images), loaded in a
	// blink by every run.
	data := t.TempDir()
	datatest.WriteMNISTCut(t, data, datatest.Cut{Train: 640, Test: 200, Label: datatest.Digits(10)})
	quick := []string{"--dataset", "idx", "--data", data, "--model", "mlp", "--epochs", "1", "--eval-every", "640", "--quiet"}
	for i := range run.Methods {
		d := &run.Methods[i]
		t.Run(d.Name, func(t *testing.T) {
			dir := t.TempDir()
			var def run.Sampling
			d.Reset(&def)
			args := append([]string{"train", "--sampler", d.Name, "--out", filepath.Join(dir, "a")}, quick...)
			want := map[string]any{}
			var given []string
			for j := range d.Settings {
				st := &d.Settings[j]
				v := otherValue(st, st.Get(&def))
				want[st.Flag] = v
				given = append(given, flagText(st, v))
			}
			args = append(args, given...)
			if code, out := runCLI(t, args...); code != 0 {
				t.Fatalf("%v: exit %d\n%s", args, code, out)
			}
			check := func(path string) run.Config {
				t.Helper()
				var s run.Summary
				b, err := os.ReadFile(path)
				if err == nil {
					err = json.Unmarshal(b, &s)
				}
				if err != nil {
					t.Fatal(err)
				}
				if s.Config.Sampler != d.Name {
					t.Fatalf("%s: sampler %q", path, s.Config.Sampler)
				}
				for j := range d.Settings {
					st := &d.Settings[j]
					if got := st.Get(&s.Config.Sampling); got != want[st.Flag] {
						t.Errorf("%s: --%s is %v, want %v", path, st.Flag, got, want[st.Flag])
					}
				}
				return s.Config
			}
			a := check(filepath.Join(dir, "a", "summary.json"))
			if code, out := runCLI(t, "train", "--config", filepath.Join(dir, "a", "summary.json"), "--data", data, "--out", filepath.Join(dir, "b"), "--quiet"); code != 0 {
				t.Fatalf("--config summary.json: exit %d\n%s", code, out)
			}
			b := check(filepath.Join(dir, "b", "summary.json"))
			if a.Sampler != b.Sampler || a.LR != b.LR || a.Subset != b.Subset || a.TestSubset != b.TestSubset || a.EvalEvery != b.EvalEvery {
				t.Errorf("--config summary.json ran %+v, the run was %+v", b, a)
			}
			resume := append([]string{"train", "--resume", filepath.Join(dir, "b"), "--epochs", "2", "--quiet", "--sampler", d.Name}, given...)
			if code, out := runCLI(t, resume...); code != 0 {
				t.Fatalf("%v: exit %d\n%s", resume, code, out)
			}
			check(filepath.Join(dir, "b", "summary.json"))
		})
	}
}
