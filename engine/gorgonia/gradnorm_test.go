//go:build !cuda

package gorgonia

import (
	"math"
	"testing"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/enginetest"
)

// TestGradNormsIdentityCanFail drops the bias term from the dense norm
// identity and expects a mismatch against brute force, so the test above can
// catch a broken identity.
func TestGradNormsIdentityCanFail(t *testing.T) {
	train, _ := enginetest.MNIST(t)
	n := newNet(t, "mlp", engine.Config{Batch: 16, LR: 0.01, Momentum: 0.5}, 2)
	b := enginetest.BatchOf(train, enginetest.Seq(100, 16), 16)
	want := enginetest.BruteForceNorms(t, n, b)
	enginetest.MustGradNorms(t, n, b)
	// Recompute without the bias terms from the values of that pass.
	var worst float64
	gr := n.train
	sq := make([]float64, 16)
	for l, ly := range n.norms.layers {
		a, d := gr.layerInput(l), gr.dzVal[l].Data().([]float32)
		for i := 0; i < 16; i++ {
			var aa, dd float64
			for _, v := range a[i*ly.In : (i+1)*ly.In] {
				aa += float64(v) * float64(v)
			}
			for _, v := range d[i*ly.Out : (i+1)*ly.Out] {
				dd += float64(v) * float64(v)
			}
			sq[i] += aa * dd // bias term (+dd) dropped
		}
	}
	for i := range sq {
		worst = math.Max(worst, math.Abs(math.Sqrt(sq[i])-want[i])/want[i])
	}
	if worst < 1e-3 {
		t.Fatalf("dropping the bias term changed the norms by only %g", worst)
	}
}
