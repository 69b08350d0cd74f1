package cpu

import "github.com/sgds/sgds/kernels"

// cnn is the seed's small MNIST CNN:
//
//	h1 = relu(maxpool2(conv5×5(x; 1→10) + b1))     (B, 10, 12, 12)
//	h2 = relu(maxpool2(conv5×5(h1; 10→20) + b2))   (B, 20, 4, 4) = (B, 320)
//	h3 = relu(h2·W3 + b3)                           (B, 50)
//	logits = h3·W4 + b4                             (B, 10)
//
// Each conv layer is one fused kernel (conv + bias + pool + ReLU, keeping
// the argmax); its backward works from the pooled gradient and the argmax.
type cnn struct {
	n        *Net
	h1, d1   []float32 // B × 1440: conv1 pooled output and its gradient
	a1       []int32
	h2, d2   []float32 // B × 320
	a2       []int32
	h3, d3   []float32 // B × 50
	d3w, d4w []float32 // w_i·δ of fc1 and fc2
	items    []cnnItem
}

// cnnItem is one phase-2 work item: a block of filters of a conv layer, a
// block of rows of fc1's weights, or the small rest.
type cnnItem struct {
	kind   int // 0 conv1, 1 conv2, 2 fc1 rows, 3 rest
	lo, hi int
}

const (
	c1F, c1PQ           = 10, 144
	c2C, c2H, c2F, c2PQ = 10, 12, 20, 16
	fc1In, fc1Out       = 320, 50
)

func newCNN(n *Net) *cnn {
	B := n.B
	m := &cnn{n: n,
		h1: make([]float32, B*c1F*c1PQ), d1: make([]float32, B*c1F*c1PQ), a1: make([]int32, B*c1F*c1PQ),
		h2: make([]float32, B*fc1In), d2: make([]float32, B*fc1In), a2: make([]int32, B*fc1In),
		h3: make([]float32, B*fc1Out), d3: make([]float32, B*fc1Out),
		d3w: make([]float32, B*fc1Out), d4w: make([]float32, B*n.cls)}
	// Fixed blocks (independent of the number of goroutines): 2 of conv1's
	// filters, 4 of conv2's, 4 of fc1's rows, and the rest.
	for f := 0; f < c1F; f += 5 {
		m.items = append(m.items, cnnItem{0, f, min(f+5, c1F)})
	}
	for f := 0; f < c2F; f += 5 {
		m.items = append(m.items, cnnItem{1, f, min(f+5, c2F)})
	}
	for k := 0; k < fc1In; k += 80 {
		m.items = append(m.items, cnnItem{2, k, min(k+80, fc1In)})
	}
	m.items = append(m.items, cnnItem{3, 0, 0})
	return m
}

