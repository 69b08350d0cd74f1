package ref_test

import (
	"math"
	"testing"

	"github.com/sgds/sgds/kernels"

	kt "github.com/sgds/sgds/kernels/kerneltest"
	"github.com/sgds/sgds/kernels/ref"
)

// convShapes are (C, H, W, KH, KW): the seed CNN's two layers, a 1×1
// kernel, a kernel as large as the image, and odd sizes.
var convShapes = [][5]int{{1, 28, 28, 5, 5}, {10, 12, 12, 5, 5}, {3, 7, 9, 1, 1}, {2, 5, 4, 5, 4}, {3, 33, 31, 4, 3}}

func TestCol2Im(t *testing.T) {
	r := kt.Rand(3)
	for _, s := range convShapes {
		C, H, W, KH, KW := s[0], s[1], s[2], s[3], s[4]
		T, K := (H-KH+1)*(W-KW+1), C*KH*KW
		for _, B := range []int{0, 1, 3, 32, 33} {
			src := kt.Normal(r, B*T*K, 1)
			got := kt.Poison(B * C * H * W)
			ref.Col2Im(got, src, B, C, H, W, KH, KW)
			// Reference: scatter every patch entry back where Im2Col took it.
			want := make([]float64, len(got))
			OW := W - KW + 1
			for i := 0; i < B; i++ {
				for t0 := 0; t0 < T; t0++ {
					oy, ox := t0/OW, t0%OW
					for c := 0; c < C; c++ {
						for ky := 0; ky < KH; ky++ {
							for kx := 0; kx < KW; kx++ {
								want[((i*C+c)*H+oy+ky)*W+ox+kx] += float64(src[(i*T+t0)*K+(c*KH+ky)*KW+kx])
							}
						}
					}
				}
			}
			kt.Check(t, kt.Name("col2im C", C, "H", H, "W", W, "B", B), got, want, kt.Tol{Abs: 1e-6, Rel: 1e-5})
			// Adjoint identity: <kernels.Im2Col(x), p> = <x, Col2Im(p)>.
			if B > 0 {
				x := kt.Normal(r, B*C*H*W, 1)
				px := make([]float32, B*T*K)
				kernels.Im2Col(px, x, B, C, H, W, KH, KW)
				var l, rr float64
				for j := range px {
					l += float64(px[j]) * float64(src[j])
				}
				for j := range x {
					rr += float64(x[j]) * float64(got[j])
				}
				if math.Abs(l-rr) > 1e-5*(math.Abs(l)+1) {
					t.Errorf("adjoint C=%d H=%d W=%d B=%d: %g vs %g", C, H, W, B, l, rr)
				}
			}
		}
	}
	kt.MustPanic(t, "kernel too large", func() { ref.Col2Im(nil, nil, 1, 1, 2, 2, 3, 3) })
	kt.MustPanic(t, "short dst", func() { ref.Col2Im(make([]float32, 3), make([]float32, 4), 1, 1, 2, 2, 1, 1) })
}
