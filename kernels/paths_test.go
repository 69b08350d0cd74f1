package kernels

import (
	"syscall"
	"testing"
	"time"
)

// forEachPath runs f once per kernel path built into this binary: the
// portable one, and the vector one where it is built and the CPU runs it.
func forEachPath(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	was := SetFastPath(false)
	defer SetFastPath(true)
	_ = was
	t.Run("path=generic", f)
	SetFastPath(true)
	if FastPath() {
		if wide512 {
			wide512 = false
			t.Run("path=simd-avx2", f)
			wide512 = true
		}
		t.Run("path=simd", f)
	} else {
		t.Logf("vector path not available (built: %v); tested the portable path only", FastPathBuilt)
	}
}

// benchPaths is forEachPath for benchmarks.
func benchPaths(b *testing.B, f func(b *testing.B)) {
	SetFastPath(false)
	b.Run("path=generic", f)
	SetFastPath(true)
	if FastPath() {
		b.Run("path=simd", f)
	}
}

// sumAbsTol is the error bound of a float32 sum of n terms whose absolute
// values add up to mag: a few ulps per term, plus an absolute floor.
func sumAbsTol(n int, mag float64) float64 {
	return 2*float64(n+2)*0x1p-24*mag + 1e-30
}

// cpuNow returns the CPU time (user + system) used by the process so far.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loopCPU runs f b.N times (b.Loop) and reports the process CPU time per
// call as "cpu-ns/op": on a shared machine it is steadier than wall time.
func loopCPU(b *testing.B, f func()) {
	b.Helper()
	b.ReportAllocs()
	var c0 time.Duration
	started := false
	for b.Loop() {
		if !started {
			c0, started = cpuNow(), true
		}
		f()
	}
	b.ReportMetric(float64(cpuNow()-c0)/float64(b.N), "cpu-ns/op")
}
