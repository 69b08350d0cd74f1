package gpu

import (
	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/kernels/device"
)

// forward runs the layers on p.x and leaves the logits in the last layer's
// output.
func (n *Net) forward(p *pass) error {
	lib, s, B := n.lib, n.s, p.B
	in := p.x
	for li := range n.layers {
		l := &n.layers[li]
		switch l.Kind {
		case engine.ConvPool:
			T, K := l.Positions(), l.PatchSize()
			if err := lib.Im2Col(s, p.patches[li], in, B, l.Cin, l.H, l.W, l.KH, l.KW); err != nil {
				return err
			}
			// z_i (Cout×T) = W (Cout×K) · P_iᵀ + b, P_i stored (T×K).
			if err := lib.SgemmBatched(s, device.NT, B, p.z[li], l.weight, p.patches[li], l.Cout, T, K,
				0, T*K, l.Cout*T, device.EpiBiasRow, l.bias, nil); err != nil {
				return err
			}
			if err := lib.MaxPool2(s, p.h[li], p.arg[li], p.z[li], B, l.Cout, l.OH, l.OW, true); err != nil {
				return err
			}
		case engine.Dense:
			epi := device.EpiBiasCol
			if l.ReLU {
				epi = device.EpiBiasColReLU
			}
			if err := lib.Sgemm(s, device.NN, p.h[li], in, l.weight, B, l.Out, l.In, epi, l.bias, nil); err != nil {
				return err
			}
		default:
			return engine.UnknownKind(l.Layer)
		}
		in = p.h[li]
	}
	return nil
}
