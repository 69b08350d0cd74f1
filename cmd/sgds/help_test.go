package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// TestHelpExitsZero: sgds help, sgds help COMMAND and COMMAND --help all
// exit 0 (sgds help exited 3, "No help topic") and show examples.
func TestHelpExitsZero(t *testing.T) {
	cmds := []string{"train", "correlate", "compare", "patterns", "plot", "tune", "devices", "completion"}
	runs := [][]string{{"help"}, {"--help"}}
	for _, c := range cmds {
		runs = append(runs, []string{"help", c}, []string{c, "--help"})
	}
	for _, args := range runs {
		r := runBounded(t, time.Minute, nil, args...)
		if r.code != 0 || !strings.Contains(r.out, "USAGE") {
			t.Errorf("sgds %s: exit %d\n%s", strings.Join(args, " "), r.code, r.out)
		}
		if len(args) == 2 && !strings.Contains(r.out, "Example") {
			t.Errorf("sgds %s: no examples\n%s", strings.Join(args, " "), r.out)
		}
	}
}

// defaultRe finds the default urfave shows after a flag's usage.
var defaultRe = regexp.MustCompile(`\(default: ([^)]*)\)`)

// TestFlagHelp reads every flag's help line of every command, as the help
// prints it, and fails on a "value" placeholder, on a flag that takes a
// value without a default shown, and on a zero default the usage does not
// explain ("0: off" or "0 means").
func TestFlagHelp(t *testing.T) {
	for _, cmd := range newApp().Commands {
		for _, f := range cmd.VisibleFlags() {
			name := f.Names()[0]
			line := cli.FlagStringer(f)
			if strings.Contains(line, "--"+name+" value") {
				t.Errorf("sgds %s --%s: placeholder \"value\": %s", cmd.Name, name, line)
			}
			if cf, ok := f.(cli.CategorizableFlag); !ok || cf.GetCategory() == "" {
				t.Errorf("sgds %s --%s: no category", cmd.Name, name)
			}
			df, ok := f.(cli.DocGenerationFlag)
			if !ok || !df.TakesValue() {
				continue // a switch: its default is off
			}
			if sf, ok := f.(cli.DocGenerationSliceFlag); ok && sf.IsSliceFlag() {
				continue // a repeatable flag: none by default
			}
			m := defaultRe.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("sgds %s --%s: no default shown: %s", cmd.Name, name, line)
				continue
			}
			usage := line[:strings.Index(line, "(default:")]
			if d := strings.Trim(m[1], `"`); d == "0" || d == "" {
				if !strings.Contains(usage, "0:") && !strings.Contains(usage, "0 means") {
					t.Errorf("sgds %s --%s: default %s not explained: %s", cmd.Name, name, m[1], line)
				}
			}
		}
	}
}

// TestCompletion prints the bash script and completes commands and flags.
func TestCompletion(t *testing.T) {
	r := runBounded(t, time.Minute, nil, "completion", "bash")
	if r.code != 0 || !strings.Contains(r.out, "complete -o bashdefault -o default -F _sgds_complete sgds") {
		t.Fatalf("completion bash: exit %d\n%s", r.code, r.out)
	}
	r = runBounded(t, time.Minute, nil, "--generate-bash-completion")
	if r.code != 0 || !strings.Contains(r.out, "train") || !strings.Contains(r.out, "compare") {
		t.Fatalf("commands: exit %d\n%s", r.code, r.out)
	}
	r = runBounded(t, time.Minute, nil, "train", "--m", "--generate-bash-completion")
	if r.code != 0 || !strings.Contains(r.out, "--model") || !strings.Contains(r.out, "--momentum") || strings.Contains(r.out, "--kept-floor") {
		t.Fatalf("train flags: exit %d\n%s", r.code, r.out)
	}
}

// TestConfigFile keeps a run's settings in YAML and re-runs a summary.json:
// flags and SGDS_* variables win over the file.
func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "run.yaml")
	os.WriteFile(yml, []byte("# a kept run\nmodel: mlp\nsubset: 640\nepochs: 2\nsampler: sgds\nkept-floor: 0.25\ndebias: 0.5\nseed: 7\norder-seed: 3\n"), 0o644)
	first := filepath.Join(dir, "first")
	runBoundedOK(t, nil, "train", "--config", yml, "--epochs", "1", "--out", first)
	var sum struct {
		Config     map[string]any `json:"config"`
		Provenance map[string]any `json:"provenance"`
	}
	readJSON(t, filepath.Join(first, "summary.json"), &sum)
	sched, _ := sum.Config["schedule"].(map[string]any)
	if sum.Config["model"] != "mlp" || sum.Config["subset"] != 640.0 || sum.Config["epochs"] != 1.0 || sum.Config["seed"] != 7.0 ||
		sum.Config["order_seed"] != 3.0 || sched["kept_floor"] != 0.25 || sched["debias"] != 0.5 {
		t.Fatalf("config from YAML (flags win): %v", sum.Config)
	}
	again := filepath.Join(dir, "again")
	runBoundedOK(t, nil, "train", "--config", filepath.Join(first, "summary.json"), "--out", again)
	var sum2 struct {
		Config map[string]any `json:"config"`
	}
	readJSON(t, filepath.Join(again, "summary.json"), &sum2)
	a, _ := json.Marshal(sum.Config)
	b, _ := json.Marshal(sum2.Config)
	if string(a) != string(b) {
		t.Fatalf("re-run of summary.json:\n%s\nwant\n%s", b, a)
	}
	envRun := filepath.Join(dir, "env")
	runBoundedOK(t, []string{"SGDS_SEED=9"}, "train", "--config", yml, "--epochs", "1", "--out", envRun)
	readJSON(t, filepath.Join(envRun, "summary.json"), &sum2)
	if sum2.Config["seed"] != 9.0 {
		t.Fatalf("SGDS_SEED does not win over the file: %v", sum2.Config["seed"])
	}
}

