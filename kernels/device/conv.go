package device

import "github.com/sgds/sgds/cuda"

// convShape checks a valid stride-1 convolution's sizes and returns its
// positions T and patch size K.
func convShape(op string, B, C, H, W, KH, KW int) (T, K int, err error) {
	if err := check(op, []int{B, C, H, W, KH, KW}); err != nil {
		return 0, 0, err
	}
	if KH < 1 || KW < 1 || KH > H || KW > W {
		return 0, 0, argErr(op, "kernel %d×%d does not fit a %d×%d image", KH, KW, H, W)
	}
	return (H - KH + 1) * (W - KW + 1), C * KH * KW, nil
}

// Im2Col runs im2col (conv.cu), the device counterpart of kernels.Im2Col:
// src (B, C, H, W) unfolds into dst (B, T, K).
func (l *Lib) Im2Col(s *cuda.Stream, dst, src *cuda.Float32s, B, C, H, W, KH, KW int) error {
	return l.unfold(s, "Im2Col", "im2col", dst, src, B, C, H, W, KH, KW, false)
}

// Col2Im runs col2im (conv.cu), whose reference is ref.Col2Im: the adjoint
// of Im2Col folds src (B, T, K) onto dst (B, C, H, W).
func (l *Lib) Col2Im(s *cuda.Stream, dst, src *cuda.Float32s, B, C, H, W, KH, KW int) error {
	return l.unfold(s, "Col2Im", "col2im", dst, src, B, C, H, W, KH, KW, true)
}

// unfold launches im2col or (fold) col2im, with 32-bit index arithmetic
// where the sizes allow.
func (l *Lib) unfold(s *cuda.Stream, op, kernel string, dst, src *cuda.Float32s, B, C, H, W, KH, KW int, fold bool) error {
	T, K, err := convShape(op, B, C, H, W, KH, KW)
	if err != nil {
		return err
	}
	patches, images := B*T*K, B*C*H*W
	out, in := patches, images
	if fold {
		out, in = images, patches
	}
	if err := check(op, nil, req("dst", dst, out), req("src", src, in)); err != nil {
		return err
	}
	return l.launchFlat(s, index32(kernel, patches, images), out, cuda.Ptr(dst), cuda.Ptr(src),
		cuda.Int(B), cuda.Int(C), cuda.Int(H), cuda.Int(W), cuda.Int(KH), cuda.Int(KW))
}
