package cpu_test

import (
	"math"
	"testing"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/cpu"
	"github.com/sgds/sgds/engine/enginetest"
	kt "github.com/sgds/sgds/kernels/kerneltest"
)

func TestSuite(t *testing.T) { enginetest.RunAll(t, cpu.Backend{}) }

// TestStepDoesNotAllocate checks that a training step, with and without
// gradient norms, and a forward pass (Forward) allocate nothing in the
// steady state, on every kernel path.
func TestStepDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	train, _ := enginetest.MNIST(t)
	b := enginetest.BatchOf(train, enginetest.Seq(0, 64), 64)
	kt.ForEachPath(t, func(t *testing.T) {
		for _, model := range engine.Models() {
			for _, norms := range []bool{false, true} {
				cfg := cfg64
				cfg.GradNorms = norms
				n := enginetest.NewNet(t, cpu.Backend{}, model, cfg, 1)
				allocs := testing.AllocsPerRun(20, func() {
					if _, err := n.Step(b); err != nil {
						t.Fatal(err)
					}
				})
				if allocs != 0 {
					t.Errorf("%s norms=%v: %v allocations per step", model, norms, allocs)
				}
				allocs = testing.AllocsPerRun(20, func() {
					if _, err := n.Forward(b); err != nil {
						t.Fatal(err)
					}
				})
				if allocs != 0 {
					t.Errorf("%s norms=%v: %v allocations per Forward", model, norms, allocs)
				}
			}
		}
	})
}

// TestWorkersDoNotChangeResults trains with 1 and with 3 goroutines and
// expects bit-identical losses, norms and parameters.
func TestWorkersDoNotChangeResults(t *testing.T) {
	train, _ := enginetest.MNIST(t)
	for _, model := range engine.Models() {
		cfg := engine.Config{Batch: 24, LR: 0.01, Momentum: 0.5, GradNorms: true}
		a := enginetest.NewNet(t, cpu.Backend{Workers: 1}, model, cfg, 3)
		c := enginetest.NewNet(t, cpu.Backend{Workers: 3}, model, cfg, 3)
		for s := 0; s < 3; s++ {
			b := enginetest.BatchOf(train, enginetest.Seq(24*s, 24), 24)
			sa := enginetest.MustStep(t, a, b)
			la, na := append([]float32(nil), sa.Losses...), append([]float32(nil), sa.GradNorms...)
			sc := enginetest.MustStep(t, c, b)
			for i := range la {
				if la[i] != sc.Losses[i] || na[i] != sc.GradNorms[i] {
					t.Fatalf("%s step %d row %d: loss %v/%v norm %v/%v", model, s, i, la[i], sc.Losses[i], na[i], sc.GradNorms[i])
				}
			}
		}
		if d := enginetest.MaxRelDiff(enginetest.Params(t, a), enginetest.Params(t, c)); d != 0 {
			t.Fatalf("%s: parameters differ by %g", model, d)
		}
	}
}

// TestEvaluateOddSize evaluates a set whose size is not a multiple of the
// batch and compares with one-row-at-a-time evaluation.
func TestEvaluateOddSize(t *testing.T) {
	_, test := enginetest.MNIST(t)
	sub := enginetest.Head(t, test, 77)
	for _, model := range engine.Models() {
		a := enginetest.NewNet(t, cpu.Backend{}, model, cfg64, 2)
		c := enginetest.NewNet(t, cpu.Backend{}, model, engine.Config{Batch: 1, LR: 0.01}, 2)
		accA, lossA := enginetest.MustEvaluate(t, a, sub)
		accC, lossC := enginetest.MustEvaluate(t, c, sub)
		if accA != accC || math.Abs(lossA-lossC) > 1e-12 {
			t.Errorf("%s: batch 64 gives %v/%v, batch 1 gives %v/%v", model, accA, lossA, accC, lossC)
		}
	}
}

// TestClosed expects errors after Close.
func TestClosed(t *testing.T) {
	train, test := enginetest.MNIST(t)
	m, _ := engine.LookupModel("mlp")
	n, err := cpu.Backend{}.New(m, engine.InitParams(m, 1), cfg64)
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Step(enginetest.BatchOf(train, enginetest.Seq(0, 64), 64)); err == nil {
		t.Error("Step after Close succeeded")
	}
	if _, _, err := n.Evaluate(test); err == nil {
		t.Error("Evaluate after Close succeeded")
	}
}

// TestScoreMatchesStep checks that Score returns the losses, last-layer
// norms and gradient norms a Step with norms would, without updating.
func TestScoreMatchesStep(t *testing.T) {
	train, _ := enginetest.MNIST(t)
	cfg := engine.Config{Batch: 32, LR: 0.01, Momentum: 0.5, GradNorms: true}
	n := enginetest.NewNet(t, cpu.Backend{}, "cnn", cfg, 3)
	b := enginetest.BatchOf(train, enginetest.Seq(100, 32), 32)
	before := enginetest.Params(t, n)
	sc, err := n.(engine.Scorer).Score(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := enginetest.MaxRelDiff(enginetest.Params(t, n), before); d != 0 {
		t.Fatalf("Score changed the parameters by %g", d)
	}
	st := enginetest.MustStep(t, n, b)
	for i := range sc.Losses {
		if sc.Losses[i] != st.Losses[i] || sc.LastNorms[i] != st.LastNorms[i] || sc.GradNorms[i] != st.GradNorms[i] {
			t.Fatalf("row %d: score %v/%v/%v, step %v/%v/%v", i, sc.Losses[i], sc.LastNorms[i], sc.GradNorms[i], st.Losses[i], st.LastNorms[i], st.GradNorms[i])
		}
	}
}

// TestForwardMatchesStepExactly checks that Forward, which runs Step's
// layer program and loss kernel, returns bit-identical losses, last-layer
// norms and cost to the Step that follows it on the same batch, with 1 and
// with 3 goroutines.
func TestForwardMatchesStepExactly(t *testing.T) {
	train, _ := enginetest.MNIST(t)
	for _, model := range engine.Models() {
		for _, workers := range []int{1, 3} {
			n := enginetest.NewNet(t, cpu.Backend{Workers: workers}, model, cfg64, 4)
			for s := 0; s < 3; s++ {
				b := enginetest.BatchOf(train, enginetest.Seq(64*s, 64), 64)
				fw := enginetest.MustForward(t, n, b)
				losses, lasts, cost := append([]float32(nil), fw.Losses...), append([]float32(nil), fw.LastNorms...), fw.Cost
				st := enginetest.MustStep(t, n, b)
				if cost != st.Cost {
					t.Fatalf("%s workers=%d step %d: Forward's cost %v, Step's %v", model, workers, s, cost, st.Cost)
				}
				for i := range st.Losses {
					if losses[i] != st.Losses[i] || lasts[i] != st.LastNorms[i] {
						t.Fatalf("%s workers=%d step %d row %d: Forward %v/%v, Step %v/%v", model, workers, s, i, losses[i], lasts[i], st.Losses[i], st.LastNorms[i])
					}
				}
			}
		}
	}
}
