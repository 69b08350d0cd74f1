package gpu

import (
	"errors"

	"github.com/sgds/sgds/cuda"
	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/kernels/device"
)

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

// backward computes the parameter gradients of Σ w_i·L_i into n.g from the
// logits' gradient in p.dz[last], and with norms the per-sample squared
// gradient norms (times w_i²) into p.sq.
func (n *Net) backward(p *pass, norms bool) error {
	if norms {
		if err := p.sq.Fill(n.s, 0); err != nil {
			return err
		}
	}
	for li := len(n.layers) - 1; li >= 0; li-- {
		in := p.x
		if li > 0 {
			in = p.h[li-1]
		}
		var err error
		switch l := n.layers[li]; l.Kind {
		case engine.ConvPool:
			err = n.backwardConv(p, li, in, norms)
		case engine.Dense:
			err = n.backwardDense(p, li, in, norms)
		default:
			err = engine.UnknownKind(l.Layer)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// backwardDense takes dense layer li's output gradient p.dz[li] (after the
// ReLU) to its parameter gradients and to the previous layer's output
// gradient.
func (n *Net) backwardDense(p *pass, li int, in *cuda.Float32s, norms bool) error {
	lib, s, B, l := n.lib, n.s, p.B, &n.layers[li]
	dz := p.dz[li]
	// dW (In×Out) = aᵀ (In×B) · dz (B×Out), split over the batch when the
	// output is small; db = Σ_rows dz.
	if err := lib.SgemmTNSplit(s, l.dWeight, in, dz, l.In, l.Out, B, p.splits[li], p.work); err != nil {
		return err
	}
	if err := lib.ColumnSums(s, l.dBias, dz, B, l.Out); err != nil {
		return err
	}
	if norms {
		if err := lib.AddDenseGradNormSq(s, p.sq, in, dz, B, l.In, l.Out, true); err != nil {
			return err
		}
	}
	if li == 0 {
		return nil
	}
	// da (B×In) = dz (B×Out) · Wᵀ, W stored (In×Out); through the previous
	// dense layer's ReLU, or into the previous conv's pooled-output
	// gradient.
	dst, epi, aux := p.dout[li-1], device.EpiNone, (*cuda.Float32s)(nil)
	if n.layers[li-1].Kind == engine.Dense {
		dst, epi, aux = p.dz[li-1], device.EpiReLUMask, p.h[li-1]
	}
	return lib.Sgemm(s, device.NT, dst, dz, l.weight, B, l.In, l.Out, epi, nil, aux)
}

// backwardConv takes conv layer li's pooled-output gradient p.dout[li]
// through the ReLU and the max-pool to its parameter gradients (and
// per-sample norms) and to the previous layer's pooled-output gradient.
func (n *Net) backwardConv(p *pass, li int, in *cuda.Float32s, norms bool) error {
	lib, s, B, l := n.lib, n.s, p.B, &n.layers[li]
	T, K := l.Positions(), l.PatchSize()
	dz := p.dz[li]
	if err := lib.MaxPool2Back(s, dz, p.dout[li], p.arg[li], p.h[li], B, l.Cout, l.OH, l.OW, true); err != nil {
		return err
	}
	// Per-sample weight gradients G_i (Cout×K) = dz_i (Cout×T) · P_i (T×K);
	// dW = Σ_i G_i. Per-sample bias sums S_i = Σ_t dz_i; db = Σ_i S_i.
	if err := lib.SgemmBatched(s, device.NN, B, p.g[li], dz, p.patches[li], l.Cout, K, T,
		l.Cout*T, T*K, l.Cout*K, device.EpiNone, nil, nil); err != nil {
		return err
	}
	if err := lib.ColumnSums(s, l.dWeight, p.g[li], B, l.Cout*K); err != nil {
		return err
	}
	if err := lib.RowSums(s, p.s[li], dz, B*l.Cout, T); err != nil {
		return err
	}
	if err := lib.ColumnSums(s, l.dBias, p.s[li], B, l.Cout); err != nil {
		return err
	}
	if norms {
		if err := lib.AddRowSumSq(s, p.sq, p.g[li], B, l.Cout*K); err != nil {
			return err
		}
		if err := lib.AddRowSumSq(s, p.sq, p.s[li], B, l.Cout); err != nil {
			return err
		}
	}
	if li == 0 {
		return nil
	}
	if n.layers[li-1].Kind != engine.ConvPool {
		return errors.New("gpu: a convolution after a dense layer")
	}
	// dP_i (T×K) = dz_iᵀ · W, dz_i stored (Cout×T), W (Cout×K); fold the
	// patches back onto the previous layer's pooled output.
	if err := lib.SgemmBatched(s, device.TN, B, p.dp[li], dz, l.weight, T, K, l.Cout,
		l.Cout*T, 0, T*K, device.EpiNone, nil, nil); err != nil {
		return err
	}
	return lib.Col2Im(s, p.dout[li-1], p.dp[li], B, l.Cin, l.H, l.W, l.KH, l.KW)
}
