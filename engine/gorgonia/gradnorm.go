//go:build !cuda

package gorgonia

import (
	"fmt"
	"math"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/kernels"
)

// normState holds the buffers of the per-sample gradient norms.
type normState struct {
	layers  []engine.Layer
	batch   int
	sq      []float32 // Σ over layers of ||∇ L_i||² (weighted by w_i²)
	out     []float32
	last    []float32
	loss    []float32
	patches [][]float32 // the unfolded inputs of the conv layers
	scratch []float64
}

func newNormState(m engine.ModelSpec, batch int) (*normState, error) {
	ls, err := engine.Layers(m)
	if err != nil {
		return nil, err
	}
	s := &normState{layers: ls, batch: batch, sq: make([]float32, batch), out: make([]float32, batch),
		last: make([]float32, batch), loss: make([]float32, batch), patches: make([][]float32, len(ls))}
	for i, l := range ls {
		switch l.Kind {
		case engine.ConvPool:
			s.patches[i] = make([]float32, batch*l.Positions()*l.PatchSize())
			s.scratch = growScratch(s.scratch, kernels.ConvNormScratchLen(l.Positions(), l.PatchSize(), l.Cout))
		case engine.Dense:
		default:
			return nil, engine.UnknownKind(l)
		}
	}
	return s, nil
}

func growScratch(s []float64, n int) []float64 {
	if len(s) < n {
		return make([]float64, n)
	}
	return s
}

// compute returns ||∇θ L_i|| for the first N rows from the layer inputs and
// output gradients of the last run. With cost Σ w_i·L_i the output-gradient
// rows are w_i·∂L_i/∂z_i, so
//
//	||∇θ L_i||² = Σ_layers layerNormSq(a_i, δ_i) / w_i²,
//
// where layerNormSq is (||a_i||² + 1)·||δ_i||² for a dense layer and
// ||Σ_t δ_t a_tᵀ||² + ||Σ_t δ_t||² for a conv layer (docs/METHOD.md §1).
func (s *normState) compute(gr *graph, weights []float32, N int) ([]float32, error) {
	clear(s.sq)
	B := s.batch
	for l, ly := range s.layers {
		a := gr.layerInput(l)
		d := gr.dzVal[l].Data().([]float32)
		switch ly.Kind {
		case engine.ConvPool:
			kernels.Im2Col(s.patches[l], a, B, ly.Cin, ly.H, ly.W, ly.KH, ly.KW)
			kernels.AddConvGradNormSq(s.sq, s.patches[l], d, B, ly.Positions(), ly.PatchSize(), ly.Cout, true, s.scratch)
		case engine.Dense:
			kernels.AddDenseGradNormSq(s.sq, a, d, B, ly.In, ly.Out, true)
		default:
			return nil, engine.UnknownKind(ly)
		}
	}
	for i := 0; i < N; i++ {
		w := float64(weights[i])
		if w == 0 {
			return nil, fmt.Errorf("gorgonia: gradient norm of row %d is undefined: its cost weight is 0", i)
		}
		s.out[i] = float32(math.Sqrt(float64(s.sq[i])) / math.Abs(w))
	}
	return s.out[:N], nil
}

// lastLayer returns ||softmax_i − onehot_i|| for the real rows of b from
// the logits of the last run.
func (s *normState) lastLayer(gr *graph, b *engine.Batch) []float32 {
	logits := gr.logitsVal.Data().([]float32)
	C := len(logits) / s.batch
	kernels.SoftmaxNLL(s.loss, nil, s.last, logits, b.Labels, s.batch, C)
	return s.last[:b.N]
}

// GradNorms implements engine.Net: one forward and backward pass with unit
// weights on the real rows, then the per-layer norm reductions; the
// parameters and optimiser state are unchanged.
func (n *Net) GradNorms(b *engine.Batch) ([]float32, error) {
	if len(b.Weights) != n.cfg.Batch || b.N < 0 || b.N > n.cfg.Batch {
		return nil, fmt.Errorf("gorgonia: batch has %d weights and %d real rows; net wants %d rows", len(b.Weights), b.N, n.cfg.Batch)
	}
	unit := *b
	unit.Weights = make([]float32, n.cfg.Batch)
	for i := 0; i < b.N; i++ {
		unit.Weights[i] = 1
	}
	defer n.normVM.Reset()
	if _, err := n.run(n.normVM, &unit); err != nil {
		return nil, err
	}
	norms, err := n.norms.compute(n.train, unit.Weights, b.N)
	if err != nil {
		return nil, err
	}
	return append([]float32(nil), norms...), nil
}

// Score implements engine.Scorer: losses, last-layer norms and exact
// gradient norms of the real rows of b, without changing the parameters.
func (n *Net) Score(b *engine.Batch) (engine.StepStats, error) {
	norms, err := n.GradNorms(b)
	if err != nil {
		return engine.StepStats{}, err
	}
	return engine.StepStats{
		Losses:    append([]float32(nil), n.losses[:b.N]...),
		LastNorms: append([]float32(nil), n.norms.lastLayer(n.train, b)...),
		GradNorms: norms,
	}, nil
}
