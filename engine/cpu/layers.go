package cpu

import (
	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/kernels"
)

// stage is one layer of the model (engine.Layers) with its buffers, B rows
// each. A convolution is one fused kernel (conv + bias + 2×2 max-pool +
// ReLU, keeping the argmax), and its backward works from the pooled
// gradient and the argmax; a dense layer is a GEMM and a fused bias (+ ReLU).
type stage struct {
	engine.Layer
	h   []float32 // output (after pooling and ReLU); the Net's logits for the last layer
	d   []float32 // ∂L_i/∂z of the output (ReLU applied); the Net's dlogits for the last layer
	arg []int32   // conv: the argmax of every pooled output
	dw  []float32 // dense: w_i·d, the rows the weight gradient sums
}

// Work items of phase 2 (see item): a block of a conv layer's filters
// (weights and biases), a block of a dense layer's weight rows, and one item
// for the dense biases.
const (
	itemConv = iota
	itemDenseRows
	itemDenseBias
)

// convBlock is the number of filters per conv work item; denseBlock is the
// target number of weights per dense work item (rows rounded up to a
// multiple of 8). The conv blocks also fix the order in which the per-sample
// squared norms of the filters are summed, so changing convBlock changes
// gradient norms in the last bits.
const (
	convBlock  = 5
	denseBlock = 16384
)

// item is one phase-2 work item: kind on layer (an index into Net.stages),
// covering filters or weight rows [lo, hi).
type item struct {
	kind, layer, lo, hi int
}

// newStages allocates the buffers of the layers ls for batch B and lists
// the phase-2 work items: the conv blocks first, in layer order (their norm
// partials are summed in item order), then the dense weight blocks, then the
// biases.
func newStages(n *Net, ls []engine.Layer) ([]stage, []item) {
	B := n.B
	st := make([]stage, len(ls))
	var items []item
	for i, l := range ls {
		s := &st[i]
		s.Layer = l
		size := B * l.OutSize()
		if i == len(ls)-1 {
			s.h, s.d = n.logits, n.dlogits
		} else {
			s.h, s.d = make([]float32, size), make([]float32, size)
		}
		switch l.Kind {
		case engine.ConvPool:
			s.arg = make([]int32, size)
			for f := 0; f < l.Cout; f += convBlock {
				items = append(items, item{itemConv, i, f, min(f+convBlock, l.Cout)})
			}
		case engine.Dense:
			s.dw = make([]float32, size)
		default:
			panic(engine.UnknownKind(l))
		}
	}
	for i, l := range ls {
		if l.Kind != engine.Dense {
			continue
		}
		rows := min(l.In, (max(1, denseBlock/l.Out)+7)/8*8)
		for r := 0; r < l.In; r += rows {
			items = append(items, item{itemDenseRows, i, r, min(r+rows, l.In)})
		}
	}
	return st, append(items, item{kind: itemDenseBias})
}

// input returns the input rows of layer l in the current pass.
func (n *Net) input(l int) []float32 {
	if l == 0 {
		return n.x
	}
	return n.stages[l-1].h
}

// rowsOf returns rows [r0, r1) of a row-major matrix with size values per row.
func rowsOf[T any](s []T, size, r0, r1 int) []T { return s[r0*size : r1*size] }

