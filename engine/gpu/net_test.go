package gpu

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/sgds/sgds/cuda"
	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/cpu"
	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/engine/enginetest"
)

// These tests run on the driver TestMain selected (the host driver by
// default) with real MNIST (data/mnist, found from the working directory
// upwards), and compare the GPU backend with the cpu backend.

func TestSuite(t *testing.T) { enginetest.RunAll(t, Backend{}) }

// skipShort leaves a long test out of go test -short (the race run of CI):
// on the host driver it takes seconds to tens of seconds.
func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: left out (long on the host driver)")
	}
}

// boundBackend builds Nets bound to the MNIST training set, so that every
// batch is gathered on the device.
type boundBackend struct{ train *data.Set }

func (boundBackend) Name() string { return "cuda-bound" }

func (b boundBackend) New(m engine.ModelSpec, init []engine.Param, cfg engine.Config) (engine.Net, error) {
	n, err := NewNet(m, init, cfg)
	if err != nil {
		return nil, err
	}
	if err := n.BindTrain(b.train); err != nil {
		return nil, errors.Join(err, n.Close())
	}
	return n, nil
}

// boundChecks are the checks of the shared suite whose batches take
// another path when gathered on the device: padding rows (index −1, zero
// images), per-sample norms through Step and GradNorms, Forward against
// Step with other samples in the padding, bit-identical runs, and bad
// input. The others (finite differences, no accumulation, the parameters'
// round trip, a short training run) test the Net's state and arithmetic,
// which do not depend on how the batch arrives; TestSuite runs them, and
// TestBoundMatchesHost checks that both paths give identical steps.
var boundChecks = map[string]bool{
	"PaddingLeavesGradientUnchanged": true, "GradNormsMatchBruteForce": true, "ForwardMatchesStep": true,
	"SameSeedSameRun": true, "BadConfigAndParams": true,
}

// TestSuiteBound runs the checks of the shared suite listed in boundChecks
// with the training set on the device.
func TestSuiteBound(t *testing.T) {
	train, _ := enginetest.MNIST(t)
	be := boundBackend{train}
	ran := 0
	for _, c := range enginetest.Checks() {
		if boundChecks[c.Name] {
			ran++
			t.Run(c.Name, func(t *testing.T) { c.Run(t, be) })
		}
	}
	if ran != len(boundChecks) {
		t.Errorf("ran %d of the %d checks of boundChecks: a check was renamed", ran, len(boundChecks))
	}
}

// TestRegistered checks the registration and Available: with a driver the
// backend is found (and auto picks it); without one, in a build without
// the cuda tag, it reports cuda.ErrNotCompiled.
func TestRegistered(t *testing.T) {
	b, err := engine.LookupBackend("cuda")
	if err != nil || b.Name() != "cuda" {
		t.Fatalf("LookupBackend(cuda) = %v, %v", b, err)
	}
	if a, err := engine.LookupBackend("auto"); err != nil || a.Name() != "cuda" {
		t.Errorf("auto picks %v (%v), want cuda", a, err)
	}
	info, err := Device()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s driver: %+v", cuda.DriverName(), info)
	restore, err := cuda.Use("build") // no driver selected
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	if err := (Backend{}).Available(); !cuda.Compiled && !errors.Is(err, cuda.ErrNotCompiled) {
		t.Errorf("Available without a driver: %v, want cuda.ErrNotCompiled", err)
	}
	if _, err := engine.LookupBackend("cuda"); !cuda.Compiled && !errors.Is(err, engine.ErrNotCompiled) {
		t.Errorf("LookupBackend(cuda) without a driver: %v", err)
	}
	if a, err := engine.LookupBackend("auto"); !cuda.Compiled && (err != nil || a.Name() != "cpu") {
		t.Errorf("auto without a driver picks %v (%v), want cpu", a, err)
	}
}

// relErr returns ||a−b|| / ||b||, +Inf when the lengths differ.
func relErr(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var num, den float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		num += d * d
		den += float64(b[i]) * float64(b[i])
	}
	return math.Sqrt(num / math.Max(den, 1e-30))
}

// sameGradients checks that the gradients of g and c on b agree (relative
// difference ≤ 1e-4), logging the difference, and returns both nets'
// per-sample losses; name says which nets and batch.
func sameGradients(t *testing.T, g, c engine.Net, b *engine.Batch, name string) (lg, lc []float32) {
	t.Helper()
	gg, lg := enginetest.MustGradients(t, g, b)
	gc, lc := enginetest.MustGradients(t, c, b)
	if d := enginetest.MaxRelDiff(gg, gc); d > 1e-4 {
		t.Errorf("%s: gradients differ by %g", name, d)
	} else {
		t.Logf("%s: gradient relative difference %.2e", name, d)
	}
	return lg, lc
}

