package cpu

import "github.com/sgds/sgds/kernels"

// mlp is 784-256-10 with a ReLU: z1 = x·W1 + b1, h1 = relu(z1),
// logits = h1·W2 + b2 (dense weights stored (in, out)).
type mlp struct {
	n        *Net
	h1       []float32 // B × H
	d1, d1w  []float32 // B × H: ∂L_i/∂z1 and w_i·∂L_i/∂z1
	d2w      []float32 // B × C: w_i·∂L_i/∂logits
	fc1Block int       // rows of W1 per work item
}

const (
	mlpIn  = 784
	mlpHid = 256
)

func newMLP(n *Net) *mlp {
	B := n.B
	return &mlp{n: n, h1: make([]float32, B*mlpHid), d1: make([]float32, B*mlpHid),
		d1w: make([]float32, B*mlpHid), d2w: make([]float32, B*n.cls), fc1Block: 56}
}

func (m *mlp) rows(r0, r1 int) {
	n := m.n
	In, H, C, k := mlpIn, mlpHid, n.cls, r1-r0
	x := n.x[r0*In : r1*In]
	h1 := m.h1[r0*H : r1*H]
	logits := n.logits[r0*C : r1*C]
	kernels.Gemm(h1, H, false, x, In, false, n.w[0], H, false, k, H, In)
	kernels.AddBiasReLU(h1, H, n.w[1], k, H, true)
	kernels.Gemm(logits, C, false, h1, H, false, n.w[2], C, false, k, C, H)
	kernels.AddBiasReLU(logits, C, n.w[3], k, C, false)
	n.lossRows(r0, r1)
	if n.mode == modeEval {
		return
	}
	d2 := n.dlogits[r0*C : r1*C]
	d1 := m.d1[r0*H : r1*H]
	kernels.Gemm(d1, H, false, d2, C, false, n.w[2], C, true, k, H, C) // δ2·W2ᵀ
	kernels.ReLUMask(d1, d1, h1)
	if n.norms {
		sq := n.sq[r0:r1]
		kernels.AddDenseGradNormSq(sq, x, d1, k, In, H, true)
		kernels.AddDenseGradNormSq(sq, h1, d2, k, H, C, true)
	}
	if n.rw != nil {
		kernels.ScaleRows(m.d1w[r0*H:r1*H], d1, n.rw[r0:r1], k, H)
		kernels.ScaleRows(m.d2w[r0*C:r1*C], d2, n.rw[r0:r1], k, C)
	}
}

func (m *mlp) normsInPhase2() bool { return false }

func (m *mlp) paramItems() int { return (mlpIn+m.fc1Block-1)/m.fc1Block + 1 }

func (m *mlp) paramItem(item int) {
	n := m.n
	In, H, C, B := mlpIn, mlpHid, n.cls, n.B
	if nb := (In + m.fc1Block - 1) / m.fc1Block; item < nb {
		// dW1[k0:k1] = x[:, k0:k1]ᵀ · (w⊙δ1)
		k0, k1 := item*m.fc1Block, min((item+1)*m.fc1Block, In)
		kernels.Gemm(n.g[0][k0*H:k1*H], H, false, n.x[k0:], In, true, m.d1w, H, false, k1-k0, H, B)
		n.sgd(0, k0*H, k1*H)
		return
	}
	kernels.SumRows(n.g[1], false, m.d1w, H, B, H)
	n.sgd(1, 0, H)
	kernels.Gemm(n.g[2], C, false, m.h1, H, true, m.d2w, C, false, H, C, B)
	n.sgd(2, 0, H*C)
	kernels.SumRows(n.g[3], false, m.d2w, C, B, C)
	n.sgd(3, 0, C)
}
