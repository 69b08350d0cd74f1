//go:build cuda

package gpu

import (
	"errors"
	"fmt"
	"math"

	"github.com/sgds/sgds/cuda"
	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/kernels"
)

// evalBatch is the batch size of evaluation; any data set size works
// because the last batch is padded.
const evalBatch = 1000

// layer is one trainable layer of a model: a valid stride-1 convolution
// followed by a 2×2 max-pool and a ReLU, or a dense layer z = a·W + b
// followed by a ReLU unless it is the last.
type layer struct {
	conv bool
	// conv: input (cin, h, w), kernel kh×kw, output channels cout, conv
	// output oh×ow (T = oh·ow positions), pooled ph×pw, patch size K.
	cin, h, w, kh, kw, cout, oh, ow, ph, pw, T, K int
	// dense: in → out.
	in, out int
	relu    bool
	// parameter views into the flat buffers: weights, bias, and their
	// gradients.
	W, Bias, dW, dBias *cuda.Float32s
}

// outSize is the number of output values of one sample.
func (l *layer) outSize() int {
	if l.conv {
		return l.cout * l.ph * l.pw
	}
	return l.out
}

// inSize is the number of input values of one sample.
func (l *layer) inSize() int {
	if l.conv {
		return l.cin * l.h * l.w
	}
	return l.in
}

// layersOf reads the layers of a model from its parameter list: pairs
// (weight, bias), 4-D weights (cout, cin, kh, kw) for convolutions and 2-D
// (in, out) for dense layers, convolutions first.
func layersOf(m engine.ModelSpec) ([]layer, error) {
	if len(m.Params) == 0 || len(m.Params)%2 != 0 {
		return nil, fmt.Errorf("gpu: model %s: want (weight, bias) pairs, got %d parameters", m.Name, len(m.Params))
	}
	var ls []layer
	c, h, w := 0, 0, 0
	flat := m.InputSize()
	if len(m.Input) == 3 {
		c, h, w = m.Input[0], m.Input[1], m.Input[2]
	}
	for p := 0; p < len(m.Params); p += 2 {
		ws, bs := m.Params[p].Shape, m.Params[p+1].Shape
		switch {
		case len(ws) == 4:
			if len(ls) > 0 && !ls[len(ls)-1].conv {
				return nil, fmt.Errorf("gpu: model %s: a convolution after a dense layer", m.Name)
			}
			if c != ws[1] || len(bs) != 1 || bs[0] != ws[0] || ws[2] > h || ws[3] > w || ws[2] < 1 || ws[3] < 1 {
				return nil, fmt.Errorf("gpu: model %s: conv %s%v does not fit input (%d, %d, %d)", m.Name, m.Params[p].Name, ws, c, h, w)
			}
			l := layer{conv: true, cin: c, h: h, w: w, cout: ws[0], kh: ws[2], kw: ws[3]}
			l.oh, l.ow = h-l.kh+1, w-l.kw+1
			l.ph, l.pw = l.oh/2, l.ow/2
			l.T, l.K = l.oh*l.ow, l.cin*l.kh*l.kw
			if l.ph < 1 || l.pw < 1 {
				return nil, fmt.Errorf("gpu: model %s: conv %s output %d×%d is too small to pool", m.Name, m.Params[p].Name, l.oh, l.ow)
			}
			ls = append(ls, l)
			c, h, w = l.cout, l.ph, l.pw
			flat = c * h * w
		case len(ws) == 2:
			if ws[0] != flat || len(bs) != 1 || bs[0] != ws[1] {
				return nil, fmt.Errorf("gpu: model %s: dense %s%v does not fit %d inputs", m.Name, m.Params[p].Name, ws, flat)
			}
			ls = append(ls, layer{in: ws[0], out: ws[1], relu: true})
			flat = ws[1]
		default:
			return nil, fmt.Errorf("gpu: model %s: parameter %s has shape %v (want 2-D or 4-D)", m.Name, m.Params[p].Name, ws)
		}
	}
	last := &ls[len(ls)-1]
	if last.conv || last.out != m.Classes {
		return nil, fmt.Errorf("gpu: model %s: the last layer must be dense with %d outputs", m.Name, m.Classes)
	}
	last.relu = false
	return ls, nil
}

