package gpu

import (
	"flag"
	"testing"
	"time"

	"github.com/sgds/sgds/cuda"
	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/enginetest"
)

// These tests run the backend on the asynchronous host driver, where, as
// on a GPU, launches and copies from page-locked memory return before the
// work is done, and every kernel takes at least the given time.

// TestEvaluateWaitsForPendingCopies checks the evaluation path's in-flight
// check: when a failed call has left a copy from the evaluation pass's
// page-locked index buffer pending on the stream, Evaluate waits for it
// before writing the buffer again. The pending copy runs behind a slow
// kernel; without the wait it would copy Evaluate's indices instead of what
// the buffer held when it was enqueued.
func TestEvaluateWaitsForPendingCopies(t *testing.T) {
	defer cuda.UseHostAsync(20 * time.Millisecond)()
	_, test := enginetest.MNIST(t)
	small := enginetest.Head(t, test, 10)
	n := enginetest.NewNet(t, Backend{}, "mlp", engine.Config{Batch: 8, LR: 0.01, Momentum: 0.5}, 1).(*Net)
	enginetest.MustEvaluate(t, n, small) // builds the evaluation pass
	p := n.eval
	const marker = 7777
	for i := range p.hostIdx {
		p.hostIdx[i] = marker
	}
	got := alloc[int32](&n.mem, len(p.hostIdx))
	src, dst := alloc[float32](&n.mem, 4), alloc[float32](&n.mem, 4)
	if n.mem.err != nil {
		t.Fatal(n.mem.err)
	}
	// What a call that failed after enqueuing its copies leaves behind.
	if err := n.lib.Copy(n.s, dst, src, 4); err != nil { // a slow kernel first
		t.Fatal(err)
	}
	if err := got.CopyFrom(n.s, p.hostIdx); err != nil {
		t.Fatal(err)
	}
	n.inflight = true
	enginetest.MustEvaluate(t, n, small)
	back := make([]int32, len(p.hostIdx))
	if err := got.CopyTo(n.s, back); err != nil {
		t.Fatal(err)
	}
	for i, v := range back {
		if v != marker {
			t.Fatalf("the pending copy read index %d = %d, not the %d the buffer held: Evaluate wrote the page-locked buffer before the stream had passed the copy", i, v, marker)
		}
	}
}

// TestStepBenchmarkWaits runs the step benchmark on the asynchronous host
// driver with 1 ms per kernel: a step launches several kernels, so a
// benchmark that reports less than 1 ms per step has stopped its clock
// before the device's work was done.
func TestStepBenchmarkWaits(t *testing.T) {
	const kernelTime = time.Millisecond
	defer cuda.UseHostAsync(kernelTime)()
	f := flag.Lookup("test.benchtime")
	old := f.Value.String()
	if err := f.Value.Set("2x"); err != nil {
		t.Fatal(err)
	}
	defer f.Value.Set(old)
	train, _ := enginetest.MNIST(t)
	cfg := engine.Config{Batch: 16, LR: 0.01, Momentum: 0.5}
	bs := enginetest.Batches(train, 4, cfg.Batch)
	for _, be := range []engine.Backend{Backend{}} { // boundBackend would upload the training set first: 188 MB

		r := testing.Benchmark(func(b *testing.B) { enginetest.BenchStep(b, be, "mlp", cfg, bs) })
		t.Logf("%s: %d steps, %v per step", be.Name(), r.N, time.Duration(r.NsPerOp()))
		if r.N != 2 {
			t.Fatalf("%s: %d steps, want 2 (-benchtime 2x): the benchmark failed", be.Name(), r.N)
		}
		if r.NsPerOp() < kernelTime.Nanoseconds() {
			t.Errorf("%s: %v per step with kernels of %v each: the step benchmark does not wait for the device", be.Name(), time.Duration(r.NsPerOp()), kernelTime)
		}
	}
}
