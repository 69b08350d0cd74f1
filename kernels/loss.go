package kernels

import (
	"fmt"
	"math"
)

// SoftmaxNLL computes, for each of the B rows of the row-major (B, C) logits
// block, the per-sample negative log-likelihood of its label under the
// softmax, the gradient of that loss with respect to the logits, and the norm
// of that gradient. For each row i, with x = logits[i*C:(i+1)*C],
// y = labels[i] and p = softmax(x), it is equal to
//
//	m := max_j x[j]
//	S := Σ_j exp(x[j] - m)
//	loss[i] = -log p[y] = log(S) + m - x[y]
//	for j := 0; j < C; j++ {
//		dlogits[i*C+j] = p[j] - [j == y]      // p[j] = exp(x[j]-m) / S
//	}
//	lastNorm[i] = sqrt(Σ_j (p[j] - [j == y])²)
//
// evaluated in float64 and rounded to float32 once. The loss is the summed
// (not mean) loss, so row i of dlogits is sample i's own gradient ∂L_i/∂x_i.
//
// The evaluation is stable for any finite logits: it subtracts the row
// maximum, and it forms 1-p[y] and the loss from Σ_{j≠y} exp(x[j]-m) rather
// than by cancellation, so a confidently right sample gets a small positive
// loss and gradient instead of 0 (as long as the float32 result is not
// itself below the smallest denormal). Non-finite logits give NaN results.
//
// All outputs are overwritten. len(loss), len(lastNorm) and len(labels) must
// be B; len(logits) and len(dlogits) must be B*C. dlogits and lastNorm may be
// nil, and then are not computed. B = 0 is a no-op. SoftmaxNLL panics if a
// size is negative, a length is wrong, C = 0 while B > 0, or a label lies
// outside [0, C); labels are checked before anything is written.
func SoftmaxNLL(loss, dlogits, lastNorm []float32, logits []float32, labels []int32, B, C int) {
	const op = "SoftmaxNLL"
	n := prod(op, B, C)
	checkLen(op, "loss", loss, B)
	checkLen(op, "labels", labels, B)
	checkLen(op, "logits", logits, n)
	if dlogits != nil {
		checkLen(op, "dlogits", dlogits, n)
	}
	if lastNorm != nil {
		checkLen(op, "lastNorm", lastNorm, B)
	}
	if B == 0 {
		return
	}
	if C == 0 {
		panic("kernels: SoftmaxNLL: C = 0 with B > 0 (no class for a label)")
	}
	for i, y := range labels {
		if y < 0 || int(y) >= C {
			panic(fmt.Sprintf("kernels: SoftmaxNLL: labels[%d] = %d outside [0, %d)", i, y, C))
		}
	}
	// e keeps a row's exponentials between the two passes that computing
	// dlogits needs: on the stack for common class counts, pooled otherwise.
	var stack [1024]float64
	var buf *[]float64
	var e []float64
	if dlogits != nil {
		if C <= len(stack) {
			e = stack[:C]
		} else {
			buf = f64Pool.get(C)
			e = *buf
		}
	}
	for i := range B {
		x := logits[i*C : (i+1)*C]
		var dl []float32
		if dlogits != nil {
			dl = dlogits[i*C : (i+1)*C]
		}
		l, nrm := softmaxNLLRow(dl, e, x, int(labels[i]))
		loss[i] = float32(l)
		if lastNorm != nil {
			lastNorm[i] = float32(nrm)
		}
	}
	if buf != nil {
		f64Pool.put(buf)
	}
}

// softmaxNLLRow does one row of SoftmaxNLL without checks: it returns the
// loss and the gradient norm, and writes the gradient into dl when dl is not
// nil, using e (len(x)) to keep the exponentials.
func softmaxNLLRow(dl []float32, e []float64, x []float32, y int) (loss, norm float64) {
	mx := x[0]
	for _, v := range x[1:] {
		if v > mx {
			mx = v
		}
	}
	m := float64(mx)
	// s = Σ_{j≠y} exp(x_j - m), q = Σ_{j≠y} exp(x_j - m)²: the label's own
	// term is left out so that 1 - p_y = s/S needs no subtraction.
	var s, q float64
	if e != nil {
		e = e[:len(x)]
		for j, v := range x {
			ej := math.Exp(float64(v) - m)
			e[j] = ej
			if j != y {
				s += ej
				q += ej * ej
			}
		}
	} else {
		for _, v := range x[:y] {
			ej := math.Exp(float64(v) - m)
			s += ej
			q += ej * ej
		}
		for _, v := range x[y+1:] {
			ej := math.Exp(float64(v) - m)
			s += ej
			q += ej * ej
		}
	}
	d := float64(x[y]) - m // ≤ 0
	var ey float64
	if e != nil {
		ey = e[y]
	} else {
		ey = math.Exp(d)
	}
	sum := s + ey // ≥ 1: the maximum's own term is exp(0)
	if d > -600 {
		// -log p_y = log(S/e_y) = log1p(s/e_y): exact for small losses, and
		// s/e_y ≤ C·e^600 cannot overflow.
		loss = math.Log1p(s / ey)
	} else {
		loss = math.Log(sum) - d // both terms positive
	}
	// ||p - onehot||² = ((1-p_y)² + Σ_{j≠y} p_j²) = (s² + q) / S².
	norm = math.Sqrt(s*s+q) / sum
	if dl != nil {
		dl = dl[:len(x)]
		inv := 1 / sum
		for j, ej := range e {
			dl[j] = float32(ej * inv)
		}
		dl[y] = float32(-s * inv) // p_y - 1 = -s/S
	}
	return loss, norm
}
