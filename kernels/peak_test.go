package kernels_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/sgds/sgds/kernels"
)

// BenchmarkPeak measures the machine's peak: the float32 FMA throughput of
// a register-only loop (8 lanes: AVX2, 16: AVX-512; one core and all
// GOMAXPROCS cores) and the read bandwidth of buffers far larger than the
// caches (one core, all cores). Each op is one 0.2 s measurement; GFLOP/s
// and GB/s are their mean. The kernel benchmarks' "peak%" divide by the
// widest FMA figure (kerneltest.Peak).
func BenchmarkPeak(b *testing.B) {
	all := runtime.GOMAXPROCS(0)
	const d = 200 * time.Millisecond
	for _, lanes := range []int{8, 16} {
		for _, cores := range []int{1, all} {
			b.Run(fmt.Sprintf("fma/lanes=%d/cores=%d", lanes, cores), func(b *testing.B) {
				if kernels.PeakGFLOPS(lanes, 1, time.Millisecond) == 0 {
					b.Skipf("no %d-lane FMA on this CPU or build", lanes)
				}
				var sum float64
				for b.Loop() {
					sum += kernels.PeakGFLOPS(lanes, cores, d)
				}
				b.ReportMetric(sum/float64(b.N), "GFLOP/s")
			})
		}
	}
	for _, cores := range []int{1, all} {
		b.Run(fmt.Sprintf("read/size=256MiB/cores=%d", cores), func(b *testing.B) {
			if kernels.ReadGBps(1<<16, 1, time.Millisecond) == 0 {
				b.Skip("no AVX2 read loop on this CPU or build")
			}
			var sum float64
			for b.Loop() {
				sum += kernels.ReadGBps(256<<20, cores, d)
			}
			b.ReportMetric(sum/float64(b.N), "GB/s")
		})
	}
}
