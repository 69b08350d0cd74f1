package gpu

import (
	"fmt"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/data"
)

// useSet returns set on the device for this Net, checking it against the
// model (image size, labels), uploading it unless another Net of the
// process already did, and holding it until Close.
func (n *Net) useSet(set *data.Set) (*devSet, error) {
	if err := engine.CheckEvalSet(n.spec, set); err != nil {
		return nil, fmt.Errorf("gpu: %w", err)
	}
	key := setKey{set, set.N}
	for _, ds := range n.sets {
		if ds.key == key {
			return ds, nil
		}
	}
	ds, err := n.dev.acquire(set, n.s)
	if err != nil {
		return nil, err
	}
	n.sets = append(n.sets, ds)
	return ds, nil
}

// BindTrain puts set on the device (once per process: every Net on it
// shares the upload) and makes every later batch of Step, Forward,
// Gradients, GradNorms and Score be gathered there from its Indices: the
// batch's Images are then not read, and only the indices and weights cross
// to the device (B int32 and B float32). A batch is taken to come from set: its
// Indices must list its N real rows and their Labels must match set's, else
// the call fails. Padding rows (beyond N) become zero images, which their
// zero weight keeps out of the gradient. BindTrain(nil) goes back to
// uploading each batch's images.
func (n *Net) BindTrain(set *data.Set) error {
	if n.closed {
		return engine.ErrClosed
	}
	if set == nil {
		n.bound = nil
		return nil
	}
	ds, err := n.useSet(set)
	if err != nil {
		return err
	}
	n.bound = ds
	return nil
}

// load moves batch b (with the given weights) into the training pass,
// through its page-locked buffers.
func (n *Net) load(b *engine.Batch, weights []float32) error {
	if n.closed {
		return engine.ErrClosed
	}
	if err := n.settle(); err != nil {
		return err
	}
	p := n.train
	B, C, P := p.B, n.spec.Classes, n.spec.InputSize()
	if len(b.Labels) != B || len(weights) != B || b.N < 0 || b.N > B {
		return fmt.Errorf("gpu: batch has %d labels, %d weights, %d real rows; net wants %d rows", len(b.Labels), len(weights), b.N, B)
	}
	for i, l := range b.Labels {
		if l < 0 || int(l) >= C {
			return fmt.Errorf("gpu: label %d of row %d is outside [0, %d)", l, i, C)
		}
	}
	n.inflight = true
	copy(p.hostW, weights)
	if err := p.weights.CopyFrom(n.s, p.hostW); err != nil {
		return err
	}
	if ds := n.bound; ds != nil {
		if err := n.indices(ds, b, p.hostIdx); err != nil {
			return err
		}
		if err := p.idx.CopyFrom(n.s, p.hostIdx); err != nil {
			return err
		}
		return n.lib.Gather(n.s, p.x, p.labels, ds.images, ds.labels, p.idx, B, P, ds.key.n)
	}
	if len(b.Images) != B*P {
		return fmt.Errorf("gpu: batch holds %d image values, net wants %d", len(b.Images), B*P)
	}
	copy(p.hostX, b.Images)
	copy(p.hostLabels, b.Labels)
	if err := p.x.CopyFrom(n.s, p.hostX); err != nil {
		return err
	}
	return p.labels.CopyFrom(n.s, p.hostLabels)
}

// settle waits for the copies from page-locked host buffers that a failed
// call may have left pending on the stream, before those buffers are
// written again (a copy from page-locked memory reads it when the stream
// reaches it).
func (n *Net) settle() error {
	if !n.inflight {
		return nil
	}
	if err := n.s.Synchronize(); err != nil {
		return err
	}
	n.inflight = false
	return nil
}

// indices fills idx with the data-set indices of b's real rows in the bound
// set ds, −1 for the padding rows, checking them against the set.
func (n *Net) indices(ds *devSet, b *engine.Batch, idx []int32) error {
	set := ds.key.set
	if len(b.Indices) < b.N {
		return fmt.Errorf("gpu: the net is bound to %s but the batch lists %d indices for %d rows", set.Name, len(b.Indices), b.N)
	}
	for i, k := range b.Indices[:b.N] {
		if k < 0 || k >= ds.key.n {
			return fmt.Errorf("gpu: sample index %d outside the %d samples of %s", k, ds.key.n, set.Name)
		}
		if set.Labels[k] != b.Labels[i] {
			return fmt.Errorf("gpu: row %d (sample %d) has label %d, but %s, which the net is bound to, has %d",
				i, k, b.Labels[i], set.Name, set.Labels[k])
		}
		idx[i] = int32(k)
	}
	for i := b.N; i < len(idx); i++ {
		idx[i] = -1
	}
	return nil
}
