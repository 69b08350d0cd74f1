//go:build !cuda

package cpu_test

// The cross-checks and benchmarks against the gorgonia backend, which cuda
// builds leave out.

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/cpu"
	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/engine/enginetest"
	"github.com/sgds/sgds/engine/gorgonia"
)

// TestMatchesGorgonia compares gradients, losses and gradient norms with the
// gorgonia backend (an independent autodiff) on real batches, on every
// kernel path built in.
func TestMatchesGorgonia(t *testing.T) {
	train, full := enginetest.MNIST(t)
	test := &data.Set{Name: "test-head", Images: full.Images[:1000*784], Labels: full.Labels[:1000], N: 1000, Rows: 28, Cols: 28, Classes: 10}
	forEachPath(t, func(t *testing.T) {
		for _, model := range engine.Models() {
			cfg := engine.Config{Batch: 32, LR: 0.01, Momentum: 0.5}
			nat := enginetest.NewNet(t, cpu.Backend{}, model, cfg, 4)
			gor := enginetest.NewNet(t, gorgonia.Backend{}, model, cfg, 4)
			b := enginetest.BatchOf(train, enginetest.Seq(1000, 32), 32)
			b.N = 30
			b.Weights[30], b.Weights[31] = 0, 0
			b.Weights[3] = 0.5
			gn, ln, err := nat.Gradients(b)
			if err != nil {
				t.Fatal(err)
			}
			gg, lg, err := gor.Gradients(b)
			if err != nil {
				t.Fatal(err)
			}
			if d := enginetest.MaxRelDiff(gn, gg); d > 2e-5 {
				t.Errorf("%s: gradients differ from gorgonia's by %g", model, d)
			}
			for i := range ln {
				if math.Abs(float64(ln[i]-lg[i])) > 1e-5*(1+math.Abs(float64(lg[i]))) {
					t.Errorf("%s: loss %d: %v, gorgonia %v", model, i, ln[i], lg[i])
				}
			}
			b.Weights[3] = 1.0 / 32
			nn, err := nat.GradNorms(b)
			if err != nil {
				t.Fatal(err)
			}
			ng, err := gor.GradNorms(b)
			if err != nil {
				t.Fatal(err)
			}
			for i := range nn {
				if math.Abs(float64(nn[i]-ng[i])) > 1e-4*float64(ng[i])+1e-6 {
					t.Errorf("%s: norm %d: %v, gorgonia %v", model, i, nn[i], ng[i])
				}
			}
			an, lossN, err := nat.Evaluate(test)
			if err != nil {
				t.Fatal(err)
			}
			ag, lossG, err := gor.Evaluate(test)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(an-ag) > 2e-4 || math.Abs(lossN-lossG) > 1e-5 {
				t.Errorf("%s: evaluation %v/%v, gorgonia %v/%v", model, an, lossN, ag, lossG)
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
	bs := batches(train, 32)
	for _, model := range []string{"mlp", "cnn"} {
		b.Run(fmt.Sprintf("model=%s/batch=64", model), func(b *testing.B) {
			nat := newNet(b, cpu.Backend{}, model, cfg64)
			gor := newNet(b, gorgonia.Backend{}, model, cfg64)
			for i := 0; i < 3; i++ {
				step(b, nat, bs[i])
				step(b, gor, bs[i])
			}
			var tn, tg time.Duration
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				step(b, nat, bs[i%len(bs)])
				t1 := time.Now()
				step(b, gor, bs[i%len(bs)])
				tg += time.Since(t1)
				tn += t1.Sub(t0)
			}
			b.ReportMetric(float64(64*b.N)/tn.Seconds(), "cpu-samples/s")
			b.ReportMetric(float64(64*b.N)/tg.Seconds(), "cpu-samples/s")
			b.ReportMetric(tg.Seconds()/tn.Seconds(), "speedup")
		})
	}
}
