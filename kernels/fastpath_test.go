package kernels_test

import (
	"slices"
	"testing"

	"github.com/sgds/sgds/kernels"
	kt "github.com/sgds/sgds/kernels/kerneltest"
)

// TestPaths checks that every path can be selected and that the restore
// functions put back what they found, nested or not.
func TestPaths(t *testing.T) {
	ps := kernels.Paths()
	if len(ps) == 0 || ps[0] != kernels.PathGeneric {
		t.Fatalf("Paths() = %v, want the portable path first", ps)
	}
	before := kernels.FastPath()
	for _, p := range ps {
		restore := kernels.UsePath(p)
		if kernels.FastPath() != (p != kernels.PathGeneric) {
			t.Errorf("path %s: FastPath() = %v", p, kernels.FastPath())
		}
		inner := kernels.DisableFastPath()
		if kernels.FastPath() {
			t.Error("DisableFastPath left the vector path on")
		}
		inner()
		if kernels.FastPath() != (p != kernels.PathGeneric) {
			t.Errorf("path %s: the inner restore did not restore", p)
		}
		restore()
	}
	if kernels.FastPath() != before {
		t.Errorf("FastPath() = %v after the restores, was %v", kernels.FastPath(), before)
	}
	if slices.Contains(ps, kernels.PathAVX2) && !kernels.FastPathBuilt {
		t.Errorf("paths %v without the vector path built", ps)
	}
	kt.MustPanic(t, "unknown path", func() { kernels.UsePath("sse9") })
	var seen []string
	kt.ForEachPath(t, func(t *testing.T) { seen = append(seen, t.Name()) })
	if len(seen) != len(ps) {
		t.Errorf("ForEachPath ran %v for paths %v", seen, ps)
	}
}
