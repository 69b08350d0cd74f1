package kernels_test

import (
	"math"
	"testing"

	"github.com/sgds/sgds/kernels"
	kt "github.com/sgds/sgds/kernels/kerneltest"
	"github.com/sgds/sgds/kernels/ref"
)

func TestSoftmaxNLL(t *testing.T) {
	for _, C := range []int{1, 2, 10, 33, 1000, 1500} { // 1500: beyond the on-stack row buffer
		for _, B := range kt.Sizes {
			if B*C > 200000 {
				continue
			}
			r := kt.Rand(uint64(B*7919 + C))
			logits := kt.Normal(r, B*C, 3)
			labels := make([]int32, B)
			for i := range labels {
				labels[i] = int32(r.IntN(C))
			}
			loss, dl, norm := kt.Poison(B), kt.Poison(B*C), kt.Poison(B)
			kernels.SoftmaxNLL(loss, dl, norm, logits, labels, B, C)
			wl, wd, wn := ref.SoftmaxNLL(logits, labels, B, C)
			// The reference's log-sum-exp form loses ~1e-16 absolute near
			// loss 0; the kernel is more exact there, so allow that much.
			kt.Check(t, kt.Name("loss B", B, "C", C), loss, wl, kt.Tol{Abs: 1e-14, Rel: 1e-5})
			kt.Check(t, kt.Name("dlogits B", B, "C", C), dl, wd, kt.Tol{Abs: 1e-37, Rel: 1e-5})
			kt.Check(t, kt.Name("lastNorm B", B, "C", C), norm, wn, kt.Tol{Abs: 1e-14, Rel: 1e-5})

			// nil outputs are skipped; the others are unchanged.
			loss2 := kt.Poison(B)
			kernels.SoftmaxNLL(loss2, nil, nil, logits, labels, B, C)
			kt.Check(t, kt.Name("loss(nil) B", B, "C", C), loss2, wl, kt.Tol{Abs: 1e-14, Rel: 1e-5})
			norm2 := kt.Poison(B)
			kernels.SoftmaxNLL(loss2, nil, norm2, logits, labels, B, C)
			for i := range norm2 {
				if norm2[i] != norm[i] {
					t.Fatalf("lastNorm without dlogits [%d] = %g, with = %g", i, norm2[i], norm[i])
				}
			}
		}
	}
}

// TestSoftmaxNLLExtreme checks stability on huge, tied and confident logits
// and the identities Σ_j dlogits = 0 and lastNorm = ||dlogits row||.
func TestSoftmaxNLLExtreme(t *testing.T) {
	const C = 7
	rows := [][]float32{
		{1e4, -1e4, 0, 0, 0, 0, 0},
		{-1e4, 1e4, 0, 0, 0, 0, 0},
		{1e4, 1e4, 1e4, 1e4, 1e4, 1e4, 1e4},
		{-1e4, -1e4, -1e4, -1e4, -1e4, -1e4, -1e4},
		{0, 0, 0, 0, 0, 0, 0},
		{1e38, -1e38, 1e38, 0, 1, 2, 3}, // loss 2e38: huge but a float32
		{50, 0, 0, 0, 0, 0, 0},          // confident and right: tiny loss
		{0, 50, 0, 0, 0, 0, 0},          // confident and wrong: loss ≈ 50
		{-1e4, 1e4, 1e4, 1e4, -1e4, 5, 9e3},
		{1e4, -1e4, -1e4, -1e4, -1e4, -1e4, -1e4},
	}
	B := len(rows)
	var logits []float32
	for _, r := range rows {
		logits = append(logits, r...)
	}
	labels := make([]int32, B) // all label 0
	labels[5] = 1
	loss, dl, norm := kt.Poison(B), kt.Poison(B*C), kt.Poison(B)
	kernels.SoftmaxNLL(loss, dl, norm, logits, labels, B, C)
	for i := range B {
		if math.IsNaN(float64(loss[i])) || math.IsInf(float64(loss[i]), 0) || loss[i] < 0 {
			t.Errorf("row %d: loss = %g", i, loss[i])
		}
		var sum, n2 float64
		for _, g := range dl[i*C : (i+1)*C] {
			if math.IsNaN(float64(g)) || math.IsInf(float64(g), 0) {
				t.Errorf("row %d: dlogits not finite: %v", i, dl[i*C:(i+1)*C])
			}
			sum += float64(g)
			n2 += float64(g) * float64(g)
		}
		if math.Abs(sum) > 1e-6 {
			t.Errorf("row %d: Σ dlogits = %g, want 0", i, sum)
		}
		if !kt.Near(norm[i], math.Sqrt(n2), 1e-30) {
			t.Errorf("row %d: lastNorm = %g, ||dlogits|| = %g", i, norm[i], math.Sqrt(n2))
		}
	}
	want := map[int]float64{
		0: 0,           // label is the max by 2e4
		1: 2e4,         // label is below the max by 2e4
		2: math.Log(7), // all tied
		3: math.Log(7), // all tied
		4: math.Log(7), // all tied
		5: 2e38,
		6: math.Log1p(6 * math.Exp(-50)), // ≈ 1.16e-21, not 0
		7: 50 + math.Log1p(6*math.Exp(-50)),
		9: 0,
	}
	for i, w := range want {
		if w == 0 {
			if loss[i] != 0 {
				t.Errorf("row %d: loss = %g, want 0", i, loss[i])
			}
			continue
		}
		if !kt.Near(loss[i], w, 0) {
			t.Errorf("row %d: loss = %g, want %g", i, loss[i], w)
		}
	}
	if loss[6] == 0 || dl[6*C] == 0 || norm[6] == 0 {
		t.Errorf("confident right row: loss %g, dlogits[y] %g, norm %g; want tiny but non-zero", loss[6], dl[6*C], norm[6])
	}
}

