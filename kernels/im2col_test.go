package kernels_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sgds/sgds/kernels"
)

// TestIm2ColConvolution checks that patches · filterᵀ equals a direct
// float64 convolution.
func TestIm2ColConvolution(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, sz := range []struct{ B, C, H, W, KH, KW int }{{0, 1, 5, 5, 3, 3}, {1, 1, 5, 5, 5, 5}, {3, 2, 7, 6, 3, 2}, {2, 10, 12, 12, 5, 5}} {
		OH, OW := sz.H-sz.KH+1, sz.W-sz.KW+1
		T, K := OH*OW, sz.C*sz.KH*sz.KW
		src := make([]float32, sz.B*sz.C*sz.H*sz.W)
		for i := range src {
			src[i] = float32(r.NormFloat64())
		}
		filt := make([]float64, K)
		for i := range filt {
			filt[i] = r.NormFloat64()
		}
		dst := make([]float32, sz.B*T*K)
		for i := range dst {
			dst[i] = float32(math.NaN())
		}
		kernels.Im2Col(dst, src, sz.B, sz.C, sz.H, sz.W, sz.KH, sz.KW)
		for i := 0; i < sz.B; i++ {
			for oy := 0; oy < OH; oy++ {
				for ox := 0; ox < OW; ox++ {
					var want, got float64
					for c := 0; c < sz.C; c++ {
						for ky := 0; ky < sz.KH; ky++ {
							for kx := 0; kx < sz.KW; kx++ {
								want += filt[(c*sz.KH+ky)*sz.KW+kx] * float64(src[((i*sz.C+c)*sz.H+oy+ky)*sz.W+ox+kx])
							}
						}
					}
					row := dst[(i*T+oy*OW+ox)*K:][:K]
					for k, v := range row {
						got += filt[k] * float64(v)
					}
					if math.Abs(got-want) > 1e-9*(1+math.Abs(want)) {
						t.Fatalf("%+v: sample %d (%d,%d): %v want %v", sz, i, oy, ox, got, want)
					}
				}
			}
		}
	}
}
