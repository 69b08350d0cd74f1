package ref_test

import (
	"math"
	"testing"

	kt "github.com/sgds/sgds/kernels/kerneltest"
	"github.com/sgds/sgds/kernels/ref"
)

func TestMaxPool2(t *testing.T) {
	r := kt.Rand(5)
	for _, s := range [][3]int{{1, 24, 24}, {10, 8, 8}, {3, 7, 5}, {2, 1, 4}, {1, 2, 2}, {4, 33, 31}} {
		C, H, W := s[0], s[1], s[2]
		PH, PW := H/2, W/2
		for _, B := range []int{0, 1, 31, 32, 33} {
			in := kt.Normal(r, B*C*H*W, 1)
			// Ties: some windows hold equal values; the first must win.
			for j := 0; j+1 < len(in); j += 7 {
				in[j+1] = in[j]
			}
			for _, relu := range []bool{false, true} {
				out := kt.Poison(B * C * PH * PW)
				arg := make([]int32, len(out))
				for j := range arg {
					arg[j] = -7
				}
				ref.MaxPool2(out, arg, in, B, C, H, W, relu)
				for p := 0; p < B*C; p++ {
					for py := 0; py < PH; py++ {
						for px := 0; px < PW; px++ {
							best, bv := -1, float32(math.Inf(-1))
							for _, d := range [][2]int{{0, 0}, {0, 1}, {1, 0}, {1, 1}} {
								pos := (2*py+d[0])*W + 2*px + d[1]
								if v := in[p*H*W+pos]; best < 0 || v > bv {
									best, bv = pos, v
								}
							}
							if relu && bv < 0 {
								bv = 0
							}
							o := (p*PH+py)*PW + px
							if out[o] != bv || int(arg[o]) != best {
								t.Fatalf("C=%d H=%d W=%d B=%d relu=%v window %d: (%v, %d), want (%v, %d)", C, H, W, B, relu, o, out[o], arg[o], bv, best)
							}
						}
					}
				}
				dout := kt.Normal(r, len(out), 1)
				din := kt.Poison(B * C * H * W)
				ref.MaxPool2Back(din, dout, arg, out, B, C, H, W, relu)
				want := make([]float64, len(din))
				for o := range out {
					p := o / (PH * PW)
					if !relu || out[o] > 0 {
						want[p*H*W+int(arg[o])] = float64(dout[o])
					}
				}
				kt.Check(t, kt.Name("pool back C", C, "H", H, "W", W, "B", B, "relu", relu), din, want, kt.Tol{Abs: 0, Rel: 1e-5})
			}
		}
	}
	kt.MustPanic(t, "short out", func() { ref.MaxPool2(make([]float32, 1), make([]int32, 2), make([]float32, 8), 1, 2, 2, 2, false) })
}