// pass holds the device buffers of one batch size: inputs, activations and,
// for training, the backward buffers.
type pass struct {
	B       int
	x       *cuda.Float32s // (B, P)
	labels  *cuda.Int32s   // (B)
	idx     *cuda.Int32s   // (B): rows to gather (−1: zero padding)
	weights *cuda.Float32s // (B)
	// per layer: conv patches (B, T, K), pre-activation z (B, cout, T),
	// argmax (B, cout, ph, pw); every layer's output h (B, outSize).
	patches, z, h []*cuda.Float32s
	arg           []*cuda.Int32s
	// stats holds loss (B) | last-layer norm (B) | gradient norm (B), the
	// per-sample scores copied back after a step.
	stats *cuda.Float32s
	loss  *cuda.Float32s // view: stats[0:B]
	last  *cuda.Float32s // view: stats[B:2B]
	norms *cuda.Float32s // view: stats[2B:3B]
	pred  *cuda.Int32s   // (B), evaluation only

	// backward (nil for evaluation): per layer dz (conv (B, cout, T),
	// dense (B, out); the last layer's is the logits' gradient), dout
	// (conv: the gradient of the pooled output), per-sample weight
	// gradients g (conv: (B, cout, K)), per-sample bias sums s (conv:
	// (B, cout)), patch gradients dp (conv after the first: (B, T, K)).
	dz, dout, g, s, dp []*cuda.Float32s
	sq                 *cuda.Float32s // (B) Σ over layers of squared norms
	// splits[l] is how many chunks a dense layer's weight gradient cuts the
	// batch into (SgemmTNSplit); work holds the chunks' partial products.
	splits []int
	work   *cuda.Float32s

	owned []interface{ Free() error }
}

// Net is a model on the CUDA device. It is not safe for concurrent use.
type Net struct {
	spec   engine.ModelSpec
	cfg    engine.Config
	d      *device
	lib    *kernels.Lib
	s      *cuda.Stream
	layers []layer
	offs   []int // offset of every parameter in the flat buffers
	np     int   // number of scalar parameters

	w, v, g *cuda.Float32s // flat parameters, velocity, gradients
	train   *pass
	eval    *pass

	sets  map[*data.Set]*devSet
	bound *devSet

	hostIdx   []int32
	hostW     []float32
	hostStats []float32
	closed    bool
}

// devSet is a data set resident on the device.
type devSet struct {
	set    *data.Set
	n      int
	images *cuda.Float32s
	labels *cuda.Int32s
}

