package provenance

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sgds/sgds/kernels"
)

func TestCollect(t *testing.T) {
	start := time.Date(2026, 11, 29, 14, 0, 0, 0, time.FixedZone("X", 3600))
	p := Collect("cpu", []string{"sgds", "train", "--model", "mlp"}, start)
	if p.StartUTC != "2026-11-29T13:00:00Z" {
		t.Errorf("start %q, want UTC", p.StartUTC)
	}
	if p.Command != "sgds train --model mlp" || p.Backend != "cpu" || p.GoVersion != runtime.Version() {
		t.Errorf("fields: %+v", p)
	}
	if p.Kernels != "simd" && p.Kernels != "portable" {
		t.Errorf("kernels %q", p.Kernels)
	}
	if p.KernelPath != kernels.Path() || (p.Kernels == "portable") != (p.KernelPath == kernels.PathPortable) {
		t.Errorf("kernels %q, kernel path %q, want %q", p.Kernels, p.KernelPath, kernels.Path())
	}
	if p.CPU == "" || p.CPUs < 1 || p.MaxProcs < 1 || p.Version == "" || p.Commit == "" {
		t.Errorf("machine fields missing: %+v", p)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"version"`, `"commit"`, `"go_version"`, `"kernels"`, `"kernel_path"`, `"backend"`, `"cpu"`, `"gomaxprocs"`, `"command"`, `"start_utc"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s: %s", key, b)
		}
	}
}
