package device

import "github.com/sgds/sgds/cuda"

// MaxPool2 runs maxpool2_fwd (pool.cu), whose reference is ref.MaxPool2: a
// 2×2 max-pool with stride 2 of in (B, C, H, W) into out and argmax
// (B, C, H/2, W/2), followed by a ReLU when relu is set.
func (l *Lib) MaxPool2(s *cuda.Stream, out *cuda.Float32s, argmax *cuda.Int32s, in *cuda.Float32s, B, C, H, W int, relu bool) error {
	n := B * C * (H / 2) * (W / 2)
	if err := check("MaxPool2", []int{B, C, H, W}, req("out", out, n), req("argmax", argmax, n), req("in", in, B*C*H*W)); err != nil {
		return err
	}
	return l.launchFlat(s, index32("maxpool2_fwd", B*C*H*W), n, cuda.Ptr(out), cuda.Ptr(argmax), cuda.Ptr(in),
		cuda.Int(B), cuda.Int(C), cuda.Int(H), cuda.Int(W), boolArg(relu))
}

// MaxPool2Back runs maxpool2_bwd (pool.cu), whose reference is
// ref.MaxPool2Back: the gradient of MaxPool2 (out, its output, is read
// only with relu).
func (l *Lib) MaxPool2Back(s *cuda.Stream, din, dout *cuda.Float32s, argmax *cuda.Int32s, out *cuda.Float32s, B, C, H, W int, relu bool) error {
	n := B * C * (H / 2) * (W / 2)
	outLen := n
	if !relu {
		outLen = 0
	}
	if err := check("MaxPool2Back", []int{B, C, H, W}, req("din", din, B*C*H*W), req("dout", dout, n), req("argmax", argmax, n),
		req("out", out, outLen)); err != nil {
		return err
	}
	return l.launchFlat(s, index32("maxpool2_bwd", B*C*H*W), B*C*H*W, cuda.Ptr(din), cuda.Ptr(dout), cuda.Ptr(argmax), ptrOf(out),
		cuda.Int(B), cuda.Int(C), cuda.Int(H), cuda.Int(W), boolArg(relu))
}

// ReLUBack runs relu_bwd (pool.cu), the device counterpart of
// kernels.ReLUMask, on n elements: dz = h > 0 ? dh : 0; dz may be dh.
func (l *Lib) ReLUBack(s *cuda.Stream, dz, dh, h *cuda.Float32s, n int) error {
	if err := check("ReLUBack", []int{n}, req("dz", dz, n), req("dh", dh, n), req("h", h, n)); err != nil {
		return err
	}
	return l.launchFlat(s, "relu_bwd", n, cuda.Ptr(dz), cuda.Ptr(dh), cuda.Ptr(h), cuda.Int(n))
}
