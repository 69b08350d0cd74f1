package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"time"

	"gonum.org/v1/plot/vg"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/internal/atomicfile"
	"github.com/sgds/sgds/run"
)

// CorrelateConfig configures the correlate experiment (docs/METHOD.md §1).
type CorrelateConfig struct {
	Run     run.Config `json:"run"`
	Samples int        `json:"samples"`
	// TimingSteps is the number of batches timed for the norm overhead.
	TimingSteps int `json:"timing_steps"`
}

// Agreement measures how well a cheap score predicts the gradient norm.
type Agreement struct {
	Spearman     float64 `json:"spearman"`
	Pearson      float64 `json:"pearson"`
	PearsonLog   float64 `json:"pearson_log"`
	Top10Overlap float64 `json:"top10_overlap"`
}

// CorrelateTiming compares the cost of per-sample gradient norms with a
// plain training step, on the same batches, interleaved.
type CorrelateTiming struct {
	StepSeconds     float64 `json:"step_seconds"`      // median plain step
	NormStepSeconds float64 `json:"norm_step_seconds"` // median step that also returns the norms
	NormsOverStep   float64 `json:"norms_over_step"`   // ratio of the two
	BruteSeconds    float64 `json:"brute_seconds"`     // one backward pass per sample, one batch
	BruteOverStep   float64 `json:"brute_over_step"`   // ratio to a plain step
	Batch           int     `json:"batch"`
	Steps           int     `json:"steps"`
}

// CorrelateResult is correlate.json.
type CorrelateResult struct {
	Config    CorrelateConfig `json:"config"`
	TestAcc   float64         `json:"test_acc"`
	Agreement                 // loss against gradient norm
	LastLayer Agreement       `json:"lastlayer"` // last-layer norm against gradient norm
	Timing    CorrelateTiming `json:"timing"`
	Indices   []int           `json:"indices"`
	Loss      []float64       `json:"loss"`
	LastNorm  []float64       `json:"lastlayer_norm"`
	GradNorm  []float64       `json:"grad_norm"`
}

// Correlate trains c.Run, then scores c.Samples training samples drawn
// without replacement by a generator seeded from the run's seed, and
// compares loss and last-layer norm with the exact gradient norm.
func Correlate(ctx context.Context, c CorrelateConfig, d *run.Data, h run.Hooks, log io.Writer) (*CorrelateResult, error) {
	if c.Samples < 10 || c.Samples > d.Train.N {
		return nil, fmt.Errorf("--samples must be in [10, %d], got %d", d.Train.N, c.Samples)
	}
	if c.TimingSteps <= 0 {
		c.TimingSteps = 20
	}
	t, net, err := run.Train(ctx, c.Run, d, nil, h)
	if err != nil {
		return nil, err
	}
	defer net.Close()
	scorer, ok := net.(engine.Scorer)
	if !ok {
		return nil, fmt.Errorf("device %s cannot score samples (no engine.Scorer)", c.Run.Device)
	}
	res := &CorrelateResult{Config: c, TestAcc: t.History[len(t.History)-1].TestAcc}
	r := rand.New(rand.NewPCG(c.Run.Seed, 0xc0441a7e))
	res.Indices = r.Perm(d.Train.N)[:c.Samples]
	B := c.Run.Batch
	batch := engine.NewBatch(B, d.Train.Pixels())
	for pos := 0; pos < len(res.Indices); pos += B {
		idx := res.Indices[pos:min(pos+B, len(res.Indices))]
		if err := batch.Gather(d.Train, idx, nil); err != nil {
			return nil, err
		}
		st, err := scorer.Score(batch)
		if err != nil {
			return nil, err
		}
		for i := range idx {
			res.Loss = append(res.Loss, float64(st.Losses[i]))
			res.LastNorm = append(res.LastNorm, float64(st.LastNorms[i]))
			res.GradNorm = append(res.GradNorm, float64(st.GradNorms[i]))
		}
	}
	res.Agreement = agreement(res.Loss, res.GradNorm)
	res.LastLayer = agreement(res.LastNorm, res.GradNorm)
	fmt.Fprintf(log, "timing the norms against a training step (%d batches)\n", c.TimingSteps)
	params, err := net.Params()
	if err != nil {
		return nil, err
	}
	if res.Timing, err = timeNorms(c, d, params, res.Indices); err != nil {
		return nil, err
	}
	return res, nil
}

func agreement(x, norm []float64) Agreement {
	return Agreement{Spearman: Spearman(x, norm), Pearson: Pearson(x, norm), PearsonLog: PearsonLog(x, norm),
		Top10Overlap: TopOverlap(x, norm, 0.10)}
}

