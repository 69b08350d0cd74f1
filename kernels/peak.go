package kernels

import (
	"runtime"
	"sync"
	"time"
)

// PeakGFLOPS measures the machine's float32 fused multiply-add throughput
// in GFLOP/s (a multiply-add counts 2): goroutines goroutines, each locked
// to its thread, run a register-only loop of independent lanes-wide
// multiply-adds (lanes 8: AVX2+FMA, 16: AVX-512F) for about d. The rate is
// per second of each thread's CPU time (summed over the threads), so time
// the operating system gives to other processes on a shared machine does
// not lower it (where the thread's CPU time cannot be read, per second of
// wall time). It returns 0 when this build or CPU lacks that width.
func PeakGFLOPS(lanes, goroutines int, d time.Duration) float64 {
	flopsPerIter := peakFlopsPerIter(lanes)
	if flopsPerIter == 0 || goroutines < 1 {
		return 0
	}
	// Calibrate one call to about a millisecond.
	n := 1 << 12
	for {
		t0 := time.Now()
		fmaPeak(lanes, n)
		if time.Since(t0) > time.Millisecond || n > 1<<30 {
			break
		}
		n *= 2
	}
	return float64(flopsPerIter) * runParallel(goroutines, d, func() { fmaPeak(lanes, n) }, float64(n), true) / 1e9
}

// ReadGBps measures the rate at which goroutines goroutines read distinct
// buffers of size bytes each (a vector sum, AVX2; 0 off amd64 or without
// AVX2) for about d, in GB/s: with buffers much larger than the caches it
// is the memory bandwidth.
func ReadGBps(size, goroutines int, d time.Duration) float64 {
	if !asmBuilt || !hasAVX2 || goroutines < 1 {
		return 0
	}
	n := max(64, size/4) &^ 63
	bufs := make([][]float32, goroutines)
	for i := range bufs {
		bufs[i] = make([]float32, n)
		for j := range bufs[i] {
			bufs[i][j] = 1
		}
	}
	var mu sync.Mutex
	next := 0
	return runParallel(goroutines, d, func() {
		mu.Lock()
		b := bufs[next%len(bufs)]
		next++
		mu.Unlock()
		readSum(b)
	}, float64(n*4), false) / 1e9
}

// runParallel runs f on g goroutines, each locked to its thread, until d
// has passed, and returns units·(calls of f)/second summed over the
// goroutines: per second of the thread's CPU time when cpu is set and the
// thread's CPU time can be read, else per second of wall time.
func runParallel(g int, d time.Duration, f func(), units float64, cpu bool) float64 {
	var wg sync.WaitGroup
	rates := make([]float64, g)
	for i := range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			c0, ok0 := threadCPU()
			start := time.Now()
			deadline := start.Add(d)
			calls := 0
			for time.Now().Before(deadline) {
				f()
				calls++
			}
			el := time.Since(start)
			if c1, ok1 := threadCPU(); cpu && ok0 && ok1 && c1 > c0 {
				el = c1 - c0
			}
			rates[i] = units * float64(calls) / el.Seconds()
		}()
	}
	wg.Wait()
	total := 0.0
	for _, r := range rates {
		total += r
	}
	return total
}
