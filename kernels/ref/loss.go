package ref

import (
	"math"

	"github.com/sgds/sgds/kernels/internal/check"
)

// SoftmaxNLL is the reference of the fused per-sample loss (kernels.SoftmaxNLL
// and the device softmax_nll), computed by brute force in float64: for each
// of the B rows of the (B, C) logits, with x the row, y its label and
// lse = log Σ_j exp(x_j) (taken about the row's maximum),
//
//	loss[i]      = lse − x_y
//	dl[i*C+j]    = exp(x_j − lse) − [j == y]
//	norm[i]      = ||dl row i||
//
// Labels must lie in [0, C); it panics otherwise or on wrong lengths. Its
// log-sum-exp form loses about 1e-16 absolute near loss 0, where the
// kernels are more exact.
func SoftmaxNLL(logits []float32, labels []int32, B, C int) (loss, dl, norm []float64) {
	const op = "ref.SoftmaxNLL"
	check.Len(op, "logits", logits, check.Size(op, B, C))
	check.Len(op, "labels", labels, B)
	loss, dl, norm = make([]float64, B), make([]float64, B*C), make([]float64, B)
	for i := range B {
		x := logits[i*C : (i+1)*C]
		m := math.Inf(-1)
		for _, v := range x {
			m = math.Max(m, float64(v))
		}
		var s float64
		for _, v := range x {
			s += math.Exp(float64(v) - m)
		}
		lse := m + math.Log(s)
		y := int(labels[i])
		loss[i] = lse - float64(x[y])
		var n2 float64
		for j, v := range x {
			g := math.Exp(float64(v) - lse)
			if j == y {
				g--
			}
			dl[i*C+j] = g
			n2 += g * g
		}
		norm[i] = math.Sqrt(n2)
	}
	return loss, dl, norm
}
