package device

import (
	"flag"
	"testing"
	"time"

	"github.com/sgds/sgds/cuda"
)

// TestMeasureWaitsForTheDevice runs measure, which every kernel benchmark
// times with, on the asynchronous host driver, where a launch returns at
// once and every kernel then takes at least 2 ms, as work on a GPU does. A
// benchmark that stops its clock before the device has finished reports
// the launches' time: far less than 2 ms per call, hence a bandwidth the
// kernels cannot reach.
func TestMeasureWaitsForTheDevice(t *testing.T) {
	const kernelTime = 2 * time.Millisecond
	restore := cuda.UseHostAsync(kernelTime)
	defer restore()
	ctx, err := cuda.NewContext(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { must(t, ctx.Close()) }) // after the buffers' clean-ups
	l, err := Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { must(t, l.Close()) })
	const n = 1 << 12
	src, dst := up(t, l, make([]float32, n)), poisoned(t, l, n)
	run := func() error { return l.Copy(nil, dst, src, n) }
	must(t, run())

	const count = 20
	setFlag(t, "test.benchtime", "20x")
	var gbs float64
	r := testing.Benchmark(func(b *testing.B) { gbs = measure(b, l, 8*n, 0, 0, run) })
	most := 8 * n / kernelTime.Seconds() / 1e9
	t.Logf("%d calls, %v per call, %.4g GB/s (at most %.4g GB/s with %v per kernel)", r.N, time.Duration(r.NsPerOp()), gbs, most, kernelTime)
	if r.N != count {
		t.Fatalf("the benchmark ran %d times, want %d (-benchtime 20x)", r.N, count)
	}
	if gbs > most || r.NsPerOp() < kernelTime.Nanoseconds() {
		t.Errorf("measure reported %v per call and %.4g GB/s, but every kernel takes %v (at most %.4g GB/s): "+
			"it stopped the clock before the device's work was done", time.Duration(r.NsPerOp()), gbs, kernelTime, most)
	}
}

// setFlag sets a flag of the test binary for the rest of the test.
func setFlag(t *testing.T, name, value string) {
	t.Helper()
	f := flag.Lookup(name)
	if f == nil {
		t.Fatalf("no flag %s", name)
	}
	old := f.Value.String()
	must(t, f.Value.Set(value))
	t.Cleanup(func() { must(t, f.Value.Set(old)) })
}
