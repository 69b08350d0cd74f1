package gpu

import (
	"github.com/sgds/sgds/cuda"
	"github.com/sgds/sgds/engine"
)

// export splits a flat host copy into named parameters.
func (n *Net) export(flat []float32) []engine.Param {
	out := make([]engine.Param, len(n.spec.Params))
	for i, p := range n.spec.Params {
		out[i] = engine.Param{Name: p.Name, Shape: append([]int(nil), p.Shape...),
			Data: append([]float32(nil), flat[n.offs[i]:n.offs[i]+p.Size()]...)}
	}
	return out
}

// download copies a flat parameter buffer (parameters, velocity or
// gradients) to the host as named parameters.
func (n *Net) download(b *cuda.Float32s) ([]engine.Param, error) {
	if n.closed {
		return nil, engine.ErrClosed
	}
	flat := make([]float32, n.np)
	if err := b.CopyTo(n.s, flat); err != nil {
		return nil, err
	}
	return n.export(flat), nil
}

// upload checks ps against the model and copies it into a flat buffer.
func (n *Net) upload(dst *cuda.Float32s, ps []engine.Param) error {
	if n.closed {
		return engine.ErrClosed
	}
	if err := engine.CheckParams(n.spec, ps); err != nil {
		return err
	}
	flat := make([]float32, n.np)
	for i, p := range ps {
		copy(flat[n.offs[i]:], p.Data)
	}
	if err := dst.CopyFrom(n.s, flat); err != nil {
		return err
	}
	return n.s.Synchronize()
}

// Params implements engine.Net; it fails after Close or on a device error.
func (n *Net) Params() ([]engine.Param, error) { return n.download(n.w) }

// Velocity implements engine.Net; it fails after Close or on a device error.
func (n *Net) Velocity() ([]engine.Param, error) { return n.download(n.v) }

// SetParams implements engine.Net.
func (n *Net) SetParams(ps []engine.Param) error { return n.upload(n.w, ps) }

// SetVelocity implements engine.Net.
func (n *Net) SetVelocity(vs []engine.Param) error { return n.upload(n.v, vs) }
