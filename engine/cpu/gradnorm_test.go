package cpu

import (
	"math"
	"testing"

	"github.com/sgds/sgds/engine"
)

// bruteForceNorms computes ||∇θ L_i|| with one backward pass per sample:
// weight 1 on row i, 0 elsewhere.
func bruteForceNorms(t testing.TB, n *Net, b *engine.Batch) []float64 {
	out := make([]float64, b.N)
	one := *b
	one.Weights = make([]float32, len(b.Weights))
	for i := 0; i < b.N; i++ {
		clear(one.Weights)
		one.Weights[i] = 1
		grads, _, err := n.Gradients(&one)
		if err != nil {
			t.Fatal(err)
		}
		var sq float64
		for _, g := range grads {
			for _, v := range g.Data {
				sq += float64(v) * float64(v)
			}
		}
		out[i] = math.Sqrt(sq)
	}
	return out
}

// TestGradNormsMatchBruteForce compares the per-sample gradient norms of
// one batched pass with one backward pass per sample, on real MNIST after a
// little training, for both models; also through Step with unequal weights.
func TestGradNormsMatchBruteForce(t *testing.T) {
	train, _ := loadMNIST(t)
	for _, model := range engine.Models() {
		cfg := engine.Config{Batch: 32, LR: 0.01, Momentum: 0.5, GradNorms: true}
		n := newNet(t, model, cfg, 11)
		for s := 0; s < 20; s++ {
			if _, err := n.Step(batchOf(train, seqIdx(32*s, 32), 32)); err != nil {
				t.Fatal(err)
			}
		}
		b := batchOf(train, seqIdx(5000, 32), 32)
		b.N = 29 // three padding rows
		for i := 29; i < 32; i++ {
			b.Weights[i] = 0
		}
		want := bruteForceNorms(t, n, b)
		got, err := n.GradNorms(b)
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for i := range want {
			if want[i]*want[i] <= 1e-6 {
				continue
			}
			checked++
			if rel := math.Abs(float64(got[i])-want[i]) / want[i]; rel > 1e-4 {
				t.Errorf("%s sample %d: batched norm %v, brute force %v (rel %g)", model, i, got[i], want[i], rel)
			}
		}
		if checked < 10 {
			t.Fatalf("%s: only %d samples with a norm² above 1e-6", model, checked)
		}
		// Through a training step with unequal weights w_i: norms are per
		// sample, independent of w_i.
		params := n.Params()
		vel := n.Velocity()
		for i := 0; i < b.N; i++ {
			b.Weights[i] = float32(i+1) / 100
		}
		st, err := n.Step(b)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if want[i]*want[i] > 1e-6 {
				if rel := math.Abs(float64(st.GradNorms[i])-want[i]) / want[i]; rel > 1e-4 {
					t.Errorf("%s step sample %d: norm %v, brute force %v (rel %g)", model, i, st.GradNorms[i], want[i], rel)
				}
			}
		}
		n.SetParams(params)
		n.SetVelocity(vel)
	}
}

// TestGradNormsIdentityCanFail drops the bias term from the dense norm
// identity and expects a mismatch against brute force, so the test above can
// catch a broken identity.
func TestGradNormsIdentityCanFail(t *testing.T) {
	train, _ := loadMNIST(t)
	n := newNet(t, "mlp", engine.Config{Batch: 16, LR: 0.01, Momentum: 0.5}, 2)
	b := batchOf(train, seqIdx(100, 16), 16)
	want := bruteForceNorms(t, n, b)
	if _, err := n.GradNorms(b); err != nil {
		t.Fatal(err)
	}
	// Recompute without the bias terms from the values of that pass.
	var worst float64
	gr := n.train
	sq := make([]float64, 16)
	for l, ly := range n.norms.layers {
		a, d := gr.layerInput(l), gr.dzVal[l].Data().([]float32)
		for i := 0; i < 16; i++ {
			var aa, dd float64
			for _, v := range a[i*ly.K : (i+1)*ly.K] {
				aa += float64(v) * float64(v)
			}
			for _, v := range d[i*ly.C : (i+1)*ly.C] {
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
