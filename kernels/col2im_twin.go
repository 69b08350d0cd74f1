package kernels

// Col2ImTwin is the adjoint of Im2Col and the plain-Go twin of the device
// col2im (conv.cu): it folds (B, T, K) patches back onto B images of C
// channels and H×W pixels (NCHW), summing every patch entry that Im2Col
// copied from a pixel. With OH = H−KH+1, OW = W−KW+1, T = OH·OW and
// K = C·KH·KW it is equal to
//
//	clear(dst)
//	for i, oy, ox, c, ky, kx:
//		dst[((i*C+c)*H+oy+ky)*W + ox+kx] += src[(i*T+oy*OW+ox)*K + (c*KH+ky)*KW+kx]
//
// with the sums in float64 and one rounding per pixel. dst is overwritten;
// it panics on wrong lengths or a kernel larger than the image.
func Col2ImTwin(dst, src []float32, B, C, H, W, KH, KW int) {
	const op = "Col2ImTwin"
	prod(op, B, C, H, W, KH, KW)
	if KH < 1 || KW < 1 || KH > H || KW > W {
		panic("kernels: Col2ImTwin: kernel larger than the image or empty")
	}
	OH, OW := H-KH+1, W-KW+1
	T, K := OH*OW, C*KH*KW
	checkLen(op, "dst", dst, B*C*H*W)
	checkLen(op, "src", src, B*T*K)
	for i := 0; i < B; i++ {
		for c := 0; c < C; c++ {
			for y := 0; y < H; y++ {
				for x := 0; x < W; x++ {
					var s float64
					for ky := 0; ky < KH; ky++ {
						oy := y - ky
						if oy < 0 || oy >= OH {
							continue
						}
						for kx := 0; kx < KW; kx++ {
							ox := x - kx
							if ox < 0 || ox >= OW {
								continue
							}
							s += float64(src[(i*T+oy*OW+ox)*K+(c*KH+ky)*KW+kx])
						}
					}
					dst[((i*C+c)*H+y)*W+x] = float32(s)
				}
			}
		}
	}
}
