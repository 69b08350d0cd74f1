package kernels

// Im2Col unfolds the patches of a valid (no padding), stride-1 convolution
// with a KH×KW kernel over B images of C channels and H×W pixels, laid out
// NCHW. With OH = H−KH+1, OW = W−KW+1 and T = OH·OW, it is equal to
//
//	for i, oy, ox, c, ky, kx:
//		t := oy*OW + ox
//		k := (c*KH+ky)*KW + kx
//		dst[(i*T+t)*K + k] = src[((i*C+c)*H+oy+ky)*W + ox+kx]
//
// with K = C·KH·KW, which is the (B, T, K) patches layout of the conv
// gradient-norm kernels. dst is overwritten; it panics on wrong lengths or
// a kernel larger than the image.
func Im2Col(dst, src []float32, B, C, H, W, KH, KW int) {
	const op = "Im2Col"
	prod(op, B, C, H, W, KH, KW)
	if KH < 1 || KW < 1 || KH > H || KW > W {
		panic("kernels: Im2Col: kernel larger than the image or empty")
	}
	OH, OW := H-KH+1, W-KW+1
	T, K := OH*OW, C*KH*KW
	checkLen(op, "src", src, B*C*H*W)
	checkLen(op, "dst", dst, B*T*K)
	for i := 0; i < B; i++ {
		img := src[i*C*H*W : (i+1)*C*H*W]
		out := dst[i*T*K : (i+1)*T*K]
		for oy := 0; oy < OH; oy++ {
			for ox := 0; ox < OW; ox++ {
				row := out[(oy*OW+ox)*K : (oy*OW+ox+1)*K]
				k := 0
				for c := 0; c < C; c++ {
					for ky := 0; ky < KH; ky++ {
						base := (c*H+oy+ky)*W + ox
						copy(row[k:k+KW], img[base:base+KW])
						k += KW
					}
				}
			}
		}
	}
}
