// Package cpu is a CPU backend written directly on the plain-Go kernels
// of package kernels (the same kernels a GPU backend mirrors), with no
// autodiff graph: the forward and backward pass of every layer of the model
// (engine.Layers: convolutions with a fused 2×2 max-pool and ReLU, then dense
// layers) is a fixed sequence of kernel calls over preallocated buffers
// (layers.go). It is registered as "cpu".
//
// A training step runs in two parallel phases on a persistent pool of
// GOMAXPROCS goroutines:
//
//  1. per-sample work, split into contiguous row ranges: forward, per-sample
//     losses, the output gradient of every layer (never the gradient of the
//     images), and, on request, the per-sample gradient norms;
//  2. per-parameter work, split into fixed blocks of parameter rows: the
//     weight and bias gradients (sums over the batch in row order) and the
//     SGD-momentum update of the block.
//
// Forward and Evaluate run phase 1 alone, stopping after the losses.
//
// Every output element is computed by exactly one goroutine in a fixed order
// and no kernel result depends on how rows are split, so runs are
// bit-for-bit reproducible and independent of the number of goroutines. On
// amd64 the kernels run a vector path (assembly for AVX2 or AVX-512, chosen
// from the CPU's features; see kernels.Path and kernels.Paths); results then
// differ from the portable path by float32 rounding.
package cpu

import (
	"fmt"
	"math"
	"runtime"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/kernels"
)

func init() { engine.Register(Backend{}) }

// Backend builds cpu Nets; it is registered as "cpu".
type Backend struct {
	// Workers is the number of goroutines a Net uses, GOMAXPROCS when 0.
	// Results do not depend on it.
	Workers int
}

// Name implements engine.Backend.
func (Backend) Name() string { return "cpu" }

// New implements engine.Backend.
func (be Backend) New(m engine.ModelSpec, init []engine.Param, cfg engine.Config) (engine.Net, error) {
	return NewNet(m, init, cfg, be.Workers)
}

type mode int

const (
	modeEval  mode = iota // forward and losses
	modeTrain             // and every layer's output gradient
)

// Net is a model on the cpu backend. It is not safe for concurrent use.
type Net struct {
	spec    engine.ModelSpec
	cfg     engine.Config
	B       int
	in, cls int
	w, v, g [][]float32 // parameters, velocity, gradient (spec layout)
	lr, mu  float32

	stages []stage // the model's layers (engine.Layers) and their buffers
	items  []item  // phase-2 work items
	pool   *workers
	nw     int
	rowsFn func(worker, item int)
	parFn  func(worker, item int)
	closed bool

	// The current pass.
	x      []float32 // rows × in images
	labels []int32
	rw     []float32 // per-row cost weights (training passes)
	rowsN  int       // rows in the pass
	mode   mode
	norms  bool // also per-sample gradient norms (phase 1)
	update bool // phase 2 applies SGD

	loss, last, sq, gnorm []float32 // B
	logits, dlogits       []float32 // B × classes
	// sqPart[item] holds the squared per-sample norms that phase-2 item
	// adds (float64, B each); they are summed in item order.
	sqPart [][]float64
}

