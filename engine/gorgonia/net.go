//go:build !cuda

package gorgonia

import (
	"fmt"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/data"
)

func init() { engine.Register(Backend{}) }

// Backend builds gorgonia-graph Nets; it is registered as "gorgonia".
type Backend struct{}

// Name implements engine.Backend.
func (Backend) Name() string { return "gorgonia" }

// evalBatch is the batch size of the evaluation graph; any data set size
// works because the last batch is padded.
const evalBatch = 500

// Net is a model on the CPU backend. It is not safe for concurrent use.
type Net struct {
	spec   engine.ModelSpec
	cfg    engine.Config
	paramT []*tensor.Dense // shared by the train and eval graphs
	vel    [][]float32     // momentum buffers

	train  *graph
	grads  []*G.Node
	vm     G.VM
	losses []float32
	// normVM runs the same step and also reads what the per-sample
	// gradient norms need.
	normVM G.VM
	norms  *normState
	// fwdVM runs the training graph's forward subgraph alone (losses,
	// logits and cost): no gradient node is in its program.
	fwdVM G.VM

	eval   *graph
	evalVM G.VM

	closed bool
}

// New implements engine.Backend.
func (Backend) New(m engine.ModelSpec, init []engine.Param, cfg engine.Config) (engine.Net, error) {
	return NewNet(m, init, cfg)
}

// buildMu serialises graph construction: gorgonia's graph builders touch
// package-level state (shared constant nodes, op groups), which the race
// detector caught when seeds of a compare built their nets concurrently.
var buildMu sync.Mutex

// NewNet builds the training and evaluation graphs of model m.
func NewNet(m engine.ModelSpec, init []engine.Param, cfg engine.Config) (*Net, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	if _, err := engine.CheckNew(m, init, cfg); err != nil {
		return nil, fmt.Errorf("gorgonia: %w", err)
	}
	n := &Net{spec: m, cfg: cfg, losses: make([]float32, cfg.Batch)}
	for _, p := range init {
		n.paramT = append(n.paramT, tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(append([]float32(nil), p.Data...))))
		n.vel = append(n.vel, make([]float32, len(p.Data)))
	}
	var err error
	if n.train, err = buildGraph(m, cfg.Batch, n.paramT); err != nil {
		return nil, fmt.Errorf("gorgonia: building %s training graph: %w", m.Name, err)
	}
	// d cost/d θ for the update, and d cost/d z of every layer's
	// pre-activation for the per-sample gradient norms.
	tr := n.train
	one := tr.g.AddNode(G.NewConstant(float32(1)))
	all, err := G.Backpropagate(G.Nodes{tr.cost}, G.Nodes{one}, append(append(G.Nodes{}, tr.params...), tr.pre...))
	if err != nil {
		return nil, fmt.Errorf("gorgonia: differentiating %s: %w", m.Name, err)
	}
	n.grads, tr.dz = all[:len(tr.params)], all[len(tr.params):]
	tr.addNormReads()
	inputs := append(G.Nodes{tr.x, tr.y, tr.w}, tr.params...)
	outputs := append(G.Nodes{tr.readNLL, tr.readLogits, tr.cost}, n.grads...)
	prog, locs, err := G.CompileFunction(tr.g, inputs, outputs)
	if err != nil {
		return nil, fmt.Errorf("gorgonia: compiling %s training step: %w", m.Name, err)
	}
	n.vm = G.NewTapeMachine(tr.g, G.WithPrecompiled(prog, locs))
	prog, locs, err = G.CompileFunction(tr.g, inputs, append(outputs, tr.reads...))
	if err != nil {
		return nil, fmt.Errorf("gorgonia: compiling %s step with gradient norms: %w", m.Name, err)
	}
	n.normVM = G.NewTapeMachine(tr.g, G.WithPrecompiled(prog, locs))
	prog, locs, err = G.CompileFunction(tr.g, inputs, G.Nodes{tr.readNLL, tr.readLogits, tr.cost})
	if err != nil {
		return nil, fmt.Errorf("gorgonia: compiling %s forward pass: %w", m.Name, err)
	}
	n.fwdVM = G.NewTapeMachine(tr.g, G.WithPrecompiled(prog, locs))
	if n.norms, err = newNormState(m, cfg.Batch); err != nil {
		return nil, fmt.Errorf("gorgonia: %w", err)
	}

	if n.eval, err = buildGraph(m, evalBatch, n.paramT); err != nil {
		return nil, fmt.Errorf("gorgonia: building %s evaluation graph: %w", m.Name, err)
	}
	inputs = append(G.Nodes{n.eval.x, n.eval.y}, n.eval.params...)
	prog, locs, err = G.CompileFunction(n.eval.g, inputs, G.Nodes{n.eval.readLogits, n.eval.readNLL})
	if err != nil {
		return nil, fmt.Errorf("gorgonia: compiling %s evaluation: %w", m.Name, err)
	}
	n.evalVM = G.NewTapeMachine(n.eval.g, G.WithPrecompiled(prog, locs))
	return n, nil
}

