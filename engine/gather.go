package engine

import (
	"fmt"

	"github.com/sgds/sgds/engine/data"
)

// NewBatch allocates a batch of B rows of pixels values each.
func NewBatch(B, pixels int) *Batch {
	return &Batch{Images: make([]float32, B*pixels), Labels: make([]int32, B), Weights: make([]float32, B)}
}

// Gather fills b with the samples idx of set, len(idx) ≤ rows of b: row i
// is sample idx[i] with weight weights[i] (1/B when weights is nil); the
// rows after len(idx) are zero padding of weight 0. b.Indices aliases idx.
func (b *Batch) Gather(set *data.Set, idx []int, weights []float64) error {
	B := len(b.Labels)
	p := set.Pixels()
	switch {
	case len(idx) > B:
		return fmt.Errorf("gather: %d samples into a batch of %d rows", len(idx), B)
	case len(b.Images) != B*p || len(b.Weights) != B:
		return fmt.Errorf("gather: batch holds %d image values and %d weights for %d rows; %s has %d values per image",
			len(b.Images), len(b.Weights), B, set.Name, p)
	case weights != nil && len(weights) != len(idx):
		return fmt.Errorf("gather: %d weights for %d samples", len(weights), len(idx))
	}
	for i, k := range idx {
		if k < 0 || k >= set.N {
			return fmt.Errorf("sample index %d outside the %d samples of %s", k, set.N, set.Name)
		}
		copy(b.Images[i*p:(i+1)*p], set.Images[k*p:(k+1)*p])
		b.Labels[i] = set.Labels[k]
		if weights != nil {
			b.Weights[i] = float32(weights[i])
		} else {
			b.Weights[i] = 1 / float32(B)
		}
	}
	clear(b.Images[len(idx)*p:])
	clear(b.Labels[len(idx):])
	clear(b.Weights[len(idx):])
	b.Indices = idx
	b.N = len(idx)
	return nil
}
