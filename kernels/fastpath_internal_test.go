package kernels

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestPathFromEnv(t *testing.T) {
	all := []string{PathPortable, PathAVX2, PathAVX512}
	for _, c := range []struct {
		v     string
		avail []string
		want  string // "" for an error
	}{
		{"", all, PathAVX512},
		{"", all[:2], PathAVX2},
		{"", all[:1], PathPortable},
		{"portable", all, PathPortable},
		{"avx2", all, PathAVX2},
		{"avx512", all, PathAVX512},
		{"avx512", all[:2], ""},
		{"avx2", all[:1], ""},
		{"AVX2", all, ""},
		{"sse9", all, ""},
	} {
		got, err := pathFromEnv(c.v, c.avail)
		if got != c.want || (err == nil) != (c.want != "") {
			t.Errorf("pathFromEnv(%q, %v) = %q, %v; want %q", c.v, c.avail, got, err, c.want)
		}
		if err != nil && !strings.Contains(err.Error(), c.v) {
			t.Errorf("pathFromEnv(%q): the error does not name the path: %v", c.v, err)
		}
	}
}

// TestEnvOverride runs this test binary again with SGDS_KERNELS set: every
// path of Paths is taken, and a path this CPU lacks (or an unknown one)
// stops the program at start-up with a message that names it.
func TestEnvOverride(t *testing.T) {
	if os.Getenv("SGDS_KERNELS_CHILD") != "" {
		os.Stdout.WriteString("path=" + Path() + "\n")
		return
	}
	run := func(v string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnvOverride$", "-test.count=1")
		cmd.Env = append(os.Environ(), "SGDS_KERNELS_CHILD=1", EnvVar+"="+v)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, p := range Paths() {
		out, err := run(p)
		if err != nil || !strings.Contains(out, "path="+p+"\n") {
			t.Errorf("%s=%s: %v\n%s", EnvVar, p, err, out)
		}
	}
	bad := []string{"sse9"}
	if !hasAVX512 {
		bad = append(bad, PathAVX512)
	}
	for _, v := range bad {
		out, err := run(v)
		if err == nil || !strings.Contains(out, EnvVar+"=") || !strings.Contains(out, v) {
			t.Errorf("%s=%s was not refused by name: %v\n%s", EnvVar, v, err, out)
		}
	}
}

func TestReadSum(t *testing.T) {
	if !asmBuilt || !hasAVX2 {
		t.Skip("no AVX2")
	}
	for _, n := range []int{0, 64, 128, 64 * 1001} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(i % 7)
		}
		want := float32(0)
		for i := range x {
			want += x[i] // exact: small integers
		}
		if got := readSum(x); got != want {
			t.Errorf("readSum of %d = %v, want %v", n, got, want)
		}
	}
}

func TestPeakGFLOPS(t *testing.T) {
	for _, lanes := range []int{8, 16} {
		g := PeakGFLOPS(lanes, 1, 20*time.Millisecond)
		has := (lanes == 8 && hasAVX2) || (lanes == 16 && hasAVX512)
		if has != (g > 0) || g > 1e4 {
			t.Errorf("PeakGFLOPS(%d lanes) = %v (CPU has them: %v)", lanes, g, has)
		}
	}
	if g := PeakGFLOPS(12, 1, time.Millisecond); g != 0 {
		t.Errorf("PeakGFLOPS(12 lanes) = %v, want 0", g)
	}
}
