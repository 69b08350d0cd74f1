package device

import "github.com/sgds/sgds/cuda"

// SoftmaxNLL runs the fused loss kernel (loss.cu), the device counterpart
// of kernels.SoftmaxNLL: per row of the (B, C) logits it writes the loss,
// and when the buffers are not nil the gradient w_i·(p_i − onehot_i)
// (weights nil: w_i = 1) and the norm ||p_i − onehot_i||. Labels must lie
// in [0, C): a row with a label outside gets NaN outputs.
func (l *Lib) SoftmaxNLL(s *cuda.Stream, loss, dlogits, lastNorm, logits *cuda.Float32s, labels *cuda.Int32s, weights *cuda.Float32s, B, C int) error {
	const op = "SoftmaxNLL"
	if err := check(op, []int{B, C}, req("loss", loss, B), opt("dlogits", dlogits, B*C), opt("lastNorm", lastNorm, B),
		req("logits", logits, B*C), req("labels", labels, B), opt("weights", weights, B)); err != nil {
		return err
	}
	if B > 0 && C == 0 {
		return argErr(op, "C = 0 with B > 0")
	}
	return l.launchRows(s, "softmax_nll", B, cuda.Ptr(loss), ptrOf(dlogits), ptrOf(lastNorm), cuda.Ptr(logits),
		cuda.Ptr(labels), ptrOf(weights), cuda.Int(B), cuda.Int(C))
}
