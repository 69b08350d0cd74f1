package bench

import (
	"encoding/json"
	"math"
	"testing"
)

func TestRanksAndSpearman(t *testing.T) {
	r := Ranks([]float64{10, 30, 20, 30})
	want := []float64{1, 3.5, 2, 3.5}
	for i := range r {
		if r[i] != want[i] {
			t.Fatalf("ranks %v, want %v", r, want)
		}
	}
	x := []float64{1, 2, 3, 4, 5}
	if s := Spearman(x, []float64{1, 4, 9, 16, 25}); math.Abs(s-1) > 1e-12 {
		t.Fatalf("monotone Spearman %v", s)
	}
	if s := Spearman(x, []float64{5, 4, 3, 2, 1}); math.Abs(s+1) > 1e-12 {
		t.Fatalf("reversed Spearman %v", s)
	}
	if p := Pearson(x, []float64{1, 4, 9, 16, 25}); p > 0.99 || p < 0.9 {
		t.Fatalf("Pearson of a convex curve %v", p)
	}
	if p := PearsonLog([]float64{1, 2, 4}, []float64{1, 4, 16}); math.Abs(p-1) > 1e-12 {
		t.Fatalf("PearsonLog of a power law %v", p)
	}
}

func TestTopOverlap(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if o := TopOverlap(x, x, 0.2); o != 1 {
		t.Fatalf("self overlap %v", o)
	}
	rev := []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}
	if o := TopOverlap(x, rev, 0.2); o != 0 {
		t.Fatalf("reversed overlap %v", o)
	}
}

// TestMeanCI checks the interval against a hand computation: for
// 1, 2, 3, 4, 5 the mean is 3, sd √2.5, and t(0.975, 4) = 2.776445, so the
// half-width is 2.776445·√2.5/√5 = 1.963243.
func TestMeanCI(t *testing.T) {
	iv := MeanCI([]float64{1, 2, 3, 4, 5})
	if iv.N != 5 || iv.Mean != 3 || math.Abs(iv.SD-math.Sqrt(2.5)) > 1e-12 ||
		math.Abs(iv.Lo-(3-1.963243)) > 1e-6 || math.Abs(iv.Hi-(3+1.963243)) > 1e-6 {
		t.Fatalf("interval %+v, want 3 ± 1.963243", iv)
	}
	// Two values 1.2 and 1.8: sd 0.424264, t(0.975, 1) = 12.706205,
	// half-width 12.706205·0.3 = 3.811861.
	iv = MeanCI([]float64{1.2, 1.8})
	if math.Abs(iv.Mean-1.5) > 1e-12 || math.Abs(iv.Hi-iv.Mean-3.811861) > 1e-6 {
		t.Fatalf("interval %+v, want 1.5 ± 3.811861", iv)
	}
	one := MeanCI([]float64{2})
	if one.Mean != 2 || !math.IsNaN(one.Lo) || !math.IsNaN(one.Hi) {
		t.Fatalf("one value: %+v", one)
	}
	b, err := json.Marshal(one)
	if err != nil || string(b) != `{"mean":2,"ci95_lo":null,"ci95_hi":null,"sd":null,"n":1}` {
		t.Fatalf("json %s, %v", b, err)
	}
	var back Interval
	if err := json.Unmarshal(b, &back); err != nil || back.Mean != 2 || !math.IsNaN(back.Lo) || back.N != 1 {
		t.Fatalf("round trip %+v, %v", back, err)
	}
}