// Spec implements engine.Net.
func (n *Net) Spec() engine.ModelSpec { return n.spec }

// BatchSize implements engine.Net.
func (n *Net) BatchSize() int { return n.cfg.Batch }

// load copies a batch into the graph's input tensors: images, one-hot
// labels and (when w is non-nil) the cost weights.
func load(gr *graph, classes int, images []float32, labels []int32, weights []float32) error {
	x := gr.xT.Data().([]float32)
	if len(images) != len(x) {
		return fmt.Errorf("batch holds %d image values, graph wants %d", len(images), len(x))
	}
	copy(x, images)
	y := gr.yT.Data().([]float32)
	clear(y)
	for i, l := range labels {
		if l < 0 || int(l) >= classes {
			return fmt.Errorf("label %d of row %d is outside [0, %d)", l, i, classes)
		}
		y[i*classes+int(l)] = 1
	}
	if weights != nil {
		copy(gr.wT.Data().([]float32), weights)
	}
	return nil
}

// run loads b, runs vm's program (forward and backward, or forward alone
// for fwdVM), and copies the per-sample losses into n.losses. The caller
// reads the gradient nodes and then resets the VM.
func (n *Net) run(vm G.VM, b *engine.Batch) (cost float64, err error) {
	if n.closed {
		return 0, engine.ErrClosed
	}
	B := n.cfg.Batch
	if len(b.Labels) != B || len(b.Weights) != B || b.N < 0 || b.N > B {
		return 0, fmt.Errorf("gorgonia: batch has %d labels, %d weights, %d real rows; net wants %d rows",
			len(b.Labels), len(b.Weights), b.N, B)
	}
	if err := load(n.train, n.spec.Classes, b.Images, b.Labels, b.Weights); err != nil {
		return 0, fmt.Errorf("gorgonia: %w", err)
	}
	if err := vm.RunAll(); err != nil {
		return 0, fmt.Errorf("gorgonia: step: %w", err)
	}
	copy(n.losses, n.train.nllVal.Data().([]float32))
	for i, l := range n.losses {
		// −log p ≥ 0; gorgonia's float32 log-softmax can round a confident
		// row's log p to a tiny positive value.
		if l < 0 {
			n.losses[i] = 0
		}
	}
	return float64(n.train.cost.Value().Data().(float32)), nil
}

// SetLR sets the learning rate of the next Steps.
func (n *Net) SetLR(lr float64) error {
	if err := engine.CheckLR(lr); err != nil {
		return err
	}
	n.cfg.LR = lr
	return nil
}

// Step implements engine.Net: forward, backward, then the SGD-momentum
// update v ← μ·v + ∇Σw_i·L_i, θ ← θ − η·v.
func (n *Net) Step(b *engine.Batch) (engine.StepStats, error) {
	vm := n.vm
	if n.cfg.GradNorms {
		vm = n.normVM
	}
	defer vm.Reset()
	cost, err := n.run(vm, b)
	if err != nil {
		return engine.StepStats{}, err
	}
	st := engine.StepStats{Losses: n.losses[:b.N], Cost: cost}
	st.LastNorms = n.norms.lastLayer(n.train, b)
	if n.cfg.GradNorms {
		if st.GradNorms, err = n.norms.compute(n.train, b.Weights, b.N); err != nil {
			return engine.StepStats{}, err
		}
	}
	lr, mu := float32(n.cfg.LR), float32(n.cfg.Momentum)
	for i, gn := range n.grads {
		g := gn.Value().Data().([]float32)
		w := n.paramT[i].Data().([]float32)
		v := n.vel[i]
		for j := range w {
			v[j] = mu*v[j] + g[j]
			w[j] -= lr * v[j]
		}
	}
	return st, nil
}

