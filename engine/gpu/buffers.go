package gpu

import (
	"github.com/sgds/sgds/cuda"
	"github.com/sgds/sgds/engine"
)

// layer is one trainable layer with views of its parameters and their
// gradients in the Net's flat buffers.
type layer struct {
	engine.Layer
	weight, bias, dWeight, dBias *cuda.Float32s
}

// arena allocates device buffers and page-locked host buffers, and frees
// them together. After the first failed allocation it allocates nothing
// and err holds the failure.
type arena struct {
	ctx   *cuda.Context
	owned []interface{ Free() error }
	err   error
}

// allocate runs alloc unless an earlier allocation failed, and owns what
// it returns; ok is false after a failure, this one or an earlier one.
func allocate[B interface{ Free() error }](a *arena, alloc func() (B, error)) (B, bool) {
	var zero B
	if a.err != nil {
		return zero, false
	}
	b, err := alloc()
	if err != nil {
		a.err = err
		return zero, false
	}
	a.owned = append(a.owned, b)
	return b, true
}

// alloc returns n elements of device memory from a.
func alloc[T cuda.Elem](a *arena, n int) *cuda.Buffer[T] {
	b, _ := allocate(a, func() (*cuda.Buffer[T], error) { return cuda.Alloc[T](a.ctx, n) })
	return b
}

// pinned returns n elements of page-locked host memory from a: the per-step
// copies read and write it without staging.
func pinned[T cuda.Elem](a *arena, n int) []T {
	h, ok := allocate(a, func() (*cuda.Pinned[T], error) { return cuda.AllocPinned[T](a.ctx, n) })
	if !ok {
		return nil
	}
	return h.Data()
}

// view returns a view of n elements of b from off, recording a failure.
func (a *arena) view(b *cuda.Float32s, off, n int) *cuda.Float32s {
	if a.err != nil {
		return nil
	}
	v, err := b.Slice(off, n)
	if err != nil {
		a.err = err
	}
	return v
}

// free releases everything a holds, the last allocation first.
func (a *arena) free() error {
	var err error
	for i := len(a.owned) - 1; i >= 0; i-- {
		if e := a.owned[i].Free(); e != nil && err == nil {
			err = e
		}
	}
	a.owned = nil
	return err
}

// pass holds the buffers of one batch size: inputs, activations and, for
// training, the backward buffers; and the page-locked host memory of the
// per-step copies.
type pass struct {
	B       int
	x       *cuda.Float32s // (B, P)
	labels  *cuda.Int32s   // (B)
	idx     *cuda.Int32s   // (B): rows to gather (−1: zero padding)
	weights *cuda.Float32s // (B)
	// per layer: conv patches (B, T, K), pre-activation z (B, Cout, T),
	// argmax (B, Cout, PH, PW); every layer's output h (B, OutSize).
	patches, z, h []*cuda.Float32s
	arg           []*cuda.Int32s
	// stats holds loss (B) | last-layer norm (B) | gradient norm (B), the
	// per-sample scores copied back after a step.
	stats, loss, last, norms *cuda.Float32s
	pred                     *cuda.Int32s // (B), evaluation only

	// backward (nil for evaluation): per layer dz (conv (B, Cout, T),
	// dense (B, Out); the last layer's is the logits' gradient), dout
	// (conv: the gradient of the pooled output), per-sample weight
	// gradients g (conv: (B, Cout, K)), per-sample bias sums s (conv:
	// (B, Cout)), patch gradients dp (conv after the first: (B, T, K)).
	dz, dout, g, s, dp []*cuda.Float32s
	sq                 *cuda.Float32s // (B) Σ over layers of squared norms
	// splits[l] is how many chunks a dense layer's weight gradient cuts the
	// batch into (SgemmTNSplit); work holds the chunks' partial products.
	splits []int
	work   *cuda.Float32s

	// Page-locked host copies: indices, weights, labels and images in,
	// scores and predictions out.
	hostIdx    []int32
	hostW      []float32
	hostLabels []int32
	hostX      []float32
	hostStats  []float32
	hostPred   []int32

	mem arena
}

// newPass allocates the buffers of batch size B, with the backward ones
// when backward is set.
func (n *Net) newPass(B int, backward bool) (*pass, error) {
	p := &pass{B: B, mem: arena{ctx: n.dev.ctx}}
	a := &p.mem
	P := n.spec.InputSize()
	p.x, p.labels, p.idx, p.weights = alloc[float32](a, B*P), alloc[int32](a, B), alloc[int32](a, B), alloc[float32](a, B)
	p.stats = alloc[float32](a, 3*B)
	p.hostIdx, p.hostStats = pinned[int32](a, B), pinned[float32](a, 3*B)
	for _, l := range n.layers {
		var patches, z *cuda.Float32s
		var arg *cuda.Int32s
		T, K := l.Positions(), l.PatchSize()
		switch l.Kind {
		case engine.ConvPool:
			patches, z, arg = alloc[float32](a, B*T*K), alloc[float32](a, B*l.Cout*T), alloc[int32](a, B*l.OutSize())
		case engine.Dense:
		default:
			return nil, joinFree(engine.UnknownKind(l.Layer), a.free())
		}
		p.patches, p.z, p.arg = append(p.patches, patches), append(p.z, z), append(p.arg, arg)
		p.h = append(p.h, alloc[float32](a, B*l.OutSize()))
	}
	if backward {
		n.allocBackward(p)
	} else {
		p.pred, p.hostPred = alloc[int32](a, B), pinned[int32](a, B)
	}
	p.loss, p.last, p.norms = a.view(p.stats, 0, B), a.view(p.stats, B, B), a.view(p.stats, 2*B, B)
	if a.err != nil {
		return nil, joinFree(a.err, a.free())
	}
	return p, nil
}

// allocBackward allocates the training pass's backward buffers.
func (n *Net) allocBackward(p *pass) {
	a, B := &p.mem, p.B
	p.hostW, p.hostLabels, p.hostX = pinned[float32](a, B), pinned[int32](a, B), pinned[float32](a, B*n.spec.InputSize())
	work := 0
	for li, l := range n.layers {
		var dz, dout, g, s, dp *cuda.Float32s
		k := 1
		switch l.Kind {
		case engine.ConvPool:
			T, K := l.Positions(), l.PatchSize()
			dz, dout, g, s = alloc[float32](a, B*l.Cout*T), alloc[float32](a, B*l.OutSize()), alloc[float32](a, B*l.Cout*K), alloc[float32](a, B*l.Cout)
			if li > 0 {
				dp = alloc[float32](a, B*T*K)
			}
		case engine.Dense:
			dz = alloc[float32](a, B*l.Out)
			if k = n.lib.SgemmTNSplits(l.In, l.Out, B); k > 1 {
				work = max(work, k*l.In*l.Out)
			}
		default:
			panic(engine.UnknownKind(l.Layer)) // newPass refused it
		}
		p.dz, p.dout, p.g, p.s, p.dp = append(p.dz, dz), append(p.dout, dout), append(p.g, g), append(p.s, s), append(p.dp, dp)
		p.splits = append(p.splits, k)
	}
	p.sq = alloc[float32](a, B)
	if work > 0 {
		p.work = alloc[float32](a, work)
	}
}
