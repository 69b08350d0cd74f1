//go:build goexperiment.simd && amd64

package kernels

// simdBuilt reports whether the archsimd kernels are compiled in. They need
// AVX2 and FMA, which every vector path has.
const simdBuilt = true