func TestSoftmaxNLLPanics(t *testing.T) {
	l, g, n := make([]float32, 2), make([]float32, 6), make([]float32, 2)
	x, y := make([]float32, 6), []int32{0, 2}
	kernels.SoftmaxNLL(l, g, n, x, y, 2, 3) // valid
	kernels.SoftmaxNLL(nil, nil, nil, nil, nil, 0, 5)
	kernels.SoftmaxNLL(nil, nil, nil, nil, nil, 0, 0)
	kt.MustPanic(t, "label = C", func() { kernels.SoftmaxNLL(l, g, n, x, []int32{0, 3}, 2, 3) })
	kt.MustPanic(t, "label < 0", func() { kernels.SoftmaxNLL(l, g, n, x, []int32{-1, 0}, 2, 3) })
	kt.MustPanic(t, "short loss", func() { kernels.SoftmaxNLL(l[:1], g, n, x, y, 2, 3) })
	kt.MustPanic(t, "short logits", func() { kernels.SoftmaxNLL(l, g, n, x[:5], y, 2, 3) })
	kt.MustPanic(t, "short dlogits", func() { kernels.SoftmaxNLL(l, g[:5], n, x, y, 2, 3) })
	kt.MustPanic(t, "short lastNorm", func() { kernels.SoftmaxNLL(l, g, n[:1], x, y, 2, 3) })
	kt.MustPanic(t, "short labels", func() { kernels.SoftmaxNLL(l, g, n, x, y[:1], 2, 3) })
	kt.MustPanic(t, "negative B", func() { kernels.SoftmaxNLL(nil, nil, nil, nil, nil, -1, 3) })
	kt.MustPanic(t, "negative C", func() { kernels.SoftmaxNLL(nil, nil, nil, nil, nil, 0, -3) })
	kt.MustPanic(t, "C = 0", func() { kernels.SoftmaxNLL(l, nil, nil, nil, y, 2, 0) })

	// A bad label is found before anything is written.
	l2 := []float32{42, 42}
	kt.MustPanic(t, "late bad label", func() { kernels.SoftmaxNLL(l2, nil, nil, x, []int32{0, 9}, 2, 3) })
	if l2[0] != 42 {
		t.Errorf("loss written before the label check: %v", l2)
	}
}

func BenchmarkSoftmaxNLL(b *testing.B) {
	for _, sz := range []struct{ B, C int }{{64, 10}, {65536, 1000}} {
		b.Run(kt.Name("B", sz.B, "C", sz.C), func(b *testing.B) {
			r := kt.Rand(1)
			logits := kt.Normal(r, sz.B*sz.C, 3)
			labels := make([]int32, sz.B)
			for i := range labels {
				labels[i] = int32(r.IntN(sz.C))
			}
			loss, dl, norm := make([]float32, sz.B), make([]float32, sz.B*sz.C), make([]float32, sz.B)
			b.SetBytes(int64(4 * (2*sz.B*sz.C + 3*sz.B)))
			b.ReportAllocs()
			for b.Loop() {
				kernels.SoftmaxNLL(loss, dl, norm, logits, labels, sz.B, sz.C)
			}
			b.ReportMetric(float64(sz.B)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}
