package device

import "github.com/sgds/sgds/cuda"

// SGDMomentum runs sgd_momentum (update.cu) on n elements: v ← μ·v + g,
// w ← w − η·v in float32 with every operation rounded, bit for bit what
// kernels.SGDMomentum computes on its portable path.
func (l *Lib) SGDMomentum(s *cuda.Stream, w, v, g *cuda.Float32s, n int, lr, mu float32) error {
	if err := check("SGDMomentum", []int{n}, req("w", w, n), req("v", v, n), req("g", g, n)); err != nil {
		return err
	}
	return l.launchFlat(s, "sgd_momentum", n, cuda.Ptr(w), cuda.Ptr(v), cuda.Ptr(g), cuda.Int(n), cuda.Float(float64(lr)), cuda.Float(float64(mu)))
}
