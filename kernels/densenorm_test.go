package kernels

import "testing"

// refDenseGradNormSq forms each sample's gradient of z = W a + b explicitly
// (the outer product δ_i a_iᵀ and δ_i) and sums its squares in float64.
func refDenseGradNormSq(a, delta []float32, B, K, C int, bias bool) []float64 {
	out := make([]float64, B)
	G := make([]float64, C*K)
	for i := range B {
		for c := range C {
			for k := range K {
				G[c*K+k] = float64(delta[i*C+c]) * float64(a[i*K+k])
			}
		}
		var s float64
		for _, g := range G {
			s += g * g
		}
		if bias {
			for c := range C {
				g := float64(delta[i*C+c])
				s += g * g
			}
		}
		out[i] = s
	}
	return out
}

func TestAddDenseGradNormSq(t *testing.T) {
	for _, sh := range []struct{ K, C int }{{1, 1}, {7, 3}, {50, 10}, {320, 50}, {784, 256}} {
		for _, B := range testBatches {
			if B*sh.K*sh.C > 3e6 && B > 1 {
				continue // keep the brute force quick
			}
			for _, bias := range []bool{false, true} {
				r := newRand(uint64(B*131 + sh.K*7 + sh.C))
				a := randNormal32(r, B*sh.K, 1)
				delta := randNormal32(r, B*sh.C, 0.1)
				if B > 2 { // a sample with zero gradient and one with zero input
					clear(delta[sh.C : 2*sh.C])
					clear(a[2*sh.K : 3*sh.K])
				}
				dst := startValues(r, B)
				want := refDenseGradNormSq(a, delta, B, sh.K, sh.C, bias)
				for i := range want {
					want[i] += float64(dst[i])
				}
				AddDenseGradNormSq(dst, a, delta, B, sh.K, sh.C, bias)
				checkClose(t, bname("dense K", sh.K, "C", sh.C, "B", B, "bias", bias), dst, want, 0)
			}
		}
	}
}

// TestAddDenseGradNormSqBiasMatters shows the check can fail: the identity
// without its bias term gives a different answer on the same inputs.
func TestAddDenseGradNormSqBiasMatters(t *testing.T) {
	const B, K, C = 33, 20, 10
	r := newRand(9)
	a := randNormal32(r, B*K, 1)
	delta := randNormal32(r, B*C, 1)
	want := refDenseGradNormSq(a, delta, B, K, C, true)
	got := make([]float32, B)
	AddDenseGradNormSq(got, a, delta, B, K, C, false)
	for i := range got {
		if closeTo(got[i], want[i], 0) {
			t.Errorf("sample %d: norm without bias %g matches norm with bias %g", i, got[i], want[i])
		}
		// The difference is exactly the bias term ||δ_i||².
		var dd float64
		for _, v := range delta[i*C : (i+1)*C] {
			dd += float64(v) * float64(v)
		}
		if !closeTo(got[i], want[i]-dd, 0) {
			t.Errorf("sample %d: without bias %g, want %g", i, got[i], want[i]-dd)
		}
	}
}

func TestAddDenseGradNormSqPanics(t *testing.T) {
	dst, a, d := make([]float32, 2), make([]float32, 6), make([]float32, 4)
	AddDenseGradNormSq(dst, a, d, 2, 3, 2, true)
	AddDenseGradNormSq(nil, nil, nil, 0, 3, 2, true)
	mustPanic(t, "short dst", func() { AddDenseGradNormSq(dst[:1], a, d, 2, 3, 2, true) })
	mustPanic(t, "short a", func() { AddDenseGradNormSq(dst, a[:5], d, 2, 3, 2, true) })
	mustPanic(t, "long delta", func() { AddDenseGradNormSq(dst, a, make([]float32, 5), 2, 3, 2, true) })
	mustPanic(t, "negative K", func() { AddDenseGradNormSq(nil, nil, nil, 0, -1, 2, true) })
	mustPanic(t, "negative B", func() { AddDenseGradNormSq(nil, nil, nil, -1, 1, 2, true) })
}

func BenchmarkAddDenseGradNormSq(b *testing.B) {
	for _, sh := range []struct {
		name    string
		B, K, C int
	}{{"fc1", 64, 320, 50}, {"fc2", 64, 50, 10}, {"mlp1", 64, 784, 256}} {
		b.Run(bname("layer", sh.name, "B", sh.B), func(b *testing.B) {
			r := newRand(1)
			a := randNormal32(r, sh.B*sh.K, 1)
			d := randNormal32(r, sh.B*sh.C, 1)
			dst := make([]float32, sh.B)
			b.SetBytes(int64(4 * sh.B * (sh.K + sh.C)))
			b.ReportAllocs()
			for b.Loop() {
				AddDenseGradNormSq(dst, a, d, sh.B, sh.K, sh.C, true)
			}
		})
	}
}
