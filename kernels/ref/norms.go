package ref

import "github.com/sgds/sgds/kernels/internal/check"

// DenseGradNormSq is the reference of the per-sample gradient norms of a
// dense layer z = W a + b (kernels.AddDenseGradNormSq, the device
// dense_norm_sq): it forms each sample's gradient explicitly, the outer
// product δ_i a_iᵀ (C×K) and, with bias, δ_i, and returns the sums of their
// squares in float64. a is (B, K) and delta (B, C), row-major.
func DenseGradNormSq(a, delta []float32, B, K, C int, bias bool) []float64 {
	const op = "ref.DenseGradNormSq"
	check.Len(op, "a", a, check.Size(op, B, K))
	check.Len(op, "delta", delta, check.Size(op, B, C))
	out := make([]float64, B)
	for i := range B {
		var s float64
		for c := range C {
			d := float64(delta[i*C+c])
			for k := range K {
				g := d * float64(a[i*K+k])
				s += g * g
			}
			if bias {
				s += d * d
			}
		}
		out[i] = s
	}
	return out
}

// ConvGradNormSq is the reference of the per-sample gradient norms of a
// convolution (kernels.AddConvGradNormSq and its device counterpart): with
// patches (B, T, K) and delta (B, C, T) as kernels.AddConvGradNormSqDirect
// describes them, it forms each sample's weight gradient
// G_i = Σ_t δ_{i,t} a_{i,t}ᵀ (C×K) explicitly and returns Σ G_i² in
// float64, plus ||Σ_t δ_{i,t}||² when bias is set.
func ConvGradNormSq(patches, delta []float32, B, T, K, C int, bias bool) []float64 {
	const op = "ref.ConvGradNormSq"
	check.Len(op, "patches", patches, check.Size(op, B, T, K))
	check.Len(op, "delta", delta, check.Size(op, B, C, T))
	out := make([]float64, B)
	G := make([]float64, C*K)
	for i := range B {
		clear(G)
		for t := range T {
			for c := range C {
				d := float64(delta[(i*C+c)*T+t])
				for k := range K {
					G[c*K+k] += d * float64(patches[(i*T+t)*K+k])
				}
			}
		}
		var s float64
		for _, g := range G {
			s += g * g
		}
		if bias {
			for c := range C {
				var b float64
				for t := range T {
					b += float64(delta[(i*C+c)*T+t])
				}
				s += b * b
			}
		}
		out[i] = s
	}
	return out
}
