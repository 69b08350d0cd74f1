//go:build !amd64

package kernels

// asmBuilt reports whether the assembly kernels are built (amd64 only).
const asmBuilt = false

// The CPU features of the vector paths (none off amd64).
const hasAVX2, hasAVX512 = false, false

func cpuFeatures() string { return "no assembly kernels for this architecture" }

// Stubs of the vector kernels; FastPath is false in this build, so they are
// never called.

func gemmAsm(c []float32, ldc int, acc bool, a []float32, rsA, csA int, b []float32, ldb int, m, n, k int) {
	panic("kernels: vector path not built")
}

func sgdAsm(w, v, g []float32, lr, mu float32) { panic("kernels: vector path not built") }

func peakFlopsPerIter(lanes int) int { return 0 }

func fmaPeak(lanes, n int) { panic("kernels: vector path not built") }

func readSum(x []float32) float32 { panic("kernels: vector path not built") }

func convPoolReLUVec(out []float32, arg []int32, src, w, bias []float32, B, C, H, W, F, KH, KW int) {
	panic("kernels: vector path not built")
}

func convPoolWeightGradVec(dw, db []float32, sq []float64, src, delta []float32, arg []int32, rw []float32, B, C, H, W, F, KH, KW, PQ, f0, f1 int) {
	panic("kernels: vector path not built")
}

func convPoolGradNormSqVec(dst []float32, src, delta []float32, arg []int32, B, C, H, W, F, KH, KW, PQ int, bias bool) {
	panic("kernels: vector path not built")
}

func convPoolInputGradVec(dsrc []float32, delta []float32, arg []int32, w []float32, B, C, H, W, F, KH, KW, OH, PQ int) {
	panic("kernels: vector path not built")
}

func addBiasReLUVec(x []float32, ld int, bias []float32, rows, cols int, relu bool) {
	panic("kernels: vector path not built")
}

func reluMaskVec(dst, grad, out []float32) { panic("kernels: vector path not built") }

func scaleRowsVec(dst, src []float32, s []float32, rows, cols int) {
	panic("kernels: vector path not built")
}

func columnSumsVec(dst []float32, src []float32, ld, rows, cols int) {
	panic("kernels: vector path not built")
}