// Forward implements engine.Net: the forward subgraph of the training
// graph alone (a program compiled from the losses, logits and cost, so no
// gradient is computed or accumulated), then the last-layer norms from the
// logits as Step computes them.
func (n *Net) Forward(b *engine.Batch) (engine.StepStats, error) {
	defer n.fwdVM.Reset()
	cost, err := n.run(n.fwdVM, b)
	if err != nil {
		return engine.StepStats{}, err
	}
	return engine.StepStats{Losses: n.losses[:b.N], LastNorms: n.norms.lastLayer(n.train, b), Cost: cost}, nil
}

// Gradients returns ∇θ Σ w_i·L_i and the per-sample losses of b without
// changing the parameters or the optimiser state.
func (n *Net) Gradients(b *engine.Batch) (grads []engine.Param, losses []float32, err error) {
	defer n.vm.Reset()
	if _, err := n.run(n.vm, b); err != nil {
		return nil, nil, err
	}
	src := make([][]float32, len(n.grads))
	for i, gn := range n.grads {
		src[i] = gn.Value().Data().([]float32)
	}
	return n.export(src), append([]float32(nil), n.losses[:b.N]...), nil
}

// Evaluate implements engine.Net.
func (n *Net) Evaluate(set *data.Set) (acc, loss float64, err error) {
	if n.closed {
		return 0, 0, engine.ErrClosed
	}
	if err := engine.CheckEvalSet(n.spec, set); err != nil {
		return 0, 0, fmt.Errorf("gorgonia: %w", err)
	}
	p, C := n.spec.InputSize(), n.spec.Classes
	batch := engine.NewBatch(evalBatch, p)
	idx := make([]int, 0, evalBatch)
	var e engine.Eval
	for start := 0; start < set.N; start += evalBatch {
		rows := min(evalBatch, set.N-start)
		idx = idx[:0]
		for i := start; i < start+rows; i++ {
			idx = append(idx, i)
		}
		if err := batch.Gather(set, idx, nil); err != nil {
			return 0, 0, fmt.Errorf("gorgonia: %w", err)
		}
		if err := load(n.eval, C, batch.Images, batch.Labels, nil); err != nil {
			return 0, 0, fmt.Errorf("gorgonia: %w", err)
		}
		if err := n.evalVM.RunAll(); err != nil {
			n.evalVM.Reset()
			return 0, 0, fmt.Errorf("gorgonia: evaluate: %w", err)
		}
		e.AddLogits(n.eval.logitsVal.Data().([]float32), C, batch.Labels[:rows], n.eval.nllVal.Data().([]float32))
		n.evalVM.Reset()
	}
	acc, loss, err = e.Result()
	if err != nil {
		return acc, loss, fmt.Errorf("gorgonia: %w", err)
	}
	return acc, loss, nil
}

func (n *Net) export(src [][]float32) []engine.Param { return engine.ExportParams(n.spec, src) }

func (n *Net) weights() [][]float32 {
	out := make([][]float32, len(n.paramT))
	for i, t := range n.paramT {
		out[i] = t.Data().([]float32)
	}
	return out
}

// Params implements engine.Net.
func (n *Net) Params() ([]engine.Param, error) {
	if n.closed {
		return nil, engine.ErrClosed
	}
	return n.export(n.weights()), nil
}

// Velocity implements engine.Net.
func (n *Net) Velocity() ([]engine.Param, error) {
	if n.closed {
		return nil, engine.ErrClosed
	}
	return n.export(n.vel), nil
}

// SetParams implements engine.Net.
func (n *Net) SetParams(ps []engine.Param) error {
	if n.closed {
		return engine.ErrClosed
	}
	return engine.ImportParams(n.spec, n.weights(), ps)
}

// SetVelocity implements engine.Net.
func (n *Net) SetVelocity(vs []engine.Param) error {
	if n.closed {
		return engine.ErrClosed
	}
	return engine.ImportParams(n.spec, n.vel, vs)
}

// Close implements engine.Net. It is idempotent; every other method fails
// with engine.ErrClosed afterwards.
func (n *Net) Close() error {
	if n.closed {
		return nil
	}
	n.closed = true
	var err error
	if n.vm != nil {
		err = n.vm.Close()
	}
	if n.normVM != nil {
		if e := n.normVM.Close(); err == nil {
			err = e
		}
	}
	if n.fwdVM != nil {
		if e := n.fwdVM.Close(); err == nil {
			err = e
		}
	}
	if n.evalVM != nil {
		if e := n.evalVM.Close(); err == nil {
			err = e
		}
	}
	return err
}