// TestMatchesCPU compares gradients, losses, last-layer norms, per-sample
// gradient norms and a few training steps with the CPU backend on the same
// weights and batches (relative error ≤ 1e-4).
func TestMatchesCPU(t *testing.T) {
	train, _ := enginetest.MNIST(t)
	for _, model := range engine.Models() {
		for _, B := range []int{64, 33} {
			cfg := engine.Config{Batch: B, LR: 0.01, Momentum: 0.5, GradNorms: true}
			g := enginetest.NewNet(t, Backend{}, model, cfg, 3)
			c := enginetest.NewNet(t, cpu.Backend{}, model, cfg, 3)
			for s := 0; s < 5; s++ {
				b := enginetest.BatchOf(train, enginetest.Seq(B*s, B), B)
				sg := enginetest.MustStep(t, g, b)
				sgl := append([]float32(nil), sg.Losses...)
				sgn := append([]float32(nil), sg.GradNorms...)
				sc := enginetest.MustStep(t, c, b)
				if e := relErr(sgl, sc.Losses); e > 1e-5 {
					t.Errorf("%s B=%d step %d: losses differ by %g", model, B, s, e)
				}
				if e := relErr(sgn, sc.GradNorms); e > 1e-4 {
					t.Errorf("%s B=%d step %d: gradient norms differ by %g", model, B, s, e)
				}
				if math.Abs(sg.Cost-sc.Cost) > 1e-5*math.Abs(sc.Cost) {
					t.Errorf("%s B=%d step %d: cost %v vs %v", model, B, s, sg.Cost, sc.Cost)
				}
			}
			if d := enginetest.MaxRelDiff(enginetest.Params(t, g), enginetest.Params(t, c)); d > 1e-4 {
				t.Errorf("%s B=%d: parameters after 5 steps differ by %g", model, B, d)
			}
			// Same weights on both, then one gradient on a padded batch.
			enginetest.MustSetParams(t, g, enginetest.Params(t, c))
			b := enginetest.BatchOf(train, enginetest.Seq(7000, B-5), B)
			lg, lc := sameGradients(t, g, c, b, fmt.Sprintf("%s B=%d", model, B))
			if e := relErr(lg, lc); e > 1e-5 {
				t.Errorf("%s B=%d: losses differ by %g", model, B, e)
			}
			scG, err := g.(engine.Scorer).Score(b)
			if err != nil {
				t.Fatal(err)
			}
			scC, err := c.(engine.Scorer).Score(b)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []struct {
				name string
				a, b []float32
			}{{"losses", scG.Losses, scC.Losses}, {"last-layer norms", scG.LastNorms, scC.LastNorms}, {"gradient norms", scG.GradNorms, scC.GradNorms}} {
				if e := relErr(k.a, k.b); e > 1e-4 || len(k.a) != b.N {
					t.Errorf("%s B=%d Score: %s differ by %g (%d values)", model, B, k.name, e, len(k.a))
				}
			}
		}
	}
}

// TestMatchesCPULargeBatch compares gradients with the CPU backend at a
// batch large enough for the weight gradients of the dense layers to be
// split over the batch (SgemmTNSplit).
func TestMatchesCPULargeBatch(t *testing.T) {
	train, _ := enginetest.MNIST(t)
	const B = 512
	for _, model := range engine.Models() {
		cfg := engine.Config{Batch: B, LR: 0.01, Momentum: 0.5}
		g := enginetest.NewNet(t, Backend{}, model, cfg, 8)
		c := enginetest.NewNet(t, cpu.Backend{}, model, cfg, 8)
		split := false
		for _, k := range g.(*Net).train.splits {
			split = split || k > 1
		}
		b := enginetest.BatchOf(train, enginetest.Seq(1000, B-7), B)
		sameGradients(t, g, c, b, fmt.Sprintf("%s B=%d (split weight gradients: %v)", model, B, split))
	}
}

// TestBoundMatchesHost checks that gathering on the device gives exactly the
// host-uploaded batch's results.
func TestBoundMatchesHost(t *testing.T) {
	train, test := enginetest.MNIST(t)
	cfg := engine.Config{Batch: 64, LR: 0.01, Momentum: 0.5}
	h := enginetest.NewNet(t, Backend{}, "cnn", cfg, 4)
	d := enginetest.NewNet(t, Backend{}, "cnn", cfg, 4)
	if err := d.(*Net).BindTrain(train); err != nil {
		t.Fatal(err)
	}
	for s := 0; s < 4; s++ {
		b := enginetest.BatchOf(train, enginetest.Seq(640*s+3, 60), 64)
		sh := enginetest.MustStep(t, h, b)
		lh := append([]float32(nil), sh.Losses...)
		sd := enginetest.MustStep(t, d, b)
		for i := range lh {
			if lh[i] != sd.Losses[i] {
				t.Fatalf("step %d row %d: %v (host) vs %v (bound)", s, i, lh[i], sd.Losses[i])
			}
		}
	}
	if dd := enginetest.MaxRelDiff(enginetest.Params(t, h), enginetest.Params(t, d)); dd != 0 {
		t.Errorf("parameters differ by %g", dd)
	}
	// A batch from another set is refused while bound.
	other := enginetest.BatchOf(test, enginetest.Seq(0, 64), 64)
	if _, err := d.Step(other); err == nil {
		t.Error("a test-set batch was accepted by a net bound to the training set")
	}
}

