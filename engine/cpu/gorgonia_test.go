//go:build !cuda

package cpu_test

// The cross-checks and benchmarks against the gorgonia backend, which cuda
// builds leave out.

import (
	"fmt"
	"math"
	"testing"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/cpu"
	"github.com/sgds/sgds/engine/enginetest"
	"github.com/sgds/sgds/engine/gorgonia"
	"github.com/sgds/sgds/kernels/kerneltest"
)

// topologies are models beyond the built-in ones, to show that both
// backends take their layers from the spec (engine.Layers): a deeper CNN
// with a 3×3 and a 4×4 kernel and three dense layers, and an MLP of two
// hidden layers on (1, 28, 28) images.
var topologies = []engine.ModelSpec{
	{Name: "cnn3x3", Input: []int{1, 28, 28}, Classes: 10, Params: []engine.ParamSpec{
		{Name: "c1.w", Shape: []int{4, 1, 3, 3}, FanIn: 9}, {Name: "c1.b", Shape: []int{4}, FanIn: 9},
		{Name: "c2.w", Shape: []int{6, 4, 4, 4}, FanIn: 64}, {Name: "c2.b", Shape: []int{6}, FanIn: 64},
		{Name: "d1.w", Shape: []int{150, 32}, FanIn: 150}, {Name: "d1.b", Shape: []int{32}, FanIn: 150},
		{Name: "d2.w", Shape: []int{32, 16}, FanIn: 32}, {Name: "d2.b", Shape: []int{16}, FanIn: 32},
		{Name: "d3.w", Shape: []int{16, 10}, FanIn: 16}, {Name: "d3.b", Shape: []int{10}, FanIn: 16},
	}},
	{Name: "mlp2", Input: []int{1, 28, 28}, Classes: 10, Params: []engine.ParamSpec{
		{Name: "d1.w", Shape: []int{784, 40}, FanIn: 784}, {Name: "d1.b", Shape: []int{40}, FanIn: 784},
		{Name: "d2.w", Shape: []int{40, 24}, FanIn: 40}, {Name: "d2.b", Shape: []int{24}, FanIn: 40},
		{Name: "d3.w", Shape: []int{24, 10}, FanIn: 24}, {Name: "d3.b", Shape: []int{10}, FanIn: 24},
	}},
}

// TestMatchesGorgonia compares gradients, losses, gradient norms and
// evaluation with the gorgonia backend (an independent autodiff) on real
// batches, for the built-in models and the other topologies, on every
// kernel path built in.
func TestMatchesGorgonia(t *testing.T) {
	train, full := enginetest.MNIST(t)
	test := enginetest.Head(t, full, 1000)
	specs := append([]engine.ModelSpec(nil), topologies...)
	for _, name := range engine.Models() {
		m, err := engine.LookupModel(name)
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, m)
	}
	kerneltest.ForEachPath(t, func(t *testing.T) {
		for _, m := range specs {
			cfg := engine.Config{Batch: 32, LR: 0.01, Momentum: 0.5}
			nat := enginetest.NewNetOf(t, cpu.Backend{}, m, cfg, 4)
			gor := enginetest.NewNetOf(t, gorgonia.Backend{}, m, cfg, 4)
			b := enginetest.BatchOf(train, enginetest.Seq(1000, 32), 32)
			b.N = 30
			b.Weights[30], b.Weights[31] = 0, 0
			b.Weights[3] = 0.5
			gn, ln := enginetest.MustGradients(t, nat, b)
			gg, lg := enginetest.MustGradients(t, gor, b)
			if d := enginetest.MaxRelDiff(gn, gg); d > 2e-5 {
				t.Errorf("%s: gradients differ from gorgonia's by %g", m.Name, d)
			}
			for i := range ln {
				if math.Abs(float64(ln[i]-lg[i])) > 1e-5*(1+math.Abs(float64(lg[i]))) {
					t.Errorf("%s: loss %d: %v, gorgonia %v", m.Name, i, ln[i], lg[i])
				}
			}
			b.Weights[3] = 1.0 / 32
			nn := enginetest.MustGradNorms(t, nat, b)
			ng := enginetest.MustGradNorms(t, gor, b)
			for i := range nn {
				if math.Abs(float64(nn[i]-ng[i])) > 1e-4*float64(ng[i])+1e-6 {
					t.Errorf("%s: norm %d: %v, gorgonia %v", m.Name, i, nn[i], ng[i])
				}
			}
			an, lossN := enginetest.MustEvaluate(t, nat, test)
			ag, lossG := enginetest.MustEvaluate(t, gor, test)
			if math.Abs(an-ag) > 2e-4 || math.Abs(lossN-lossG) > 1e-5 {
				t.Errorf("%s: evaluation %v/%v, gorgonia %v/%v", m.Name, an, lossN, ag, lossG)
			}
		}
	})
}

func init() {
	stepBackends = append(stepBackends, struct {
		name string
		be   engine.Backend
	}{"gorgonia", gorgonia.Backend{}})
}

// BenchmarkSpeedup alternates one cpu step and one gorgonia step on the
// same batches and reports both rates and speedup = cpu rate / gorgonia
// rate, measured pair by pair in the same run.
func BenchmarkSpeedup(b *testing.B) {
	train, _ := enginetest.MNIST(b)
	bs := enginetest.Batches(train, 32, 64)
	for _, model := range engine.Models() {
		b.Run(fmt.Sprintf("model=%s/batch=64", model), func(b *testing.B) {
			tn, tg := enginetest.Alternate(b, bs, newNet(b, cpu.Backend{}, model, cfg64), newNet(b, gorgonia.Backend{}, model, cfg64))
			b.ReportMetric(float64(64*b.N)/tn.Seconds(), "cpu-samples/s")
			b.ReportMetric(float64(64*b.N)/tg.Seconds(), "gorgonia-samples/s")
			b.ReportMetric(tg.Seconds()/tn.Seconds(), "speedup")
		})
	}
}
