package kernels_test

import (
	"testing"

	"github.com/sgds/sgds/kernels"
	kt "github.com/sgds/sgds/kernels/kerneltest"
	"github.com/sgds/sgds/kernels/ref"
)

func TestAddDenseGradNormSq(t *testing.T) {
	for _, sh := range []struct{ K, C int }{{1, 1}, {7, 3}, {50, 10}, {320, 50}, {784, 256}} {
		for _, B := range kt.Sizes {
			if B*sh.K*sh.C > 3e6 && B > 1 {
				continue // keep the brute force quick
			}
			for _, bias := range []bool{false, true} {
				r := kt.Rand(uint64(B*131 + sh.K*7 + sh.C))
				a := kt.Normal(r, B*sh.K, 1)
				delta := kt.Normal(r, B*sh.C, 0.1)
				if B > 2 { // a sample with zero gradient and one with zero input
					clear(delta[sh.C : 2*sh.C])
					clear(a[2*sh.K : 3*sh.K])
				}
				dst := kt.Start(r, B)
				want := ref.DenseGradNormSq(a, delta, B, sh.K, sh.C, bias)
				for i := range want {
					want[i] += float64(dst[i])
				}
				kernels.AddDenseGradNormSq(dst, a, delta, B, sh.K, sh.C, bias)
				kt.Check(t, kt.Name("dense K", sh.K, "C", sh.C, "B", B, "bias", bias), dst, want, kt.Tol{Abs: 0, Rel: 1e-5})
			}
		}
	}
}

// TestAddDenseGradNormSqBiasMatters shows the check can fail: the identity
// without its bias term gives a different answer on the same inputs.
func TestAddDenseGradNormSqBiasMatters(t *testing.T) {
	const B, K, C = 33, 20, 10
	r := kt.Rand(9)
	a := kt.Normal(r, B*K, 1)
	delta := kt.Normal(r, B*C, 1)
	want := ref.DenseGradNormSq(a, delta, B, K, C, true)
	got := make([]float32, B)
	kernels.AddDenseGradNormSq(got, a, delta, B, K, C, false)
	for i := range got {
		if kt.Near(got[i], want[i], 0) {
			t.Errorf("sample %d: norm without bias %g matches norm with bias %g", i, got[i], want[i])
		}
		// The difference is exactly the bias term ||δ_i||².
		var dd float64
		for _, v := range delta[i*C : (i+1)*C] {
			dd += float64(v) * float64(v)
		}
		if !kt.Near(got[i], want[i]-dd, 0) {
			t.Errorf("sample %d: without bias %g, want %g", i, got[i], want[i]-dd)
		}
	}
}

func TestAddDenseGradNormSqPanics(t *testing.T) {
	dst, a, d := make([]float32, 2), make([]float32, 6), make([]float32, 4)
	kernels.AddDenseGradNormSq(dst, a, d, 2, 3, 2, true)
	kernels.AddDenseGradNormSq(nil, nil, nil, 0, 3, 2, true)
	kt.MustPanic(t, "short dst", func() { kernels.AddDenseGradNormSq(dst[:1], a, d, 2, 3, 2, true) })
	kt.MustPanic(t, "short a", func() { kernels.AddDenseGradNormSq(dst, a[:5], d, 2, 3, 2, true) })
	kt.MustPanic(t, "long delta", func() { kernels.AddDenseGradNormSq(dst, a, make([]float32, 5), 2, 3, 2, true) })
	kt.MustPanic(t, "negative K", func() { kernels.AddDenseGradNormSq(nil, nil, nil, 0, -1, 2, true) })
	kt.MustPanic(t, "negative B", func() { kernels.AddDenseGradNormSq(nil, nil, nil, -1, 1, 2, true) })
}

func BenchmarkAddDenseGradNormSq(b *testing.B) {
	for _, sh := range []struct {
		name    string
		B, K, C int
	}{{"fc1", 64, 320, 50}, {"fc2", 64, 50, 10}, {"mlp1", 64, 784, 256}} {
		b.Run(kt.Name("layer", sh.name, "B", sh.B), func(b *testing.B) {
			r := kt.Rand(1)
			a := kt.Normal(r, sh.B*sh.K, 1)
			d := kt.Normal(r, sh.B*sh.C, 1)
			dst := make([]float32, sh.B)
			b.SetBytes(int64(4 * sh.B * (sh.K + sh.C)))
			b.ReportAllocs()
			for b.Loop() {
				kernels.AddDenseGradNormSq(dst, a, d, sh.B, sh.K, sh.C, true)
			}
		})
	}
}