// rows is phase 1 on rows [r0, r1): forward, losses, and in training passes
// every layer's output gradient, the dense layers' per-sample norms (the
// conv layers' come from phase 2) and the weighted gradients w_i·d.
func (n *Net) rows(r0, r1 int) {
	k := r1 - r0
	for l := range n.stages {
		s := &n.stages[l]
		in := rowsOf(n.input(l), s.InSize(), r0, r1)
		h := rowsOf(s.h, s.OutSize(), r0, r1)
		w, b := n.w[s.Param], n.w[s.Param+1]
		switch s.Kind {
		case engine.ConvPool:
			kernels.ConvPoolReLU(h, rowsOf(s.arg, s.OutSize(), r0, r1), in, w, b, k, s.Cin, s.H, s.W, s.Cout, s.KH, s.KW)
		case engine.Dense:
			kernels.Gemm(h, s.Out, false, in, s.In, false, w, s.Out, false, k, s.Out, s.In)
			kernels.AddBiasReLU(h, s.Out, b, k, s.Out, s.ReLU)
		default:
			panic(engine.UnknownKind(s.Layer))
		}
	}
	n.lossRows(r0, r1)
	if n.mode == modeEval {
		return
	}
	for l := len(n.stages) - 1; l > 0; l-- {
		s, p := &n.stages[l], &n.stages[l-1]
		d := rowsOf(s.d, s.OutSize(), r0, r1)
		dp := rowsOf(p.d, p.OutSize(), r0, r1)
		switch s.Kind {
		case engine.ConvPool:
			kernels.ConvPoolInputGrad(dp, d, rowsOf(s.arg, s.OutSize(), r0, r1), n.w[s.Param], k, s.Cin, s.H, s.W, s.Cout, s.KH, s.KW, s.PH*s.PW)
		case engine.Dense:
			kernels.Gemm(dp, s.In, false, d, s.Out, false, n.w[s.Param], s.Out, true, k, s.In, s.Out) // δ·Wᵀ
		default:
			panic(engine.UnknownKind(s.Layer))
		}
		if p.ReLU {
			kernels.ReLUMask(dp, dp, rowsOf(p.h, p.OutSize(), r0, r1))
		}
	}
	if n.norms {
		sq := n.sq[r0:r1]
		for l := range n.stages {
			if s := &n.stages[l]; s.Kind == engine.Dense {
				kernels.AddDenseGradNormSq(sq, rowsOf(n.input(l), s.In, r0, r1), rowsOf(s.d, s.Out, r0, r1), k, s.In, s.Out, true)
			}
		}
	}
	if n.rw != nil {
		for l := range n.stages {
			if s := &n.stages[l]; s.Kind == engine.Dense {
				kernels.ScaleRows(rowsOf(s.dw, s.Out, r0, r1), rowsOf(s.d, s.Out, r0, r1), n.rw[r0:r1], k, s.Out)
			}
		}
	}
}

// normsInPhase2 reports whether some per-sample norms come from phase 2
// (the conv layers').
func (n *Net) normsInPhase2() bool { return n.stages[0].Kind == engine.ConvPool }

// paramItem is phase 2 for one work item: the gradient of its block of
// parameters (a sum over the batch in row order) and, when the pass
// updates, the SGD-momentum step of that block. A conv block also adds each
// sample's squared norm for its filters to sqPart[i] when the pass wants
// norms (the kernel builds each sample's gradient anyway).
func (n *Net) paramItem(i int) {
	it := n.items[i]
	B := n.B
	switch it.kind {
	case itemConv:
		s := &n.stages[it.layer]
		var sq []float64
		if n.norms {
			sq = n.sqPart[i]
		}
		K := s.PatchSize()
		gw, gb := n.g[s.Param], n.g[s.Param+1]
		clear(gw[it.lo*K : it.hi*K])
		clear(gb[it.lo:it.hi])
		kernels.AddConvPoolWeightGrad(gw, gb, sq, n.input(it.layer), s.d, s.arg, n.rw, B, s.Cin, s.H, s.W, s.Cout, s.KH, s.KW, s.PH*s.PW, it.lo, it.hi)
		n.sgd(s.Param, it.lo*K, it.hi*K)
		n.sgd(s.Param+1, it.lo, it.hi)
	case itemDenseRows:
		// dW[lo:hi] = a[:, lo:hi]ᵀ · (w⊙δ)
		s := &n.stages[it.layer]
		Out := s.Out
		kernels.Gemm(n.g[s.Param][it.lo*Out:it.hi*Out], Out, false, n.input(it.layer)[it.lo:], s.In, true, s.dw, Out, false, it.hi-it.lo, Out, B)
		n.sgd(s.Param, it.lo*Out, it.hi*Out)
	case itemDenseBias:
		for l := range n.stages {
			if s := &n.stages[l]; s.Kind == engine.Dense {
				kernels.ColumnSums(n.g[s.Param+1], false, s.dw, s.Out, B, s.Out)
				n.sgd(s.Param+1, 0, s.Out)
			}
		}
	}
}
