package bench

import (
	"slices"
	"strings"
	"testing"

	"github.com/sgds/sgds/run"
)

func TestDecileBinsAndStay(t *testing.T) {
	loss := make([]float32, 100)
	for i := range loss {
		loss[i] = float32(i)
	}
	b := DecileBins(loss)
	if b[99] != 0 || b[0] != 9 || b[55] != 4 {
		t.Fatalf("bins %v", b)
	}
	// Epoch 2 swaps the two extreme deciles; epoch 3 equals epoch 1.
	swapped := make([]float32, 100)
	for i := range swapped {
		swapped[i] = loss[i]
		if i < 10 {
			swapped[i] = float32(200 + i)
		} else if i >= 90 {
			swapped[i] = float32(i - 200)
		}
	}
	bins := [][]uint8{b, DecileBins(swapped), b}
	all := StayPercent(bins, Range{1, 3})
	if all[0] != 0 || all[9] != 0 || all[4] != 100 {
		t.Fatalf("stay 1-3 %v", all)
	}
	last := StayPercent(bins, Range{3, 3})
	for _, v := range last {
		if v != 100 {
			t.Fatalf("a one-epoch range must keep everything: %v", last)
		}
	}
	if rs := PatternRanges(5); len(rs) != 3 || rs[1] != (Range{2, 5}) || rs[2] != (Range{4, 5}) {
		t.Fatalf("ranges %v", rs)
	}
}

// TestPatternRangesDistinct lists every range once: with 2 epochs all
// three ranges are epochs 1-2, and the table had each column twice.
func TestPatternRangesDistinct(t *testing.T) {
	want := map[int][]Range{
		2: {{1, 2}},
		3: {{1, 3}, {2, 3}},
		4: {{1, 4}, {2, 4}, {3, 4}},
		5: {{1, 5}, {2, 5}, {4, 5}},
	}
	for n, w := range want {
		if got := PatternRanges(n); !slices.Equal(got, w) {
			t.Errorf("PatternRanges(%d) = %v, want %v", n, got, w)
		}
	}
	res := &PatternsResult{Config: run.Config{Epochs: 2}, Stay: map[string]map[string][]float64{
		"off": {"1-2": make([]float64, Bins)}, "on": {"1-2": make([]float64, Bins)}},
		Chance: map[string]float64{"1-2": 10}, FinalTestAcc: map[string]float64{}}
	header := strings.SplitN(PatternsTable(res), "\n", 3)[1]
	if strings.Count(header, "shufoff 1-2") != 1 || strings.Count(header, "shufon 1-2") != 1 {
		t.Fatalf("table header %q", header)
	}
}