// timeNorms times plain steps against steps with gradient norms, on two
// fresh Nets with the trained parameters, interleaved batch by batch, and
// one batch of brute-force per-sample backward passes.
func timeNorms(c CorrelateConfig, d *run.Data, params []engine.Param, idx []int) (CorrelateTiming, error) {
	plainCfg, normCfg := c.Run, c.Run
	plainCfg.Score, normCfg.Score = "loss", "gradnorm"
	plain, err := run.NewNet(plainCfg, params)
	if err != nil {
		return CorrelateTiming{}, err
	}
	defer plain.Close()
	withNorms, err := run.NewNet(normCfg, params)
	if err != nil {
		return CorrelateTiming{}, err
	}
	defer withNorms.Close()
	B := c.Run.Batch
	batch := engine.NewBatch(B, d.Train.Pixels())
	var ts, tn []float64
	for s := 0; s < c.TimingSteps+2; s++ {
		start := (s * B) % max(1, len(idx)-B)
		if err := batch.Gather(d.Train, idx[start:min(start+B, len(idx))], nil); err != nil {
			return CorrelateTiming{}, err
		}
		t0 := time.Now()
		if _, err := plain.Step(batch); err != nil {
			return CorrelateTiming{}, err
		}
		t1 := time.Now()
		if _, err := withNorms.Step(batch); err != nil {
			return CorrelateTiming{}, err
		}
		t2 := time.Now()
		if s >= 2 { // warm-up
			ts = append(ts, t1.Sub(t0).Seconds())
			tn = append(tn, t2.Sub(t1).Seconds())
		}
	}
	tm := CorrelateTiming{Batch: B, Steps: c.TimingSteps, StepSeconds: median(ts), NormStepSeconds: median(tn)}
	tm.NormsOverStep = tm.NormStepSeconds / tm.StepSeconds
	// Brute force: one backward pass per sample of one batch.
	one := *batch
	one.Weights = make([]float32, B)
	t0 := time.Now()
	for i := 0; i < batch.N; i++ {
		clear(one.Weights)
		one.Weights[i] = 1
		if _, _, err := plain.Gradients(&one); err != nil {
			return CorrelateTiming{}, err
		}
	}
	tm.BruteSeconds = time.Since(t0).Seconds()
	tm.BruteOverStep = tm.BruteSeconds / tm.StepSeconds
	return tm, nil
}

// WriteCorrelate writes correlate.json and the two plots into dir.
func WriteCorrelate(res *CorrelateResult, dir string) error {
	if err := atomicfile.WriteJSON(filepath.Join(dir, "correlate.json"), res); err != nil {
		return err
	}
	rank := Ranks(res.GradNorm)
	p, err := scatterPlot(fmt.Sprintf("%s after %d epoch(s): loss by gradient-norm rank (Spearman %.3f)", res.Config.Run.Model, res.Config.Run.Epochs, res.Spearman),
		"rank of the per-sample gradient norm (ascending)", "loss L_i", rank, res.Loss, false, true)
	if err != nil {
		return err
	}
	if err := savePNG(p, filepath.Join(dir, "loss_by_gradnorm_rank.png"), 7*vg.Inch, 4.5*vg.Inch); err != nil {
		return err
	}
	p, err = scatterPlot(fmt.Sprintf("loss against gradient norm (Pearson of logs %.3f)", res.PearsonLog),
		"per-sample gradient norm", "loss L_i", res.GradNorm, res.Loss, true, true)
	if err != nil {
		return err
	}
	return savePNG(p, filepath.Join(dir, "loss_vs_gradnorm.png"), 6*vg.Inch, 5*vg.Inch)
}

// CorrelateTable is the printed summary.
func CorrelateTable(res *CorrelateResult) string {
	t := res.Timing
	return fmt.Sprintf(`correlate: %s on %s, %d epoch(s), test accuracy %.4f, %d training samples
score against exact ||∇θ L_i||   spearman  pearson  pearson_log  top10_overlap
loss                             %8.4f  %7.4f  %11.4f  %13.3f
last-layer norm                  %8.4f  %7.4f  %11.4f  %13.3f
timing (batch %d, median of %d): step %.2f ms, step+norms %.2f ms (%.3f×), brute force %.1f ms (%.1f× a step)
`, res.Config.Run.Model, res.Config.Run.Dataset, res.Config.Run.Epochs, res.TestAcc, len(res.Loss),
		res.Spearman, res.Pearson, res.PearsonLog, res.Top10Overlap,
		res.LastLayer.Spearman, res.LastLayer.Pearson, res.LastLayer.PearsonLog, res.LastLayer.Top10Overlap,
		t.Batch, t.Steps, 1e3*t.StepSeconds, 1e3*t.NormStepSeconds, t.NormsOverStep, 1e3*t.BruteSeconds, t.BruteOverStep)
}
