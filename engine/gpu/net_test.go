//go:build cuda

package gpu

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sgds/sgds/bench"
	"github.com/sgds/sgds/cuda"
	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/cpu"
	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/engine/enginetest"
	"github.com/sgds/sgds/sampler"
)

// These tests need an NVIDIA GPU (gorgonia.org/cu exits the test binary at
// start-up without one) and real MNIST (data/mnist, found from the working
// directory upwards).

func TestSuite(t *testing.T) { enginetest.RunAll(t, Backend{}) }

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
		n.Close()
		return nil, err
	}
	return n, nil
}

// TestSuiteBound runs the shared suite with the training set on the device.
func TestSuiteBound(t *testing.T) {
	train, _ := enginetest.MNIST(t)
	enginetest.RunAll(t, boundBackend{train})
}

func TestRegistered(t *testing.T) {
	b, err := engine.LookupBackend("cuda")
	if err != nil || b.Name() != "cuda" {
		t.Fatalf("LookupBackend(cuda) = %v, %v", b, err)
	}
	if a, _ := engine.LookupBackend("auto"); a == nil || a.Name() != "cuda" {
		t.Errorf("auto picks %v, want cuda", a)
	}
	info, err := Device()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("device: %+v", info)
}

func relErr(a, b []float32) float64 {
	var num, den float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		num += d * d
		den += float64(b[i]) * float64(b[i])
	}
	return math.Sqrt(num / math.Max(den, 1e-30))
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
				sg, err := g.Step(b)
				if err != nil {
					t.Fatal(err)
				}
				sgl := append([]float32(nil), sg.Losses...)
				sgn := append([]float32(nil), sg.GradNorms...)
				sc, err := c.Step(b)
				if err != nil {
					t.Fatal(err)
				}
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
			if err := g.SetParams(enginetest.Params(t, c)); err != nil {
				t.Fatal(err)
			}
			b := enginetest.BatchOf(train, enginetest.Seq(7000, B-5), B)
			gg, lg, err := g.Gradients(b)
			if err != nil {
				t.Fatal(err)
			}
			gc, lc, err := c.Gradients(b)
			if err != nil {
				t.Fatal(err)
			}
			if d := enginetest.MaxRelDiff(gg, gc); d > 1e-4 {
				t.Errorf("%s B=%d: gradients differ by %g", model, B, d)
			} else {
				t.Logf("%s B=%d: gradient relative difference %.2e", model, B, d)
			}
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
		gg, _, err := g.Gradients(b)
		if err != nil {
			t.Fatal(err)
		}
		gc, _, err := c.Gradients(b)
		if err != nil {
			t.Fatal(err)
		}
		if d := enginetest.MaxRelDiff(gg, gc); d > 1e-4 {
			t.Errorf("%s B=%d: gradients differ by %g", model, B, d)
		} else {
			t.Logf("%s B=%d (split weight gradients: %v): gradient relative difference %.2e", model, B, split, d)
		}
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
		sh, err := h.Step(b)
		if err != nil {
			t.Fatal(err)
		}
		lh := append([]float32(nil), sh.Losses...)
		sd, err := d.Step(b)
		if err != nil {
			t.Fatal(err)
		}
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

