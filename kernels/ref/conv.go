package ref

import (
	"math"

	"github.com/sgds/sgds/kernels/internal/check"
)

// Col2Im is the adjoint of kernels.Im2Col and the reference of the device
// col2im (kernels/device, conv.cu): it folds (B, T, K) patches back onto B images of C
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
func Col2Im(dst, src []float32, B, C, H, W, KH, KW int) {
	const op = "ref.Col2Im"
	check.Size(op, B, C, H, W, KH, KW)
	if KH < 1 || KW < 1 || KH > H || KW > W {
		panic("kernels: ref.Col2Im: kernel larger than the image or empty")
	}
	OH, OW := H-KH+1, W-KW+1
	T, K := OH*OW, C*KH*KW
	check.Len(op, "dst", dst, B*C*H*W)
	check.Len(op, "src", src, B*T*K)
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

// Conv is the reference of a valid (no padding), stride-1 convolution of B
// images (C, H, W) with F filters w (F, C, KH, KW), before bias and
// pooling: with OH = H−KH+1 and OW = W−KW+1 it returns, in float64,
//
//	z[((i*F+f)*OH+oy)*OW+ox] = Σ_{c,ky,kx} w[((f*C+c)*KH+ky)*KW+kx] · src[((i*C+c)*H+oy+ky)*W+ox+kx]
//
// and in mag the same sums of absolute terms (the scale of a float32
// evaluation's rounding error).
func Conv(src, w []float32, B, C, H, W, F, KH, KW int) (z, mag []float64) {
	OH, OW := H-KH+1, W-KW+1
	z = make([]float64, check.Size("ref.Conv", B, F, OH, OW))
	mag = make([]float64, len(z))
	for i := 0; i < B; i++ {
		for f := 0; f < F; f++ {
			for oy := 0; oy < OH; oy++ {
				for ox := 0; ox < OW; ox++ {
					var v, m float64
					for c := 0; c < C; c++ {
						for ky := 0; ky < KH; ky++ {
							for kx := 0; kx < KW; kx++ {
								t := float64(w[((f*C+c)*KH+ky)*KW+kx]) * float64(src[((i*C+c)*H+oy+ky)*W+ox+kx])
								v += t
								m += math.Abs(t)
							}
						}
					}
					j := ((i*F+f)*OH+oy)*OW + ox
					z[j], mag[j] = v, m
				}
			}
		}
	}
	return z, mag
}
