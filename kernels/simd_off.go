//go:build !goexperiment.simd || !amd64

package kernels

// simdBuilt reports whether the archsimd kernels are compiled in.
const simdBuilt = false

// Stubs of the archsimd kernels; simdOn is false in this build, so they are
// never called.

func convPoolReLUSIMD(out []float32, arg []int32, src, w, bias []float32, B, C, H, W, F, KH, KW int) {
	panic("kernels: vector path not built")
}

func convPoolWeightGradSIMD(dw, db []float32, sq []float64, src, delta []float32, arg []int32, rw []float32, B, C, H, W, F, KH, KW, PQ, f0, f1 int) {
	panic("kernels: vector path not built")
}

func convPoolInputGradSIMD(dsrc []float32, delta []float32, arg []int32, w []float32, B, C, H, W, F, KH, KW, OH, PQ int) {
	panic("kernels: vector path not built")
}

func addBiasReLUSIMD(x []float32, ld int, bias []float32, rows, cols int, relu bool) {
	panic("kernels: vector path not built")
}

func reluMaskSIMD(dst, grad, out []float32) { panic("kernels: vector path not built") }

func scaleRowsSIMD(dst, src []float32, s []float32, rows, cols int) {
	panic("kernels: vector path not built")
}

func sumRowsSIMD(dst []float32, src []float32, ld, rows, cols int) {
	panic("kernels: vector path not built")
}

func convPoolGradNormSqSIMD(dst []float32, src, delta []float32, arg []int32, B, C, H, W, F, KH, KW, PQ int, bias bool) {
	panic("kernels: vector path not built")
}
