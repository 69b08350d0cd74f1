package kernels

// AddDenseGradNormSq adds, for each of the B samples, the squared Frobenius
// norm of that sample's gradient of a dense layer z = W a + b (W is C×K) to
// dst. With a the layer's (B, K) row-major input and delta its (B, C)
// row-major output gradient, delta[i] = ∂L_i/∂z_i, sample i's weight gradient
// is the outer product delta_i a_iᵀ and its bias gradient is delta_i, so
// AddDenseGradNormSq is equal to
//
//	for i := 0; i < B; i++ {
//		aa := Σ_k a[i*K+k]²
//		dd := Σ_c delta[i*C+c]²
//		dst[i] += aa*dd          // ||delta_i a_iᵀ||_F² = ||a_i||²·||delta_i||²
//		if bias {
//			dst[i] += dd     // ||delta_i||²
//		}
//	}
//
// with the sums in float64 and one float32 rounding per dst element.
//
// dst is accumulated into, not overwritten, so that the layers of a network
// sum into one vector of per-sample squared gradient norms (whose square root
// is the total norm); clear it before the first layer. len(dst) must be B,
// len(a) B*K and len(delta) B*C. AddDenseGradNormSq panics if a size is
// negative or a length is wrong.
func AddDenseGradNormSq(dst []float32, a, delta []float32, B, K, C int, bias bool) {
	const op = "AddDenseGradNormSq"
	checkLen(op, "dst", dst, B)
	checkLen(op, "a", a, prod(op, B, K))
	checkLen(op, "delta", delta, prod(op, B, C))
	for i := range B {
		aa := sumSq32(a[i*K : (i+1)*K])
		dd := sumSq32(delta[i*C : (i+1)*C])
		v := aa * dd
		if bias {
			v += dd
		}
		dst[i] = float32(float64(dst[i]) + v)
	}
}

// sumSq32 returns Σ x[k]² accumulated in float64.
func sumSq32(x []float32) float64 {
	var s0, s1, s2, s3 float64
	for len(x) >= 4 {
		a, b, c, d := float64(x[0]), float64(x[1]), float64(x[2]), float64(x[3])
		s0 += a * a
		s1 += b * b
		s2 += c * c
		s3 += d * d
		x = x[4:]
	}
	for _, v := range x {
		f := float64(v)
		s0 += f * f
	}
	return (s0 + s1) + (s2 + s3)
}
