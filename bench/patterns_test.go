package bench

import "testing"

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