// TestEvaluateMatchesCPU evaluates the same weights on both backends.
func TestEvaluateMatchesCPU(t *testing.T) {
	_, test := enginetest.MNIST(t)
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

// TestMNISTAccuracy trains the same short run (the first 300 batches of 64,
// in order) on both backends and expects test accuracies within 0.3
// points.
func TestMNISTAccuracy(t *testing.T) {
	train, test := enginetest.MNIST(t)
	for _, model := range []string{"cnn", "mlp"} {
		cfg := engine.Config{Batch: 64, LR: 0.01, Momentum: 0.5}
		var acc [2]float64
		var secs [2]float64
		for k, be := range []engine.Backend{Backend{}, cpu.Backend{}} {
			n := enginetest.NewNet(t, be, model, cfg, 1)
			start := time.Now()
			for s := 0; s < 300; s++ {
				if _, err := n.Step(enginetest.BatchOf(train, enginetest.Seq(64*s, 64), 64)); err != nil {
					t.Fatal(err)
				}
			}
			secs[k] = time.Since(start).Seconds()
			a, _, err := n.Evaluate(test)
			if err != nil {
				t.Fatal(err)
			}
			acc[k] = a
		}
		fmt.Printf("ACCURACY model=%s steps=300 batch=64 gpu=%.4f cpu=%.4f diff_points=%.2f gpu_s=%.2f cpu_s=%.2f\n",
			model, acc[0], acc[1], 100*(acc[0]-acc[1]), secs[0], secs[1])
		if math.Abs(acc[0]-acc[1]) > 0.003 {
			t.Errorf("%s: GPU accuracy %.4f, CPU %.4f: more than 0.3 points apart", model, acc[0], acc[1])
		}
		if acc[0] < 0.85 {
			t.Errorf("%s: GPU accuracy %.4f after 300 steps", model, acc[0])
		}
	}
}

// TestStepThroughput (SGDS_GPU_BENCH=1) measures training steps per second
// for both models at batch 64 and 1024, with the training set on the device
// (the PyTorch peer keeps its tensors on the device too) and with the batch
// uploaded from the host, with and without per-sample gradient norms. The
// batches are 32 consecutive ones, as in bench/gpu/step_torch.py. Each step
// ends with the per-sample scores on the host (one synchronising copy).
func TestStepThroughput(t *testing.T) {
	if os.Getenv("SGDS_GPU_BENCH") != "1" {
		t.Skip("set SGDS_GPU_BENCH=1 to measure step throughput")
	}
	train, _ := enginetest.MNIST(t)
	batches, minSteps, seconds := []int{64, 1024}, 50, 2*time.Second
	if cuda.Fake { // a dry run of the plumbing on the host stand-in
		batches, minSteps, seconds = []int{16}, 3, 0
	}
	for _, model := range []string{"cnn", "mlp"} {
		for _, B := range batches {
			var base float64
			for _, v := range []struct {
				input string
				norms bool
			}{{"device", false}, {"device", true}, {"host", false}} {
				cfg := engine.Config{Batch: B, LR: 0.01, Momentum: 0.5, GradNorms: v.norms}
				n := enginetest.NewNet(t, Backend{}, model, cfg, 1).(*Net)
				if v.input == "device" {
					if err := n.BindTrain(train); err != nil {
						t.Fatal(err)
					}
				}
				var bs []*engine.Batch
				for i := 0; i < 32; i++ {
					bs = append(bs, enginetest.BatchOf(train, enginetest.Seq((i*B)%(train.N-B), B), B))
				}
				for i := 0; i < min(20, minSteps); i++ {
					if _, err := n.Step(bs[i%32]); err != nil {
						t.Fatal(err)
					}
				}
				steps := 0
				start := time.Now()
				for time.Since(start) < seconds || steps < minSteps {
					if _, err := n.Step(bs[steps%32]); err != nil {
						t.Fatal(err)
					}
					steps++
				}
				sec := time.Since(start).Seconds()
				sps := float64(steps*B) / sec
				line := fmt.Sprintf("STEP engine=sgds model=%s batch=%d input=%s norms=%v samples/s=%.0f ms/step=%.4f",
					model, B, v.input, v.norms, sps, 1e3*sec/float64(steps))
				if v.input == "device" && !v.norms {
					base = sps
				} else if v.norms && base > 0 {
					line += fmt.Sprintf(" norms_cost=%.2fx", base/sps)
				}
				fmt.Println(line)
				n.Close()
			}
		}
	}
}

// TestCompareSGDS (SGDS_GPU_COMPARE=1) runs the compare experiment on the
// GPU: uniform SGD against SGD-S (METHOD.md §3) on the CNN, 5 epochs, seeds
// 1 and 2, and prints its Markdown table. SGDS_GPU_COMPARE_OUT names a
// folder for compare.json/compare.md.
func TestCompareSGDS(t *testing.T) {
	if os.Getenv("SGDS_GPU_COMPARE") != "1" {
		t.Skip("set SGDS_GPU_COMPARE=1 to run the compare experiment on the GPU")
	}
	d, err := bench.LoadData("mnist", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	epochs := 5
	if cuda.Fake { // a dry run of the plumbing on the host stand-in
		epochs = 2
		if err := d.Limit(640); err != nil {
			t.Fatal(err)
		}
		small, _, err := d.Test.Split(d.Test.N - 500)
		if err != nil {
			t.Fatal(err)
		}
		d.Test = small
	}
	cfg := bench.CompareConfig{
		Base:    bench.RunConfig{Dataset: "mnist", Model: "cnn", Device: "cuda", Epochs: epochs, Batch: 64, LR: 0.01, Momentum: 0.5},
		Seeds:   []uint64{1, 2},
		Targets: []float64{0.98, 0.985, 0.99},
		Methods: bench.Methods(sampler.DefaultScheduleConfig(), "loss", false),
	}
	var log strings.Builder
	res, err := bench.Compare(context.Background(), cfg, d, &log)
	fmt.Print(log.String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(bench.CompareMarkdown(res))
	for _, r := range res.Runs {
		n := len(r.TestAcc)
		fmt.Printf("COMPARE method=%s seed=%d final_acc=%.4f train_seconds=%.2f samples=%d kept=%.3f\n",
			r.Method, r.Seed, r.TestAcc[n-1], r.TrainSeconds[n-1], r.SamplesSeen[n-1], r.KeptFraction[n-1])
	}
	if out := os.Getenv("SGDS_GPU_COMPARE_OUT"); out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := bench.WriteCompare(res, out); err != nil {
			t.Error(err)
		}
	}
}
