package ref_test

import (
	"math"
	"testing"

	kt "github.com/sgds/sgds/kernels/kerneltest"
	"github.com/sgds/sgds/kernels/ref"
)

func TestGather(t *testing.T) {
	r := kt.Rand(9)
	for _, P := range []int{1, 33, 784} {
		N := 50
		data := kt.Normal(r, N*P, 1)
		dl := make([]int32, N)
		for i := range dl {
			dl[i] = int32(r.IntN(10))
		}
		for _, B := range kt.Sizes {
			idx := make([]int32, B)
			for i := range idx {
				idx[i] = int32(r.IntN(N+2)) - 1 // -1 and N are padding
			}
			x, lab := kt.Poison(B*P), make([]int32, B)
			for i := range lab {
				lab[i] = -9
			}
			ref.Gather(x, lab, data, dl, idx, P)
			for i, k := range idx {
				for p := 0; p < P; p++ {
					want := float32(0)
					if k >= 0 && int(k) < N {
						want = data[int(k)*P+p]
					}
					if x[i*P+p] != want {
						t.Fatalf("P=%d B=%d row %d: x[%d] = %v, want %v", P, B, i, p, x[i*P+p], want)
					}
				}
				wl := int32(0)
				if k >= 0 && int(k) < N {
					wl = dl[k]
				}
				if lab[i] != wl {
					t.Fatalf("label %d = %d, want %d", i, lab[i], wl)
				}
			}
		}
	}
	kt.MustPanic(t, "lengths", func() {
		ref.Gather(make([]float32, 3), make([]int32, 1), make([]float32, 4), make([]int32, 2), []int32{0}, 2)
	})
}

func TestArgmaxRows(t *testing.T) {
	r := kt.Rand(10)
	for _, C := range []int{1, 2, 10, 33, 1000} {
		for _, B := range kt.Sizes {
			x := kt.Normal(r, B*C, 1)
			for i := 0; i < B && C > 3; i += 3 {
				x[i*C+2] = x[i*C] // a tie when x[i*C] is the maximum
				x[i*C+1] = float32(math.NaN())
			}
			pred := make([]int32, B)
			for i := range pred {
				pred[i] = -1
			}
			ref.ArgmaxRows(pred, x, B, C)
			for i := 0; i < B; i++ {
				best := 0
				for j := 1; j < C; j++ {
					v, bv := x[i*C+j], x[i*C+best]
					if bv != bv || (v == v && v > bv) {
						best = j
					}
				}
				if x[i*C+best] != x[i*C+best] {
					best = 0
				}
				if int(pred[i]) != best {
					t.Fatalf("C=%d B=%d row %d: %d, want %d", C, B, i, pred[i], best)
				}
			}
		}
	}
	all := []float32{float32(math.NaN()), float32(math.NaN())}
	p := []int32{5}
	ref.ArgmaxRows(p, all, 1, 2)
	if p[0] != 0 {
		t.Errorf("all NaN: %d", p[0])
	}
}
