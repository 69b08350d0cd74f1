package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/data"
)

var cfg64 = engine.Config{Batch: 64, LR: 0.01, Momentum: 0.5}

func loadMNIST(t testing.TB) (train, test *data.Set) {
	t.Helper()
	train, test, err := data.Load("mnist", "")
	if err != nil {
		t.Fatalf("real MNIST is required (run ./build.sh): %v", err)
	}
	return train, test
}

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

// batchOf gathers samples idx of set into a B-row batch with weight 1/B per
// real row and zero-weight padding.
func batchOf(set *data.Set, idx []int, B int) *engine.Batch {
	p := set.Pixels()
	b := &engine.Batch{Images: make([]float32, B*p), Labels: make([]int32, B), Weights: make([]float32, B), N: len(idx), Indices: idx}
	for i, k := range idx {
		copy(b.Images[i*p:], set.Image(k))
		b.Labels[i] = set.Labels[k]
		b.Weights[i] = 1 / float32(B)
	}
	return b
}

func seqIdx(start, n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = start + i
	}
	return idx
}

// TestLossesMatchFloat64 checks the per-sample losses read from the graph
// against −log softmax computed in float64 from the same logits.
func TestLossesMatchFloat64(t *testing.T) {
	train, _ := loadMNIST(t)
	for _, model := range engine.Models() {
		n := newNet(t, model, cfg64, 3)
		b := batchOf(train, seqIdx(1000, 64), 64)
		// Train a few steps first so that losses are spread out.
		for s := 0; s < 5; s++ {
			if _, err := n.Step(batchOf(train, seqIdx(64*s, 64), 64)); err != nil {
				t.Fatal(err)
			}
		}
		_, losses, err := n.Gradients(b)
		if err != nil {
			t.Fatal(err)
		}
		logits := n.train.logitsVal.Data().([]float32)
		C := 10
		for i := 0; i < 64; i++ {
			row := logits[i*C : (i+1)*C]
			mx := math.Inf(-1)
			for _, v := range row {
				mx = math.Max(mx, float64(v))
			}
			var se float64
			for _, v := range row {
				se += math.Exp(float64(v) - mx)
			}
			want := -(float64(row[b.Labels[i]]) - mx - math.Log(se))
			if rel := math.Abs(float64(losses[i])-want) / math.Max(math.Abs(want), 1e-3); rel > 1e-5 {
				t.Fatalf("%s: sample %d loss %v, float64 reference %v (rel %g)", model, i, losses[i], want, rel)
			}
		}
	}
}

func maxRelDiff(a, b []engine.Param) float64 {
	var worst float64
	for i := range a {
		var num, den float64
		for j := range a[i].Data {
			d := float64(a[i].Data[j] - b[i].Data[j])
			num += d * d
			den += float64(b[i].Data[j]) * float64(b[i].Data[j])
		}
		worst = math.Max(worst, math.Sqrt(num/math.Max(den, 1e-30)))
	}
	return worst
}

// TestPaddingLeavesGradientUnchanged compares the gradient of a 64-row batch
// with 40 real rows and 24 rows of real-but-unwanted samples at weight 0
// against the gradient of the same 40 rows in a 40-row graph.
func TestPaddingLeavesGradientUnchanged(t *testing.T) {
	train, _ := loadMNIST(t)
	for _, model := range engine.Models() {
		big := newNet(t, model, cfg64, 5)
		small := newNet(t, model, engine.Config{Batch: 40, LR: 0.01, Momentum: 0.5}, 5)
		padded := batchOf(train, seqIdx(2000, 64), 64)
		padded.N = 40
		for i := 40; i < 64; i++ {
			padded.Weights[i] = 0
		}
		exact := batchOf(train, seqIdx(2000, 40), 40)
		for i := range exact.Weights {
			exact.Weights[i] = 1 / float32(64)
		}
		g1, _, err := big.Gradients(padded)
		if err != nil {
			t.Fatal(err)
		}
		g2, _, err := small.Gradients(exact)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxRelDiff(g1, g2); d > 1e-5 {
			t.Fatalf("%s: padding changed the gradient: relative difference %g", model, d)
		}
		// And the check can fail: a padding row with weight ≠ 0 shows up.
		padded.Weights[50] = 1 / float32(64)
		g3, _, _ := big.Gradients(padded)
		if d := maxRelDiff(g3, g2); d < 1e-4 {
			t.Fatalf("%s: a weighted padding row did not change the gradient (%g)", model, d)
		}
	}
}

