package gpu

import (
	"fmt"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/data"
)

// Evaluate implements engine.Net. The set goes to the device on first use
// (shared with every other Net of the process) and stays there until
// Close; batches of evalBatch rows are gathered on the device, and per
// batch only the predictions and losses come back.
func (n *Net) Evaluate(set *data.Set) (acc, loss float64, err error) {
	if n.closed {
		return 0, 0, engine.ErrClosed
	}
	ds, err := n.useSet(set)
	if err != nil {
		return 0, 0, err
	}
	if n.eval == nil {
		if n.eval, err = n.newPass(evalBatch, false); err != nil {
			return 0, 0, err
		}
	}
	var ev engine.Eval
	for start := 0; start < set.N; start += evalBatch {
		rows := min(evalBatch, set.N-start)
		if err := n.evalBatch(ds, start, rows); err != nil {
			return 0, 0, err
		}
		p := n.eval
		ev.AddPredictions(p.hostPred[:rows], set.Labels[start:start+rows], p.hostStats[:rows])
	}
	acc, loss, err = ev.Result()
	if err != nil {
		return acc, loss, fmt.Errorf("gpu: %w", err)
	}
	return acc, loss, nil
}

// evalBatch runs rows samples of ds from start (padded to evalBatch) and
// leaves their predictions and losses in the evaluation pass's host
// buffers.
func (n *Net) evalBatch(ds *devSet, start, rows int) error {
	if err := n.settle(); err != nil {
		return err
	}
	p := n.eval
	L, C, P := len(n.layers)-1, n.spec.Classes, n.spec.InputSize()
	for i := range p.hostIdx {
		p.hostIdx[i] = -1
		if i < rows {
			p.hostIdx[i] = int32(start + i)
		}
	}
	n.inflight = true
	if err := p.idx.CopyFrom(n.s, p.hostIdx); err != nil {
		return err
	}
	if err := n.lib.Gather(n.s, p.x, p.labels, ds.images, ds.labels, p.idx, evalBatch, P, ds.key.n); err != nil {
		return err
	}
	if err := n.forward(p); err != nil {
		return err
	}
	if err := n.lib.SoftmaxNLL(n.s, p.loss, nil, nil, p.h[L], p.labels, nil, evalBatch, C); err != nil {
		return err
	}
	if err := n.lib.ArgmaxRows(n.s, p.pred, p.h[L], evalBatch, C); err != nil {
		return err
	}
	if err := p.pred.CopyTo(n.s, p.hostPred[:rows]); err != nil {
		return err
	}
	if err := p.loss.CopyTo(n.s, p.hostStats[:rows]); err != nil {
		return err
	}
	n.inflight = false
	return nil
}