func (m *cnn) rows(r0, r1 int) {
	n := m.n
	C, k := n.cls, r1-r0
	x := n.x[r0*784 : r1*784]
	h1, a1 := m.h1[r0*c1F*c1PQ:r1*c1F*c1PQ], m.a1[r0*c1F*c1PQ:r1*c1F*c1PQ]
	h2, a2 := m.h2[r0*fc1In:r1*fc1In], m.a2[r0*fc1In:r1*fc1In]
	h3 := m.h3[r0*fc1Out : r1*fc1Out]
	logits := n.logits[r0*C : r1*C]
	kernels.ConvPoolReLU(h1, a1, x, n.w[0], n.w[1], k, 1, 28, 28, c1F, 5, 5)
	kernels.ConvPoolReLU(h2, a2, h1, n.w[2], n.w[3], k, c2C, c2H, c2H, c2F, 5, 5)
	kernels.Gemm(h3, fc1Out, false, h2, fc1In, false, n.w[4], fc1Out, false, k, fc1Out, fc1In)
	kernels.AddBiasReLU(h3, fc1Out, n.w[5], k, fc1Out, true)
	kernels.Gemm(logits, C, false, h3, fc1Out, false, n.w[6], C, false, k, C, fc1Out)
	kernels.AddBiasReLU(logits, C, n.w[7], k, C, false)
	n.lossRows(r0, r1)
	if n.mode == modeEval {
		return
	}
	d4 := n.dlogits[r0*C : r1*C]
	d3 := m.d3[r0*fc1Out : r1*fc1Out]
	d2 := m.d2[r0*fc1In : r1*fc1In]
	d1 := m.d1[r0*c1F*c1PQ : r1*c1F*c1PQ]
	kernels.Gemm(d3, fc1Out, false, d4, C, false, n.w[6], C, true, k, fc1Out, C) // δ4·W4ᵀ
	kernels.ReLUMask(d3, d3, h3)
	kernels.Gemm(d2, fc1In, false, d3, fc1Out, false, n.w[4], fc1Out, true, k, fc1In, fc1Out) // δ3·W3ᵀ
	kernels.ReLUMask(d2, d2, h2)
	kernels.ConvPoolInputGrad(d1, d2, a2, n.w[2], k, c2C, c2H, c2H, c2F, 5, 5, c2PQ)
	kernels.ReLUMask(d1, d1, h1)
	if n.norms { // the dense layers' norms; the conv layers' come from phase 2
		sq := n.sq[r0:r1]
		kernels.AddDenseGradNormSq(sq, h2, d3, k, fc1In, fc1Out, true)
		kernels.AddDenseGradNormSq(sq, h3, d4, k, fc1Out, C, true)
	}
	if n.rw != nil {
		kernels.ScaleRows(m.d3w[r0*fc1Out:r1*fc1Out], d3, n.rw[r0:r1], k, fc1Out)
		kernels.ScaleRows(m.d4w[r0*C:r1*C], d4, n.rw[r0:r1], k, C)
	}
}

func (m *cnn) paramItems() int { return len(m.items) }

func (m *cnn) normsInPhase2() bool { return true }

// paramItem computes one block of gradients. The conv blocks also add each
// sample's squared norm for their filters to sqPart[item] when the pass
// wants norms (the kernel builds each sample's gradient anyway).
func (m *cnn) paramItem(item int) {
	n := m.n
	B, C := n.B, n.cls
	it := m.items[item]
	var sq []float64
	if n.norms {
		sq = n.sqPart[item]
	}
	switch it.kind {
	case 0:
		K := 25
		clear(n.g[0][it.lo*K : it.hi*K])
		clear(n.g[1][it.lo:it.hi])
		kernels.AddConvPoolWeightGrad(n.g[0], n.g[1], sq, n.x, m.d1, m.a1, n.rw, B, 1, 28, 28, c1F, 5, 5, c1PQ, it.lo, it.hi)
		n.sgd(0, it.lo*K, it.hi*K)
		n.sgd(1, it.lo, it.hi)
	case 1:
		K := c2C * 25
		clear(n.g[2][it.lo*K : it.hi*K])
		clear(n.g[3][it.lo:it.hi])
		kernels.AddConvPoolWeightGrad(n.g[2], n.g[3], sq, m.h1, m.d2, m.a2, n.rw, B, c2C, c2H, c2H, c2F, 5, 5, c2PQ, it.lo, it.hi)
		n.sgd(2, it.lo*K, it.hi*K)
		n.sgd(3, it.lo, it.hi)
	case 2:
		// dW3[k0:k1] = h2[:, k0:k1]ᵀ · (w⊙δ3)
		kernels.Gemm(n.g[4][it.lo*fc1Out:it.hi*fc1Out], fc1Out, false, m.h2[it.lo:], fc1In, true, m.d3w, fc1Out, false, it.hi-it.lo, fc1Out, B)
		n.sgd(4, it.lo*fc1Out, it.hi*fc1Out)
	case 3:
		kernels.SumRows(n.g[5], false, m.d3w, fc1Out, B, fc1Out)
		n.sgd(5, 0, fc1Out)
		kernels.Gemm(n.g[6], C, false, m.h3, fc1Out, true, m.d4w, C, false, fc1Out, C, B)
		n.sgd(6, 0, fc1Out*C)
		kernels.SumRows(n.g[7], false, m.d4w, C, B, C)
		n.sgd(7, 0, C)
	}
}
