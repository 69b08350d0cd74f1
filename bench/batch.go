package bench

import (
	"sort"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/data"
)

// hostBatch is a reusable batch buffer.
type hostBatch struct {
	*engine.Batch
	p int
}

func newHostBatch(pixels, B int) *hostBatch {
	return &hostBatch{Batch: &engine.Batch{Images: make([]float32, B*pixels), Labels: make([]int32, B), Weights: make([]float32, B)}, p: pixels}
}

// fill gathers samples idx with weight 1/B and zero-weight padding.
func (h *hostBatch) fill(set *data.Set, idx []int) {
	B := len(h.Labels)
	clear(h.Images)
	clear(h.Labels)
	clear(h.Weights)
	for i, k := range idx {
		copy(h.Images[i*h.p:(i+1)*h.p], set.Image(k))
		h.Labels[i] = set.Labels[k]
		h.Weights[i] = 1 / float32(B)
	}
	h.Indices, h.N = idx, len(idx)
}

// median of a non-empty slice (copied, not reordered).
func median(x []float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