func runBoundedOK(t *testing.T, env []string, args ...string) string {
	t.Helper()
	r := runBounded(t, 3*time.Minute, env, args...)
	if r.code != 0 {
		t.Fatalf("sgds %s: exit %d\n%s", strings.Join(args, " "), r.code, r.out)
	}
	return r.out
}

// TestProvenance checks the provenance object of summary.json,
// correlate.json and patterns.json on real short runs.
func TestProvenance(t *testing.T) {
	dir := t.TempDir()
	runs := []struct {
		args []string
		file string
	}{
		{[]string{"train", "--model", "mlp", "--subset", "640", "--epochs", "1", "--out", filepath.Join(dir, "t")}, "t/summary.json"},
		{[]string{"correlate", "--model", "mlp", "--subset", "640", "--epochs", "1", "--samples", "100", "--timing-steps", "2", "--out", filepath.Join(dir, "c")}, "c/correlate.json"},
		{[]string{"patterns", "--model", "mlp", "--subset", "640", "--epochs", "2", "--out", filepath.Join(dir, "p")}, "p/patterns.json"},
	}
	for _, r := range runs {
		before := time.Now().Add(-time.Second)
		runBoundedOK(t, nil, r.args...)
		b, err := os.ReadFile(filepath.Join(dir, r.file))
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]json.RawMessage
		json.Unmarshal(b, &raw)
		var p map[string]any
		if err := json.Unmarshal(raw["provenance"], &p); err != nil || p == nil {
			t.Fatalf("%s: no provenance: %v", r.file, err)
		}
		for _, k := range []string{"version", "commit", "go_version", "goos", "goarch", "kernels", "backend", "cpu", "command", "start_utc"} {
			if s, _ := p[k].(string); s == "" {
				t.Errorf("%s: provenance.%s is %v", r.file, k, p[k])
			}
		}
		if p["backend"] != "cpu" || (p["kernels"] != "simd" && p["kernels"] != "portable") || !strings.Contains(p["command"].(string), r.args[0]) {
			t.Errorf("%s: provenance %v", r.file, p)
		}
		if n, _ := p["gomaxprocs"].(float64); n < 1 {
			t.Errorf("%s: gomaxprocs %v", r.file, p["gomaxprocs"])
		}
		start, err := time.Parse(time.RFC3339, p["start_utc"].(string))
		if err != nil || start.Before(before.Truncate(time.Second)) || start.After(time.Now()) || !strings.HasSuffix(p["start_utc"].(string), "Z") {
			t.Errorf("%s: start_utc %v (%v)", r.file, p["start_utc"], err)
		}
	}
}

// TestProgressFrames draws the progress bar with a fake clock: epoch k/N,
// labelled elapsed and remaining time, samples/s only once measured (not
// "0 samples/hr"), an evaluating line, a cleared line before the epoch's
// report and a newline before an error.
func TestProgressFrames(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(1000, 0)
	p := &barProgress{w: &buf, epochs: 5, now: func() time.Time { return now }}
	p.StartEpoch(2, 1000)
	p.Advance(0)
	first := buf.String()
	if !strings.Contains(first, "epoch 2/5") || !strings.Contains(first, "elapsed 0.0s") || !strings.Contains(first, "remaining –") ||
		strings.Contains(first, "0 samples/") {
		t.Fatalf("first frame %q", first)
	}
	now = now.Add(2 * time.Second)
	buf.Reset()
	p.Advance(500)
	frame := buf.String()
	for _, want := range []string{"epoch 2/5", " 50%", "500/1000 samples", "elapsed 2.0s", "remaining 2.0s", "250 samples/s"} {
		if !strings.Contains(frame, want) {
			t.Fatalf("frame %q lacks %q", frame, want)
		}
	}
	buf.Reset()
	p.EndEpoch()
	if !strings.Contains(buf.String(), "epoch 2/5") || !strings.Contains(buf.String(), "evaluating") {
		t.Fatalf("end of epoch %q", buf.String())
	}
	buf.Reset()
	p.clear()
	if buf.String() != "\r\033[K" {
		t.Fatalf("clear %q", buf.String())
	}
	now = now.Add(time.Second)
	p.Advance(10)
	var errw bytes.Buffer
	endLine(&errw)
	if errw.String() != "\n" {
		t.Fatalf("endLine after a frame wrote %q", errw.String())
	}
	errw.Reset()
	endLine(&errw)
	if errw.Len() != 0 {
		t.Fatalf("endLine twice wrote %q", errw.String())
	}
	// A resumed epoch: the samples done before it do not count in the rate.
	buf.Reset()
	p.StartEpoch(3, 1000)
	p.Advance(600)
	now = now.Add(time.Second)
	p.Advance(100)
	if f := buf.String(); !strings.Contains(f, "100 samples/s") {
		t.Fatalf("resumed epoch rate: %q", f)
	}
}
