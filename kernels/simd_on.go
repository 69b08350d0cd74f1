//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// simdBuilt reports whether the archsimd kernels are compiled in.
const simdBuilt = true

// simdCPU reports whether the CPU runs them (AVX2 and FMA).
var simdCPU = archsimd.X86.AVX2() && archsimd.X86.FMA()

// wide512 selects the 16-lane (AVX-512) micro-kernels where the CPU has
// them. They compute every element with the same chain of fused
// multiply-adds as the 8-lane ones, so the choice never changes a result;
// tests switch it off to cover the 8-lane kernels.
var wide512 = wide512Default

// wide512Default is whether the CPU has AVX-512.
var wide512Default = simdCPU && archsimd.X86.AVX512()
