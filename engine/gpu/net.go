package gpu

import (
	"errors"

	"github.com/sgds/sgds/cuda"
	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/kernels/device"
)

// evalBatch is the batch size of evaluation; any data set size works
// because the last batch is padded.
const evalBatch = 1000

// Net is a model on the CUDA device. It is not safe for concurrent use.
type Net struct {
	spec   engine.ModelSpec
	cfg    engine.Config
	dev    *gpuDevice
	lib    *device.Lib
	s      *cuda.Stream
	layers []layer
	offs   []int // offset of every parameter in the flat buffers
	np     int   // number of scalar parameters

	w, v, g *cuda.Float32s // flat parameters, velocity, gradients
	train   *pass
	eval    *pass
	mem     arena

	sets  []*devSet // the data sets this Net holds on the device
	bound *devSet   // the training set, after BindTrain

	// inflight is set while copies from page-locked memory may still be
	// pending on the stream (a call failed before its closing copy).
	inflight bool
	closed   bool
}

// NewNet builds model m on the device with initial parameters init.
func NewNet(m engine.ModelSpec, init []engine.Param, cfg engine.Config) (*Net, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := engine.CheckParams(m, init); err != nil {
		return nil, err
	}
	ls, err := engine.Layers(m)
	if err != nil {
		return nil, err
	}
	d, err := openDevice()
	if err != nil {
		return nil, err
	}
	n := &Net{spec: m, cfg: cfg, dev: d, lib: d.lib, mem: arena{ctx: d.ctx}}
	for _, l := range ls {
		n.layers = append(n.layers, layer{Layer: l})
	}
	if err := n.setup(init); err != nil {
		return nil, errors.Join(err, n.Close())
	}
	return n, nil
}

// setup allocates the parameters, their views per layer and the training
// pass, and uploads init.
func (n *Net) setup(init []engine.Param) error {
	var err error
	if n.s, err = n.dev.ctx.NewStream(); err != nil {
		return err
	}
	for _, p := range n.spec.Params {
		n.offs = append(n.offs, n.np)
		n.np += p.Size()
	}
	a := &n.mem
	n.w, n.v, n.g = alloc[float32](a, n.np), alloc[float32](a, n.np), alloc[float32](a, n.np)
	for i := range n.layers {
		l := &n.layers[i]
		view := func(b *cuda.Float32s, p int) *cuda.Float32s { return a.view(b, n.offs[p], n.spec.Params[p].Size()) }
		l.weight, l.bias = view(n.w, l.Param), view(n.w, l.Param+1)
		l.dWeight, l.dBias = view(n.g, l.Param), view(n.g, l.Param+1)
	}
	if a.err != nil {
		return a.err
	}
	if err := n.v.Fill(n.s, 0); err != nil {
		return err
	}
	if err := n.g.Fill(n.s, 0); err != nil {
		return err
	}
	if err := n.SetParams(init); err != nil {
		return err
	}
	n.train, err = n.newPass(n.cfg.Batch, true)
	return err
}

// Spec implements engine.Net.
func (n *Net) Spec() engine.ModelSpec { return n.spec }

// BatchSize implements engine.Net.
func (n *Net) BatchSize() int { return n.cfg.Batch }

// Close implements engine.Net: it waits for the Net's work, frees its
// device memory and releases its data sets (which stay on the device for
// other Nets, within a budget). It is idempotent.
func (n *Net) Close() error {
	if n.closed {
		return nil
	}
	n.closed = true
	var errs []error
	if n.s != nil {
		errs = append(errs, n.s.Synchronize())
	}
	for _, p := range []*pass{n.train, n.eval} {
		if p != nil {
			errs = append(errs, p.mem.free())
		}
	}
	for _, ds := range n.sets {
		errs = append(errs, n.dev.release(ds))
	}
	n.sets, n.bound = nil, nil
	errs = append(errs, n.mem.free())
	if n.s != nil {
		errs = append(errs, n.s.Close())
	}
	return errors.Join(errs...)
}