// NewNet builds model m on the device with initial parameters init.
func NewNet(m engine.ModelSpec, init []engine.Param, cfg engine.Config) (*Net, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := engine.CheckParams(m, init); err != nil {
		return nil, err
	}
	layers, err := layersOf(m)
	if err != nil {
		return nil, err
	}
	d, err := getDevice()
	if err != nil {
		return nil, err
	}
	n := &Net{spec: m, cfg: cfg, d: d, lib: d.lib, layers: layers, sets: map[*data.Set]*devSet{},
		hostIdx: make([]int32, max(cfg.Batch, evalBatch)), hostW: make([]float32, cfg.Batch),
		hostStats: make([]float32, 3*max(cfg.Batch, evalBatch))}
	if err := n.setup(init); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

func (n *Net) setup(init []engine.Param) error {
	var err error
	if n.s, err = n.d.ctx.NewStream(); err != nil {
		return err
	}
	for _, p := range n.spec.Params {
		n.offs = append(n.offs, n.np)
		n.np += p.Size()
	}
	if n.w, err = cuda.Alloc[float32](n.d.ctx, n.np); err != nil {
		return err
	}
	if n.v, err = cuda.Alloc[float32](n.d.ctx, n.np); err != nil {
		return err
	}
	if n.g, err = cuda.Alloc[float32](n.d.ctx, n.np); err != nil {
		return err
	}
	if err := n.v.Fill(n.s, 0); err != nil {
		return err
	}
	if err := n.g.Fill(n.s, 0); err != nil {
		return err
	}
	view := func(b *cuda.Float32s, i int) (*cuda.Float32s, error) {
		return b.Slice(n.offs[i], n.spec.Params[i].Size())
	}
	for li := range n.layers {
		l := &n.layers[li]
		for _, vv := range []struct {
			dst **cuda.Float32s
			buf *cuda.Float32s
			p   int
		}{{&l.W, n.w, 2 * li}, {&l.Bias, n.w, 2*li + 1}, {&l.dW, n.g, 2 * li}, {&l.dBias, n.g, 2*li + 1}} {
			if *vv.dst, err = view(vv.buf, vv.p); err != nil {
				return err
			}
		}
	}
	if err := n.SetParams(init); err != nil {
		return err
	}
	n.train, err = n.newPass(n.cfg.Batch, true)
	return err
}

// newPass allocates the buffers of one batch size.
func (n *Net) newPass(B int, backward bool) (*pass, error) {
	p := &pass{B: B}
	var firstErr error
	f32 := func(size int) *cuda.Float32s {
		if firstErr != nil {
			return nil
		}
		b, err := cuda.Alloc[float32](n.d.ctx, size)
		if err != nil {
			firstErr = err
			return nil
		}
		p.owned = append(p.owned, b)
		return b
	}
	i32 := func(size int) *cuda.Int32s {
		if firstErr != nil {
			return nil
		}
		b, err := cuda.Alloc[int32](n.d.ctx, size)
		if err != nil {
			firstErr = err
			return nil
		}
		p.owned = append(p.owned, b)
		return b
	}
	P := n.spec.InputSize()
	p.x, p.labels, p.idx, p.weights = f32(B*P), i32(B), i32(B), f32(B)
	p.stats = f32(3 * B)
	for li := range n.layers {
		l := &n.layers[li]
		var patches, z *cuda.Float32s
		var arg *cuda.Int32s
		if l.conv {
			patches, z, arg = f32(B*l.T*l.K), f32(B*l.cout*l.T), i32(B*l.outSize())
		}
		p.patches, p.z, p.arg = append(p.patches, patches), append(p.z, z), append(p.arg, arg)
		p.h = append(p.h, f32(B*l.outSize()))
		if !backward {
			continue
		}
		var dz, dout, g, s, dp *cuda.Float32s
		if l.conv {
			dz, dout, g, s = f32(B*l.cout*l.T), f32(B*l.outSize()), f32(B*l.cout*l.K), f32(B*l.cout)
			if li > 0 {
				dp = f32(B * l.T * l.K)
			}
		} else {
			dz = f32(B * l.out)
		}
		p.dz, p.dout, p.g, p.s, p.dp = append(p.dz, dz), append(p.dout, dout), append(p.g, g), append(p.s, s), append(p.dp, dp)
	}
	if backward {
		p.sq = f32(B)
		w := 0
		for li := range n.layers {
			l := &n.layers[li]
			k := 1
			if !l.conv {
				k = n.lib.SgemmTNSplits(l.in, l.out, B)
				if k > 1 {
					w = max(w, k*l.in*l.out)
				}
			}
			p.splits = append(p.splits, k)
		}
		if w > 0 {
			p.work = f32(w)
		}
	} else {
		p.pred = i32(B)
	}
	if firstErr != nil {
		p.free()
		return nil, firstErr
	}
	var err error
	if p.loss, err = p.stats.Slice(0, B); err != nil {
		return nil, err
	}
	if p.last, err = p.stats.Slice(B, B); err != nil {
		return nil, err
	}
	if p.norms, err = p.stats.Slice(2*B, B); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *pass) free() error {
	var err error
	for _, b := range p.owned {
		if e := b.Free(); e != nil && err == nil {
			err = e
		}
	}
	p.owned = nil
	return err
}

// Spec implements engine.Net.
func (n *Net) Spec() engine.ModelSpec { return n.spec }

// BatchSize implements engine.Net.
func (n *Net) BatchSize() int { return n.cfg.Batch }

// upload returns set on the device, uploading it on first use. Sets are
// identified by pointer: a set must not change once a Net has seen it.
func (n *Net) upload(set *data.Set) (*devSet, error) {
	if ds, ok := n.sets[set]; ok && ds.n == set.N {
		return ds, nil
	}
	P := n.spec.InputSize()
	if set.Pixels() != P || len(set.Images) != set.N*P || len(set.Labels) != set.N {
		return nil, fmt.Errorf("gpu: data set %s has %d values per image (%d images, %d labels), model %s wants %d",
			set.Name, set.Pixels(), len(set.Images), len(set.Labels), n.spec.Name, P)
	}
	for i, l := range set.Labels {
		if l < 0 || int(l) >= n.spec.Classes {
			return nil, fmt.Errorf("gpu: data set %s: label %d of sample %d is outside [0, %d)", set.Name, l, i, n.spec.Classes)
		}
	}
	ds := &devSet{set: set, n: set.N}
	var err error
	if ds.images, err = cuda.Alloc[float32](n.d.ctx, len(set.Images)); err != nil {
		return nil, err
	}
	if ds.labels, err = cuda.Alloc[int32](n.d.ctx, set.N); err != nil {
		ds.images.Free()
		return nil, err
	}
	if err := ds.images.CopyFrom(n.s, set.Images); err != nil {
		ds.free()
		return nil, err
	}
	if err := ds.labels.CopyFrom(n.s, set.Labels); err != nil {
		ds.free()
		return nil, err
	}
	if old, ok := n.sets[set]; ok {
		old.free()
	}
	n.sets[set] = ds
	return ds, nil
}

func (ds *devSet) free() error {
	err := ds.images.Free()
	if e := ds.labels.Free(); err == nil {
		err = e
	}
	return err
}

// BindTrain uploads set to the device once and makes every later batch of
// Step, Gradients, GradNorms and Score be gathered there from its Indices:
// the batch's Images are then not read, and only the indices and weights
// cross to the device (B int32 and B float32). A batch is taken to come
// from set: its Indices must list its N real rows and their Labels must
// match set's, else the call fails. Padding rows (beyond N) become zero
// images, which their zero weight keeps out of the gradient. BindTrain(nil)
// goes back to uploading each batch's images.
func (n *Net) BindTrain(set *data.Set) error {
	if n.closed {
		return engine.ErrClosed
	}
	if set == nil {
		n.bound = nil
		return nil
	}
	ds, err := n.upload(set)
	if err != nil {
		return err
	}
	n.bound = ds
	return nil
}

// load moves batch b (with the given weights) into the training pass.
func (n *Net) load(b *engine.Batch, weights []float32) error {
	if n.closed {
		return engine.ErrClosed
	}
	p := n.train
	B, C := p.B, n.spec.Classes
	if len(b.Labels) != B || len(b.Weights) != B || b.N < 0 || b.N > B {
		return fmt.Errorf("gpu: batch has %d labels, %d weights, %d real rows; net wants %d rows", len(b.Labels), len(b.Weights), b.N, B)
	}
	for i, l := range b.Labels {
		if l < 0 || int(l) >= C {
			return fmt.Errorf("gpu: label %d of row %d is outside [0, %d)", l, i, C)
		}
	}
	if err := p.weights.CopyFrom(n.s, weights); err != nil {
		return err
	}
	if ds := n.bound; ds != nil {
		if len(b.Indices) < b.N {
			return fmt.Errorf("gpu: the net is bound to %s but the batch lists %d indices for %d rows", ds.set.Name, len(b.Indices), b.N)
		}
		idx := n.hostIdx[:B]
		for i, k := range b.Indices[:b.N] {
			if k < 0 || k >= ds.n {
				return fmt.Errorf("gpu: sample index %d outside the %d samples of %s", k, ds.n, ds.set.Name)
			}
			if ds.set.Labels[k] != b.Labels[i] {
				return fmt.Errorf("gpu: row %d (sample %d) has label %d, but %s, which the net is bound to, has %d",
					i, k, b.Labels[i], ds.set.Name, ds.set.Labels[k])
			}
			idx[i] = int32(k)
		}
		for i := b.N; i < B; i++ {
			idx[i] = -1
		}
		if err := p.idx.CopyFrom(n.s, idx); err != nil {
			return err
		}
		return n.lib.Gather(n.s, p.x, p.labels, ds.images, ds.labels, p.idx, B, n.spec.InputSize(), ds.n)
	}
	if len(b.Images) != B*n.spec.InputSize() {
		return fmt.Errorf("gpu: batch holds %d image values, net wants %d", len(b.Images), B*n.spec.InputSize())
	}
	if err := p.x.CopyFrom(n.s, b.Images); err != nil {
		return err
	}
	return p.labels.CopyFrom(n.s, b.Labels)
}

// forward runs the layers on p.x and leaves the logits in the last layer's
// output.
func (n *Net) forward(p *pass) error {
	lib, s, B := n.lib, n.s, p.B
	in := p.x
	for li := range n.layers {
		l := &n.layers[li]
		if l.conv {
			if err := lib.Im2Col(s, p.patches[li], in, B, l.cin, l.h, l.w, l.kh, l.kw); err != nil {
				return err
			}
			// z_i (cout×T) = W (cout×K) · P_iᵀ + b, P_i stored (T×K).
			if err := lib.SgemmBatched(s, kernels.SgemmNT, B, p.z[li], l.W, p.patches[li], l.cout, l.T, l.K,
				0, l.T*l.K, l.cout*l.T, kernels.SgemmEpiBiasRow, l.Bias, nil); err != nil {
				return err
			}
			if err := lib.MaxPool2(s, p.h[li], p.arg[li], p.z[li], B, l.cout, l.oh, l.ow, true); err != nil {
				return err
			}
		} else {
			epi := kernels.SgemmEpiBiasCol
			if l.relu {
				epi = kernels.SgemmEpiBiasColReLU
			}
			if err := lib.Sgemm(s, kernels.SgemmNN, p.h[li], in, l.W, B, l.out, l.in, epi, l.Bias, nil); err != nil {
				return err
			}
		}
		in = p.h[li]
	}
	return nil
}

// backward computes the parameter gradients of Σ w_i·L_i into n.g from the
// logits' gradient in p.dz[last], and with norms the per-sample squared
// gradient norms (times w_i²) into p.sq.
func (n *Net) backward(p *pass, norms bool) error {
	lib, s, B := n.lib, n.s, p.B
	if norms {
		if err := p.sq.Fill(s, 0); err != nil {
			return err
		}
	}
	for li := len(n.layers) - 1; li >= 0; li-- {
		l := &n.layers[li]
		in := p.x
		if li > 0 {
			in = p.h[li-1]
		}
		if !l.conv {
			dz := p.dz[li]
			// dW (in×out) = aᵀ (in×B) · dz (B×out), split over the batch
			// when the output is small; db = Σ_rows dz.
			if err := lib.SgemmTNSplit(s, l.dW, in, dz, l.in, l.out, B, p.splits[li], p.work); err != nil {
				return err
			}
			if err := lib.SumCols(s, l.dBias, dz, B, l.out); err != nil {
				return err
			}
			if norms {
				if err := lib.AddDenseGradNormSq(s, p.sq, in, dz, B, l.in, l.out, true); err != nil {
					return err
				}
			}
			if li == 0 {
				continue
			}
			// da (B×in) = dz (B×out) · Wᵀ, W stored (in×out); through the
			// previous dense layer's ReLU, or into the previous conv's
			// pooled-output gradient.
			prev := &n.layers[li-1]
			dst, epi, aux := p.dout[li-1], kernels.SgemmEpiNone, (*cuda.Float32s)(nil)
			if !prev.conv {
				dst, epi, aux = p.dz[li-1], kernels.SgemmEpiReLUMask, p.h[li-1]
			}
			if err := lib.Sgemm(s, kernels.SgemmNT, dst, dz, l.W, B, l.in, l.out, epi, nil, aux); err != nil {
				return err
			}
			continue
		}
		// Through the ReLU and the max-pool to the conv's output.
		dz := p.dz[li]
		if err := lib.MaxPool2Back(s, dz, p.dout[li], p.arg[li], p.h[li], B, l.cout, l.oh, l.ow, true); err != nil {
			return err
		}
		// Per-sample weight gradients G_i (cout×K) = dz_i (cout×T) · P_i
		// (T×K); dW = Σ_i G_i. Per-sample bias sums S_i = Σ_t dz_i; db = Σ_i S_i.
		if err := lib.SgemmBatched(s, kernels.SgemmNN, B, p.g[li], dz, p.patches[li], l.cout, l.K, l.T,
			l.cout*l.T, l.T*l.K, l.cout*l.K, kernels.SgemmEpiNone, nil, nil); err != nil {
			return err
		}
		if err := lib.SumCols(s, l.dW, p.g[li], B, l.cout*l.K); err != nil {
			return err
		}
		if err := lib.SumRows(s, p.s[li], dz, B*l.cout, l.T); err != nil {
			return err
		}
		if err := lib.SumCols(s, l.dBias, p.s[li], B, l.cout); err != nil {
			return err
		}
		if norms {
			if err := lib.AddSumSqRows(s, p.sq, p.g[li], B, l.cout*l.K); err != nil {
				return err
			}
			if err := lib.AddSumSqRows(s, p.sq, p.s[li], B, l.cout); err != nil {
				return err
			}
		}
		if li == 0 {
			continue
		}
		// dP_i (T×K) = dz_iᵀ · W, dz_i stored (cout×T), W (cout×K); fold
		// the patches back onto the previous layer's pooled output.
		if err := lib.SgemmBatched(s, kernels.SgemmTN, B, p.dp[li], dz, l.W, l.T, l.K, l.cout,
			l.cout*l.T, 0, l.T*l.K, kernels.SgemmEpiNone, nil, nil); err != nil {
			return err
		}
		if n.layers[li-1].conv {
			if err := lib.Col2Im(s, p.dout[li-1], p.dp[li], B, l.cin, l.h, l.w, l.kh, l.kw); err != nil {
				return err
			}
		} else {
			return errors.New("gpu: a convolution after a dense layer")
		}
	}
	return nil
}

// run loads b with the given weights, runs forward, the loss and
// backward, and with norms the per-sample gradient norms. It leaves the
// gradients in n.g and the scores in the training pass's stats.
func (n *Net) run(b *engine.Batch, weights []float32, norms bool) error {
	if err := n.load(b, weights); err != nil {
		return err
	}
	p := n.train
	if err := n.forward(p); err != nil {
		return err
	}
	L := len(n.layers) - 1
	if err := n.lib.SoftmaxNLL(n.s, p.loss, p.dz[L], p.last, p.h[L], p.labels, p.weights, p.B, n.spec.Classes); err != nil {
		return err
	}
	if err := n.backward(p, norms); err != nil {
		return err
	}
	if norms {
		return n.lib.GradNormFinish(n.s, p.norms, p.sq, p.weights, p.B)
	}
	return nil
}

// fetchStats copies the first k·B scores back (k = 2: losses and last-layer
// norms; 3: also gradient norms); it waits for the step.
func (n *Net) fetchStats(k int) ([]float32, error) {
	B := n.train.B
	out := n.hostStats[:k*B]
	if err := n.train.stats.CopyTo(n.s, out); err != nil {
		return nil, err
	}
	return out, nil
}

// nonZeroWeights reports a real row whose weight is 0 when gradient norms
// are requested (its norm is undefined, as on the CPU backend).
func nonZeroWeights(b *engine.Batch) error {
	for i := 0; i < b.N; i++ {
		if b.Weights[i] == 0 {
			return fmt.Errorf("gpu: gradient norm of row %d is undefined: its cost weight is 0", i)
		}
	}
	return nil
}

// Step implements engine.Net: forward, backward, then the SGD-momentum
// update v ← μ·v + ∇Σw_i·L_i, θ ← θ − η·v. One copy comes back: the
// per-sample scores.
func (n *Net) Step(b *engine.Batch) (engine.StepStats, error) {
	norms := n.cfg.GradNorms
	if norms && len(b.Weights) >= b.N && b.N >= 0 {
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

// Gradients implements engine.Net.
func (n *Net) Gradients(b *engine.Batch) (grads []engine.Param, losses []float32, err error) {
	if err := n.run(b, b.Weights, false); err != nil {
		return nil, nil, err
	}
	flat := make([]float32, n.np)
	if err := n.g.CopyTo(n.s, flat); err != nil {
		return nil, nil, err
	}
	st, err := n.fetchStats(1)
	if err != nil {
		return nil, nil, err
	}
	return n.export(flat), append([]float32(nil), st[:b.N]...), nil
}

// score runs one forward and backward pass with unit weights on the real
// rows and returns the scores (losses | last norms | gradient norms).
func (n *Net) score(b *engine.Batch) ([]float32, error) {
	if len(b.Weights) != n.cfg.Batch || b.N < 0 || b.N > n.cfg.Batch {
		return nil, fmt.Errorf("gpu: batch has %d weights and %d real rows; net wants %d rows", len(b.Weights), b.N, n.cfg.Batch)
	}
	unit := n.hostW
	for i := range unit {
		unit[i] = 0
		if i < b.N {
			unit[i] = 1
		}
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

// Evaluate implements engine.Net. The set is uploaded on first use and
// kept on the device for the Net's life.
func (n *Net) Evaluate(set *data.Set) (acc, loss float64, err error) {
	if n.closed {
		return 0, 0, engine.ErrClosed
	}
	if set.N == 0 {
		return 0, 0, errors.New("gpu: evaluating on an empty data set")
	}
	ds, err := n.upload(set)
	if err != nil {
		return 0, 0, err
	}
	if n.eval == nil {
		if n.eval, err = n.newPass(evalBatch, false); err != nil {
			return 0, 0, err
		}
	}
	p := n.eval
	L, C, P := len(n.layers)-1, n.spec.Classes, n.spec.InputSize()
	idx := n.hostIdx[:evalBatch]
	losses := n.hostStats[:evalBatch]
	pred := make([]int32, evalBatch)
	var correct int
	var sum float64
	for start := 0; start < set.N; start += evalBatch {
		rows := min(evalBatch, set.N-start)
		for i := range idx {
			idx[i] = -1
			if i < rows {
				idx[i] = int32(start + i)
			}
		}
		if err := p.idx.CopyFrom(n.s, idx); err != nil {
			return 0, 0, err
		}
		if err := n.lib.Gather(n.s, p.x, p.labels, ds.images, ds.labels, p.idx, evalBatch, P, ds.n); err != nil {
			return 0, 0, err
		}
		if err := n.forward(p); err != nil {
			return 0, 0, err
		}
		if err := n.lib.SoftmaxNLL(n.s, p.loss, nil, nil, p.h[L], p.labels, nil, evalBatch, C); err != nil {
			return 0, 0, err
		}
		if err := n.lib.ArgmaxRows(n.s, p.pred, p.h[L], evalBatch, C); err != nil {
			return 0, 0, err
		}
		if err := p.pred.CopyTo(n.s, pred[:rows]); err != nil {
			return 0, 0, err
		}
		if err := p.loss.CopyTo(n.s, losses[:rows]); err != nil {
			return 0, 0, err
		}
		for i := 0; i < rows; i++ {
			if pred[i] == set.Labels[start+i] {
				correct++
			}
			sum += float64(losses[i])
		}
	}
	loss = sum / float64(set.N)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return 0, loss, fmt.Errorf("gpu: evaluation loss is %v", loss)
	}
	return float64(correct) / float64(set.N), loss, nil
}

// export splits a flat host copy into named parameters.
func (n *Net) export(flat []float32) []engine.Param {
	out := make([]engine.Param, len(n.spec.Params))
	for i, p := range n.spec.Params {
		out[i] = engine.Param{Name: p.Name, Shape: append([]int(nil), p.Shape...),
			Data: append([]float32(nil), flat[n.offs[i]:n.offs[i]+p.Size()]...)}
	}
	return out
}

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

func (n *Net) uploadParams(dst *cuda.Float32s, ps []engine.Param) error {
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
func (n *Net) SetParams(ps []engine.Param) error { return n.uploadParams(n.w, ps) }

// SetVelocity implements engine.Net.
func (n *Net) SetVelocity(vs []engine.Param) error { return n.uploadParams(n.v, vs) }

// Close implements engine.Net: it waits for the Net's work and frees its
// device memory. It is idempotent.
func (n *Net) Close() error {
	if n.closed {
		return nil
	}
	n.closed = true
	var err error
	keep := func(e error) {
		if e != nil && err == nil {
			err = e
		}
	}
	if n.s != nil {
		keep(n.s.Synchronize())
	}
	for _, p := range []*pass{n.train, n.eval} {
		if p != nil {
			keep(p.free())
		}
	}
	for _, ds := range n.sets {
		keep(ds.free())
	}
	n.sets, n.bound = nil, nil
	for _, b := range []*cuda.Float32s{n.w, n.v, n.g} {
		if b != nil {
			keep(b.Free())
		}
	}
	if n.s != nil {
		keep(n.s.Close())
	}
	return err
}
