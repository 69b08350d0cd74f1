package bench

import (
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