// TestEvaluateMatchesCPU evaluates the same weights on both backends, on
// the first 1,500 test images (two evaluation batches, the last one
// padded), and the GPU backend on 777 (one padded batch).
func TestEvaluateMatchesCPU(t *testing.T) {
	_, full := enginetest.MNIST(t)
	test := enginetest.Head(t, full, 1500)
	for _, model := range engine.Models() {
		cfg := engine.Config{Batch: 64, LR: 0.01, Momentum: 0.5}
		g := enginetest.NewNet(t, Backend{}, model, cfg, 6)
		c := enginetest.NewNet(t, cpu.Backend{}, model, cfg, 6)
		ag, lg, err := g.Evaluate(test)
		if err != nil {
			t.Fatal(err)
		}
		ac, lc, err := c.Evaluate(test)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(ag-ac) > 2e-4 || math.Abs(lg-lc) > 1e-4*math.Abs(lc) {
			t.Errorf("%s: GPU accuracy %.4f loss %.6f, CPU %.4f %.6f", model, ag, lg, ac, lc)
		}
		small, _, err := test.Split(test.N - 777)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := g.Evaluate(small); err != nil {
			t.Errorf("%s: evaluating 777 images: %v", model, err)
		}
	}
}

// TestMNISTAccuracy trains the same run (the first batches of 64, in
// order) on both backends and expects test accuracies within 0.3 points: on
// the CUDA driver 300 steps of both models, evaluated on the whole test
// set, as the GPU check runs it; on the host drivers, where every kernel is
// its float64 reference on the CPU, 20 steps (at a larger rate) evaluated
// on 1,000 images: the same comparison at a size the CPU affords
// (TestMatchesCPU compares the steps themselves).
func TestMNISTAccuracy(t *testing.T) {
	skipShort(t)
	train, test := enginetest.MNIST(t)
	steps, minAcc, cfg := 300, 0.85, engine.Config{Batch: 64, LR: 0.01, Momentum: 0.5}
	if cuda.DriverName() != "cuda" {
		steps, minAcc, cfg.LR, cfg.Momentum = 20, 0.3, 0.05, 0.9
		test = enginetest.Head(t, test, 1000)
	}
	for _, model := range []string{"cnn", "mlp"} {
		var acc [2]float64
		var secs [2]float64
		for k, be := range []engine.Backend{Backend{}, cpu.Backend{}} {
			n := enginetest.NewNet(t, be, model, cfg, 1)
			start := time.Now()
			for s := 0; s < steps; s++ {
				enginetest.MustStep(t, n, enginetest.BatchOf(train, enginetest.Seq(64*s, 64), 64))
			}
			secs[k] = time.Since(start).Seconds()
			a, _, err := n.Evaluate(test)
			if err != nil {
				t.Fatal(err)
			}
			acc[k] = a
		}
		t.Logf("model=%s steps=%d batch=64 test_images=%d gpu_acc=%.4f cpu_acc=%.4f diff_points=%.2f gpu_s=%.2f cpu_s=%.2f",
			model, steps, test.N, acc[0], acc[1], 100*(acc[0]-acc[1]), secs[0], secs[1])
		if math.Abs(acc[0]-acc[1]) > 0.003 {
			t.Errorf("%s: GPU accuracy %.4f, CPU %.4f: more than 0.3 points apart", model, acc[0], acc[1])
		}
		if acc[0] < minAcc {
			t.Errorf("%s: GPU accuracy %.4f after %d steps, want ≥ %.2f", model, acc[0], steps, minAcc)
		}
	}
}

// TestSetsShared checks that the Nets of a process share one upload of a
// data set, also one after the other (as a comparison builds them), and
// that a set is re-uploaded once it has shrunk.
func TestSetsShared(t *testing.T) {
	train, test := enginetest.MNIST(t)
	cfg := engine.Config{Batch: 16, LR: 0.01, Momentum: 0.5}
	a := enginetest.NewNet(t, Backend{}, "mlp", cfg, 1).(*Net)
	b := enginetest.NewNet(t, Backend{}, "mlp", cfg, 2).(*Net)
	for _, n := range []*Net{a, b} {
		if err := n.BindTrain(train); err != nil {
			t.Fatal(err)
		}
	}
	if a.bound != b.bound {
		t.Fatal("two nets bound to one set hold two uploads")
	}
	first := a.bound
	if err := errors.Join(a.Close(), b.Close()); err != nil {
		t.Fatal(err)
	}
	c := enginetest.NewNet(t, Backend{}, "mlp", cfg, 3).(*Net)
	if err := c.BindTrain(train); err != nil {
		t.Fatal(err)
	}
	if c.bound != first {
		t.Error("a net built after the others closed uploaded the set again")
	}
	small, _, err := test.Split(test.N - 100)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Evaluate(small); err != nil {
		t.Fatal(err)
	}
	if len(c.sets) != 2 {
		t.Errorf("the net holds %d sets, want 2", len(c.sets))
	}
}