// NewNet builds a cpu Net of model m (any topology engine.Layers accepts)
// with initial parameters init, using workers goroutines (GOMAXPROCS when
// ≤ 0).
func NewNet(m engine.ModelSpec, init []engine.Param, cfg engine.Config, workers int) (*Net, error) {
	ls, err := engine.CheckNew(m, init, cfg)
	if err != nil {
		return nil, fmt.Errorf("cpu: %w", err)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	B := cfg.Batch
	n := &Net{spec: m, cfg: cfg, B: B, in: m.InputSize(), cls: m.Classes,
		lr: float32(cfg.LR), mu: float32(cfg.Momentum), nw: workers,
		loss: make([]float32, B), last: make([]float32, B), sq: make([]float32, B), gnorm: make([]float32, B),
		logits: make([]float32, B*m.Classes), dlogits: make([]float32, B*m.Classes)}
	for _, p := range init {
		n.w = append(n.w, append([]float32(nil), p.Data...))
		n.v = append(n.v, make([]float32, len(p.Data)))
		n.g = append(n.g, make([]float32, len(p.Data)))
	}
	n.stages, n.items = newStages(n, ls)
	n.sqPart = make([][]float64, len(n.items))
	for i := range n.sqPart {
		n.sqPart[i] = make([]float64, B)
	}
	n.pool = newWorkers(workers)
	n.rowsFn = n.runRows
	n.parFn = func(_, item int) { n.paramItem(item) }
	return n, nil
}

// runRows is phase 1 for chunk item of nw contiguous row ranges.
func (n *Net) runRows(_, item int) {
	r0, r1 := item*n.rowsN/n.nw, (item+1)*n.rowsN/n.nw
	if r0 < r1 {
		n.rows(r0, r1)
	}
}

// Spec implements engine.Net.
func (n *Net) Spec() engine.ModelSpec { return n.spec }

// BatchSize implements engine.Net.
func (n *Net) BatchSize() int { return n.B }

// load checks b and makes it the current pass's input.
func (n *Net) load(b *engine.Batch) error {
	if n.closed {
		return engine.ErrClosed
	}
	B := n.B
	if len(b.Images) != B*n.in || len(b.Labels) != B || len(b.Weights) != B || b.N < 0 || b.N > B {
		return fmt.Errorf("cpu: batch has %d image values, %d labels, %d weights, %d real rows; net wants %d rows of %d values",
			len(b.Images), len(b.Labels), len(b.Weights), b.N, B, n.in)
	}
	if err := checkLabels(b.Labels, n.cls); err != nil {
		return err
	}
	n.x, n.labels, n.rw, n.rowsN = b.Images, b.Labels, b.Weights, B
	return nil
}

func checkLabels(labels []int32, classes int) error {
	for i, l := range labels {
		if l < 0 || int(l) >= classes {
			return fmt.Errorf("cpu: label %d of row %d is outside [0, %d)", l, i, classes)
		}
	}
	return nil
}

// pass runs phase 1 and, for training passes, phase 2.
func (n *Net) pass(m mode, norms, grads, update bool) {
	n.mode, n.norms, n.update = m, norms, update
	n.pool.run(n.nw, n.rowsFn)
	if grads {
		if norms {
			for _, p := range n.sqPart {
				clear(p)
			}
		}
		n.pool.run(len(n.items), n.parFn)
	}
}

// lossRows computes the per-sample losses (and, in training passes, the
// logits' gradients) of rows [r0, r1), and clears their norm sums.
func (n *Net) lossRows(r0, r1 int) {
	C := n.cls
	var dl []float32
	if n.mode == modeTrain {
		dl = n.dlogits[r0*C : r1*C]
	}
	kernels.SoftmaxNLL(n.loss[r0:r1], dl, n.last[r0:r1], n.logits[r0*C:r1*C], n.labels[r0:r1], r1-r0, C)
	if n.norms {
		clear(n.sq[r0:r1])
	}
}

// cost returns Σ w_i·L_i over the batch.
func (n *Net) cost() float64 {
	var c float64
	for i, w := range n.rw {
		c += float64(w) * float64(n.loss[i])
	}
	return c
}

// finishNorms turns the squared norms of the first N rows (phase 1's sums
// plus phase 2's partials, in item order) into norms.
func (n *Net) finishNorms(N int) []float32 {
	for i := 0; i < N; i++ {
		s := float64(n.sq[i])
		for _, p := range n.sqPart {
			s += p[i]
		}
		n.gnorm[i] = float32(math.Sqrt(s))
	}
	return n.gnorm[:N]
}

// SetLR sets the learning rate of the next Steps.
func (n *Net) SetLR(lr float64) error {
	if err := engine.CheckLR(lr); err != nil {
		return err
	}
	n.lr = float32(lr)
	return nil
}

// Step implements engine.Net: forward, backward, then the SGD-momentum
// update v ← μ·v + ∇Σw_i·L_i, θ ← θ − η·v.
func (n *Net) Step(b *engine.Batch) (engine.StepStats, error) {
	if err := n.load(b); err != nil {
		return engine.StepStats{}, err
	}
	n.pass(modeTrain, n.cfg.GradNorms, true, true)
	st := engine.StepStats{Losses: n.loss[:b.N], LastNorms: n.last[:b.N], Cost: n.cost()}
	if n.cfg.GradNorms {
		st.GradNorms = n.finishNorms(b.N)
	}
	return st, nil
}

// Forward implements engine.Net: phase 1 in evaluation mode (the same
// layer program and loss kernel as Step's, without the output gradients)
// and no phase 2, so the losses and last-layer norms are bit-identical to
// those a Step on b would return, and nothing is allocated.
func (n *Net) Forward(b *engine.Batch) (engine.StepStats, error) {
	if err := n.load(b); err != nil {
		return engine.StepStats{}, err
	}
	n.pass(modeEval, false, false, false)
	return engine.StepStats{Losses: n.loss[:b.N], LastNorms: n.last[:b.N], Cost: n.cost()}, nil
}

// Gradients implements engine.Net.
func (n *Net) Gradients(b *engine.Batch) (grads []engine.Param, losses []float32, err error) {
	if err := n.load(b); err != nil {
		return nil, nil, err
	}
	n.pass(modeTrain, false, true, false)
	return n.export(n.g), append([]float32(nil), n.loss[:b.N]...), nil
}

// GradNorms implements engine.Net: the per-sample norms come from the
// unweighted output gradients of one forward and backward pass, so the
// batch's weights do not matter; the parameters are unchanged.
func (n *Net) GradNorms(b *engine.Batch) ([]float32, error) {
	if err := n.load(b); err != nil {
		return nil, err
	}
	n.pass(modeTrain, true, n.normsInPhase2(), false)
	return append([]float32(nil), n.finishNorms(b.N)...), nil
}

// Evaluate implements engine.Net: forward passes over the set in chunks of
// the batch size.
func (n *Net) Evaluate(set *data.Set) (acc, loss float64, err error) {
	if n.closed {
		return 0, 0, engine.ErrClosed
	}
	if err := engine.CheckEvalSet(n.spec, set); err != nil {
		return 0, 0, fmt.Errorf("cpu: %w", err)
	}
	C := n.cls
	var e engine.Eval
	for start := 0; start < set.N; start += n.B {
		rows := min(n.B, set.N-start)
		labels := set.Labels[start : start+rows]
		n.x, n.labels, n.rw, n.rowsN = set.Images[start*n.in:(start+rows)*n.in], labels, nil, rows
		n.pass(modeEval, false, false, false)
		e.AddLogits(n.logits[:rows*C], C, labels, n.loss[:rows])
	}
	acc, loss, err = e.Result()
	if err != nil {
		return acc, loss, fmt.Errorf("cpu: %w", err)
	}
	return acc, loss, nil
}

func (n *Net) export(src [][]float32) []engine.Param { return engine.ExportParams(n.spec, src) }

// Params implements engine.Net.
func (n *Net) Params() ([]engine.Param, error) {
	if n.closed {
		return nil, engine.ErrClosed
	}
	return n.export(n.w), nil
}

// Velocity implements engine.Net.
func (n *Net) Velocity() ([]engine.Param, error) {
	if n.closed {
		return nil, engine.ErrClosed
	}
	return n.export(n.v), nil
}

// SetParams implements engine.Net.
func (n *Net) SetParams(ps []engine.Param) error { return engine.ImportParams(n.spec, n.w, ps) }

// SetVelocity implements engine.Net.
func (n *Net) SetVelocity(vs []engine.Param) error { return engine.ImportParams(n.spec, n.v, vs) }

// Close implements engine.Net: it stops the Net's goroutines.
func (n *Net) Close() error {
	if !n.closed {
		n.closed = true
		n.pool.close()
	}
	return nil
}

// sgd applies the update to block [j0, j1) of parameter p when the pass
// updates.
func (n *Net) sgd(p, j0, j1 int) {
	if n.update {
		kernels.SGDMomentum(n.w[p][j0:j1], n.v[p][j0:j1], n.g[p][j0:j1], n.lr, n.mu)
	}
}

// Score implements engine.Scorer: losses, last-layer norms and exact
// per-sample gradient norms of the real rows of b from one forward and one
// backward pass, without changing the parameters.
func (n *Net) Score(b *engine.Batch) (engine.StepStats, error) {
	norms, err := n.GradNorms(b)
	if err != nil {
		return engine.StepStats{}, err
	}
	return engine.StepStats{
		Losses:    append([]float32(nil), n.loss[:b.N]...),
		LastNorms: append([]float32(nil), n.last[:b.N]...),
		GradNorms: norms,
		Cost:      n.cost(),
	}, nil
}
