package ref

import (
	"math"

	"github.com/sgds/sgds/kernels/internal/check"
)

// Gather is the reference of the device gather_rows (data.cu): it
// copies the samples idx of an (N, P) data set into a batch of len(idx)
// rows. With N = len(dataLabels) it is equal to
//
//	for i, k := range idx {
//		if 0 <= k < N { x[i*P:(i+1)*P] = data[k*P:(k+1)*P]; labels[i] = dataLabels[k] }
//		else          { x[i*P:(i+1)*P] = 0;                 labels[i] = 0 }   // padding, idx -1
//	}
//
// It panics if len(x) != len(idx)*P, len(labels) != len(idx) or
// len(data) != N*P.
func Gather(x []float32, labels []int32, data []float32, dataLabels []int32, idx []int32, P int) {
	const op = "ref.Gather"
	B, N := len(idx), len(dataLabels)
	check.Len(op, "x", x, check.Size(op, B, P))
	check.Len(op, "labels", labels, B)
	check.Len(op, "data", data, check.Size(op, N, P))
	for i, k := range idx {
		row := x[i*P : (i+1)*P]
		if k >= 0 && int(k) < N {
			copy(row, data[int(k)*P:(int(k)+1)*P])
			labels[i] = dataLabels[k]
		} else {
			clear(row)
			labels[i] = 0
		}
	}
}

// ArgmaxRows is the reference of the device argmax_rows (data.cu):
// pred[i] is the index of the largest of the C values of row i of the
// (B, C) logits, the lowest index among ties, NaN counting as −∞ (0 when
// C = 0). It panics on wrong lengths.
func ArgmaxRows(pred []int32, logits []float32, B, C int) {
	const op = "ref.ArgmaxRows"
	check.Len(op, "pred", pred, B)
	check.Len(op, "logits", logits, check.Size(op, B, C))
	for i := 0; i < B; i++ {
		best, bi := float32(math.Inf(-1)), -1
		for j, v := range logits[i*C : (i+1)*C] {
			if v != v {
				v = float32(math.Inf(-1))
			}
			if bi < 0 || v > best {
				best, bi = v, j
			}
		}
		pred[i] = int32(max(bi, 0))
	}
}
