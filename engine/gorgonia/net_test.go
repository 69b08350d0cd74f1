//go:build !cuda

package gorgonia

import (
	"math"
	"testing"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/enginetest"
	"github.com/sgds/sgds/kernels/ref"
)

var cfg64 = engine.Config{Batch: 64, LR: 0.01, Momentum: 0.5}

func newNet(t testing.TB, model string, cfg engine.Config, seed uint64) *Net {
	t.Helper()
	m, err := engine.LookupModel(model)
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNet(m, engine.InitParams(m, seed), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// TestLossesMatchFloat64 checks the per-sample losses read from the graph
// against −log softmax computed in float64 from the same logits
// (ref.SoftmaxNLL).
func TestLossesMatchFloat64(t *testing.T) {
	train, _ := enginetest.MNIST(t)
	for _, model := range engine.Models() {
		n := newNet(t, model, cfg64, 3)
		b := enginetest.BatchOf(train, enginetest.Seq(1000, 64), 64)
		// Train a few steps first so that losses are spread out.
		for s := 0; s < 5; s++ {
			enginetest.MustStep(t, n, enginetest.BatchOf(train, enginetest.Seq(64*s, 64), 64))
		}
		_, losses := enginetest.MustGradients(t, n, b)
		want, _, _ := ref.SoftmaxNLL(n.train.logitsVal.Data().([]float32), b.Labels, 64, n.spec.Classes)
		for i := range 64 {
			if rel := math.Abs(float64(losses[i])-want[i]) / math.Max(math.Abs(want[i]), 1e-3); rel > 1e-5 {
				t.Fatalf("%s: sample %d loss %v, float64 reference %v (rel %g)", model, i, losses[i], want[i], rel)
			}
		}
	}
}

// TestBackendSuite runs the shared backend suite on the gorgonia backend.
func TestBackendSuite(t *testing.T) { enginetest.RunAll(t, Backend{}) }