// TestGradientsDoNotAccumulate runs the same batch twice.
func TestGradientsDoNotAccumulate(t *testing.T) {
	train, _ := loadMNIST(t)
	n := newNet(t, "mlp", cfg64, 1)
	b := batchOf(train, seqIdx(0, 64), 64)
	g1, _, _ := n.Gradients(b)
	g2, _, _ := n.Gradients(b)
	if d := maxRelDiff(g1, g2); d != 0 {
		t.Fatalf("second pass differs by %g", d)
	}
}

// TestGradientMatchesFiniteDifferences checks a few gradient entries of each
// parameter against central differences of the batch cost.
func TestGradientMatchesFiniteDifferences(t *testing.T) {
	train, _ := loadMNIST(t)
	for _, model := range engine.Models() {
		n := newNet(t, model, engine.Config{Batch: 8, LR: 0.01, Momentum: 0.5}, 9)
		b := batchOf(train, seqIdx(300, 8), 8)
		grads, _, err := n.Gradients(b)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		params := n.weights()
		cost := func() float64 {
			defer n.vm.Reset()
			c, err := n.run(n.vm, b)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		for i, w := range params {
			for k := 0; k < 3; k++ {
				j := r.IntN(len(w))
				old := w[j]
				h := float32(1e-3)
				w[j] = old + h
				up := cost()
				w[j] = old - h
				down := cost()
				w[j] = old
				fd := (up - down) / (2 * float64(h))
				g := float64(grads[i].Data[j])
				if math.Abs(fd-g) > 2e-3+0.05*math.Abs(g) {
					t.Errorf("%s %s[%d]: autodiff %g, finite difference %g", model, grads[i].Name, j, g, fd)
				}
			}
		}
	}
}

// TestSameSeedSameRun trains two nets from the same seed on the same batches.
func TestSameSeedSameRun(t *testing.T) {
	train, _ := loadMNIST(t)
	a := newNet(t, "cnn", cfg64, 7)
	c := newNet(t, "cnn", cfg64, 7)
	for s := 0; s < 3; s++ {
		b := batchOf(train, seqIdx(64*s, 64), 64)
		sa, err := a.Step(b)
		if err != nil {
			t.Fatal(err)
		}
		la := append([]float32(nil), sa.Losses...)
		sc, _ := c.Step(b)
		for i := range la {
			if la[i] != sc.Losses[i] {
				t.Fatalf("step %d sample %d: %v vs %v", s, i, la[i], sc.Losses[i])
			}
		}
	}
	if d := maxRelDiff(a.Params(), c.Params()); d != 0 {
		t.Fatalf("parameters differ by %g", d)
	}
}

// TestShortTrainingLearns trains the MLP for 150 steps of real MNIST and
// expects clearly better than chance on the test set.
func TestShortTrainingLearns(t *testing.T) {
	train, test := loadMNIST(t)
	n := newNet(t, "mlp", cfg64, 1)
	acc0, _, err := n.Evaluate(test)
	if err != nil {
		t.Fatal(err)
	}
	for s := 0; s < 150; s++ {
		if _, err := n.Step(batchOf(train, seqIdx(64*s, 64), 64)); err != nil {
			t.Fatal(err)
		}
	}
	acc, loss, err := n.Evaluate(test)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("test accuracy %.4f → %.4f (loss %.3f)", acc0, acc, loss)
	if acc < 0.8 {
		t.Fatalf("accuracy %.3f after 150 steps, want ≥ 0.8", acc)
	}
}

func TestBadConfigAndParams(t *testing.T) {
	m, _ := engine.LookupModel("mlp")
	for _, c := range []engine.Config{{Batch: 0, LR: 0.1}, {Batch: 8, LR: -1}, {Batch: 8, LR: math.NaN()}, {Batch: 8, LR: 0.1, Momentum: 1}} {
		if _, err := NewNet(m, engine.InitParams(m, 1), c); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
	cnn, _ := engine.LookupModel("cnn")
	if _, err := NewNet(m, engine.InitParams(cnn, 1), cfg64); err == nil {
		t.Error("cnn parameters accepted for mlp")
	}
	n := newNet(t, "mlp", cfg64, 1)
	if _, err := n.Step(&engine.Batch{Labels: make([]int32, 3)}); err == nil {
		t.Error("short batch accepted")
	}
}
