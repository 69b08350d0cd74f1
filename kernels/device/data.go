package device

import "github.com/sgds/sgds/cuda"

// Gather runs gather_rows (data.cu), whose reference is ref.Gather: B rows
// of P values from the (N, P) data set data/dataLabels at idx (−1 for a
// zero padding row).
func (l *Lib) Gather(s *cuda.Stream, x *cuda.Float32s, labels *cuda.Int32s, data *cuda.Float32s, dataLabels, idx *cuda.Int32s, B, P, N int) error {
	if err := check("Gather", []int{B, P, N}, req("x", x, B*P), req("labels", labels, B), req("data", data, N*P),
		req("dataLabels", dataLabels, N), req("idx", idx, B)); err != nil {
		return err
	}
	// max(B*P, B) threads: the labels are gathered also when P is 0.
	return l.launchFlat(s, "gather_rows", max(B*P, B), cuda.Ptr(x), cuda.Ptr(labels), cuda.Ptr(data), cuda.Ptr(dataLabels), cuda.Ptr(idx),
		cuda.Int(B), cuda.Int(P), cuda.Int(N))
}

// ArgmaxRows runs argmax_rows (data.cu), whose reference is ref.ArgmaxRows:
// the index of the largest value of each row of the (B, C) logits.
func (l *Lib) ArgmaxRows(s *cuda.Stream, pred *cuda.Int32s, logits *cuda.Float32s, B, C int) error {
	if err := check("ArgmaxRows", []int{B, C}, req("pred", pred, B), req("logits", logits, B*C)); err != nil {
		return err
	}
	return l.launchRows(s, "argmax_rows", B, cuda.Ptr(pred), cuda.Ptr(logits), cuda.Int(B), cuda.Int(C))
}

// Copy runs copy_f32 (data.cu): dst[i] = src[i] for i < n, the bandwidth
// yardstick of the kernel benchmarks.
func (l *Lib) Copy(s *cuda.Stream, dst, src *cuda.Float32s, n int) error {
	if err := check("Copy", []int{n}, req("dst", dst, n), req("src", src, n)); err != nil {
		return err
	}
	return l.launchFlat(s, "copy_f32", (n+3)/4, cuda.Ptr(dst), cuda.Ptr(src), cuda.Int(n))
}
