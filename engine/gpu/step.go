package gpu

import (
	"fmt"

	"github.com/sgds/sgds/engine"
)

// fetchStats copies the first k·B scores back (k = 1: losses; 2: and
// last-layer norms; 3: and gradient norms) into page-locked memory, after
// the step; the result is valid until the next call.
func (n *Net) fetchStats(k int) ([]float32, error) {
	p := n.train
	out := p.hostStats[:k*p.B]
	if err := p.stats.CopyTo(n.s, out); err != nil {
		return nil, err
	}
	n.inflight = false
	return out, nil
}

// nonZeroWeights reports a real row whose weight is 0 when gradient norms
// are requested (its norm is undefined, as on the CPU backend).
func nonZeroWeights(b *engine.Batch) error {
	for i := 0; i < b.N && i < len(b.Weights); i++ {
		if b.Weights[i] == 0 {
			return fmt.Errorf("gpu: gradient norm of row %d is undefined: its cost weight is 0", i)
		}
	}
	return nil
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
// update v ← μ·v + ∇Σw_i·L_i, θ ← θ − η·v. One copy comes back: the
// per-sample scores, which the returned slices hold until the next call.
func (n *Net) Step(b *engine.Batch) (engine.StepStats, error) {
	norms := n.cfg.GradNorms
	if norms {
		if err := nonZeroWeights(b); err != nil {
			return engine.StepStats{}, err
		}
	}
	if err := n.run(b, b.Weights, norms); err != nil {
		return engine.StepStats{}, err
	}
	if err := n.lib.SGDMomentum(n.s, n.w, n.v, n.g, n.np, float32(n.cfg.LR), float32(n.cfg.Momentum)); err != nil {
		return engine.StepStats{}, err
	}
	return n.stats(b, norms)
}

// stats copies back the scores of the pass just run on b (losses,
// last-layer norms and, with norms, gradient norms) and returns them with
// the cost Σ w_i·L_i.
func (n *Net) stats(b *engine.Batch, norms bool) (engine.StepStats, error) {
	k := 2
	if norms {
		k = 3
	}
	st, err := n.fetchStats(k)
	if err != nil {
		return engine.StepStats{}, err
	}
	B := n.train.B
	out := engine.StepStats{Losses: st[:b.N], LastNorms: st[B : B+b.N]}
	if norms {
		out.GradNorms = st[2*B : 2*B+b.N]
	}
	for i := 0; i < B; i++ {
		out.Cost += float64(b.Weights[i]) * float64(st[i])
	}
	return out, nil
}

// Forward implements engine.Net: the forward pass and the loss kernel
// without the logits' gradient, in the training pass's buffers; no backward
// pass runs, so the parameters, the velocity and the gradients in n.g are
// unchanged. One copy comes back: the losses and last-layer norms (2·B
// floats), which the returned slices hold until the next call.
func (n *Net) Forward(b *engine.Batch) (engine.StepStats, error) {
	if err := n.load(b, b.Weights); err != nil {
		return engine.StepStats{}, err
	}
	p := n.train
	if err := n.forward(p); err != nil {
		return engine.StepStats{}, err
	}
	if err := n.lib.SoftmaxNLL(n.s, p.loss, nil, p.last, p.h[len(n.layers)-1], p.labels, nil, p.B, n.spec.Classes); err != nil {
		return engine.StepStats{}, err
	}
	return n.stats(b, false)
}

// Gradients implements engine.Net.
func (n *Net) Gradients(b *engine.Batch) (grads []engine.Param, losses []float32, err error) {
	if err := n.run(b, b.Weights, false); err != nil {
		return nil, nil, err
	}
	st, err := n.fetchStats(1)
	if err != nil {
		return nil, nil, err
	}
	if grads, err = n.download(n.g); err != nil {
		return nil, nil, err
	}
	return grads, append([]float32(nil), st[:b.N]...), nil
}

// score runs one forward and backward pass with unit weights on the real
// rows and returns the scores (losses | last norms | gradient norms).
func (n *Net) score(b *engine.Batch) ([]float32, error) {
	if n.closed {
		return nil, engine.ErrClosed
	}
	if b.N < 0 || b.N > n.cfg.Batch {
		return nil, fmt.Errorf("gpu: batch has %d real rows; net wants at most %d", b.N, n.cfg.Batch)
	}
	unit := make([]float32, n.cfg.Batch)
	for i := range b.N {
		unit[i] = 1
	}
	if err := n.run(b, unit, true); err != nil {
		return nil, err
	}
	return n.fetchStats(3)
}

// GradNorms implements engine.Net: ||∇θ L_i|| for the real rows of b, from
// one forward and one backward pass; the parameters and optimiser state are
// unchanged.
func (n *Net) GradNorms(b *engine.Batch) ([]float32, error) {
	st, err := n.score(b)
	if err != nil {
		return nil, err
	}
	B := n.train.B
	return append([]float32(nil), st[2*B:2*B+b.N]...), nil
}

// Score implements engine.Scorer: losses, last-layer norms and exact
// gradient norms of the real rows of b, without changing the parameters.
func (n *Net) Score(b *engine.Batch) (engine.StepStats, error) {
	st, err := n.score(b)
	if err != nil {
		return engine.StepStats{}, err
	}
	B := n.train.B
	return engine.StepStats{
		Losses:    append([]float32(nil), st[:b.N]...),
		LastNorms: append([]float32(nil), st[B:B+b.N]...),
		GradNorms: append([]float32(nil), st[2*B:2*B+b.N]...),
	}, nil
}
