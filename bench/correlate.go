package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/internal/atomicfile"
	"github.com/sgds/sgds/internal/limits"
	"github.com/sgds/sgds/internal/provenance"
	"github.com/sgds/sgds/run"
)

// MaxTimingSteps bounds CorrelateConfig.TimingSteps (--timing-steps).
const MaxTimingSteps = 100_000

// Num is a statistic of a result file: a number, or null in JSON where it
// is undefined (NaN or infinite), so that one undefined statistic never
// stops the others from being written.
type Num float64

// MarshalJSON writes s, or null when s is not finite.
func (s Num) MarshalJSON() ([]byte, error) {
	if f := float64(s); math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(s))
}

// UnmarshalJSON reads a number, or null as NaN.
func (s *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = Num(math.NaN())
		return nil
	}
	var f float64
	err := json.Unmarshal(b, &f)
	*s = Num(f)
	return err
}

// Nums is a list of values written with null for the non-finite ones.
type Nums []float64

// MarshalJSON writes the values, null for each that is not finite.
func (v Nums) MarshalJSON() ([]byte, error) {
	if v == nil {
		return []byte("null"), nil
	}
	out := make([]Num, len(v))
	for i, x := range v {
		out[i] = Num(x)
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads numbers and nulls (as NaN).
func (v *Nums) UnmarshalJSON(b []byte) error {
	var in []Num
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*v = make(Nums, len(in))
	for i, x := range in {
		(*v)[i] = float64(x)
	}
	return nil
}

// CorrelateConfig configures the correlate experiment (docs/METHOD.md §1).
type CorrelateConfig struct {
	Run     run.Config `json:"run"`
	Samples int        `json:"samples"`
	// TimingSteps is the number of batches timed for the norm overhead.
	TimingSteps int `json:"timing_steps"`
}

// Agreement measures how well a cheap score predicts the gradient norm. A
// statistic that is undefined on the samples (a constant score, too few
// positive values for logs) is null in JSON, and Undefined says why.
type Agreement struct {
	Spearman     Num `json:"spearman"`
	Pearson      Num `json:"pearson"`
	PearsonLog   Num `json:"pearson_log"`
	Top10Overlap Num `json:"top10_overlap"`
	// Undefined maps the name of each undefined statistic to the reason.
	Undefined map[string]string `json:"undefined,omitempty"`
}

// CorrelateTiming compares the cost of per-sample gradient norms with a
// plain training step, on the same batches, interleaved.
type CorrelateTiming struct {
	StepSeconds     float64 `json:"step_seconds"`      // median plain step
	NormStepSeconds float64 `json:"norm_step_seconds"` // median step that also returns the norms
	NormsOverStep   Num     `json:"norms_over_step"`   // ratio of the two (null if a step took no measurable time)
	BruteSeconds    float64 `json:"brute_seconds"`     // one backward pass per sample, one batch
	BruteOverStep   Num     `json:"brute_over_step"`   // ratio to a plain step
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
	Loss      Nums            `json:"loss"`
	LastNorm  Nums            `json:"lastlayer_norm"`
	GradNorm  Nums            `json:"grad_norm"`
	// Provenance records what produced the result (set by the caller).
	Provenance *provenance.Provenance `json:"provenance,omitempty"`
}

// Validate checks c against the training set of n samples before anything
// is trained or allocated.
func (c CorrelateConfig) Validate(n int) error {
	if c.Samples < 10 || c.Samples > n {
		return fmt.Errorf("--samples must be in [10, %d] (the training samples), got %d", n, c.Samples)
	}
	if c.TimingSteps < 1 || c.TimingSteps > MaxTimingSteps {
		return fmt.Errorf("--timing-steps must be in [1, %d], got %d", MaxTimingSteps, c.TimingSteps)
	}
	// Three values per sample scored, two durations per timed step.
	if err := limits.Check("--samples", int64(c.Samples), 3*8+8); err != nil {
		return err
	}
	return nil
}

// Correlate trains c.Run, then scores c.Samples training samples drawn
// without replacement by a generator seeded from the run's seed, and
// compares loss and last-layer norm with the exact gradient norm.
//
// Every loop checks ctx between steps: a cancelled ctx stops it at once
// with an error wrapping ctx.Err().
func Correlate(ctx context.Context, c CorrelateConfig, d *run.Data, h run.Hooks, log io.Writer) (*CorrelateResult, error) {
	if err := c.Validate(d.Train.N); err != nil {
		return nil, err
	}
	rc := c.Run
	if rc.EvalEvery == 0 {
		// The training before the correlation needs no time-to-accuracy
		// curve: evaluate at epoch ends only (the grid's one point is the end).
		rc.EvalEvery = rc.Epochs * d.Train.N
	}
	t, net, err := run.Train(ctx, rc, d, nil, h)
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
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("interrupted while scoring samples: %w", err)
		}
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
	res.Agreement = agreement("the loss", res.Loss, res.GradNorm)
	res.LastLayer = agreement("the last-layer norm", res.LastNorm, res.GradNorm)
	fmt.Fprintf(log, "timing the norms against a training step (%d batches)\n", c.TimingSteps)
	params, err := net.Params()
	if err != nil {
		return nil, err
	}
	if res.Timing, err = timeNorms(ctx, c, d, params, res.Indices); err != nil {
		return nil, err
	}
	return res, nil
}

// agreement compares the score x (named what) with the gradient norms,
// and says why each statistic that is not a number is undefined.
func agreement(what string, x, norm []float64) Agreement {
	a := Agreement{Spearman: Num(Spearman(x, norm)), Pearson: Num(Pearson(x, norm)), PearsonLog: Num(PearsonLog(x, norm)),
		Top10Overlap: Num(TopOverlap(x, norm, 0.10))}
	n := len(x)
	constant := func(v []float64) bool {
		for _, e := range v {
			if e != v[0] {
				return false
			}
		}
		return true
	}
	why := func(u, v []float64, uName string) string {
		switch {
		case len(u) < 2:
			return fmt.Sprintf("needs at least 2 samples, there are %d", len(u))
		case hasNonFinite(u):
			return uName + " is not finite for some samples"
		case hasNonFinite(v):
			return "the gradient norm is not finite for some samples"
		case constant(u):
			return fmt.Sprintf("%s is the same for all %d samples (no variance to correlate)", uName, len(u))
		case constant(v):
			return fmt.Sprintf("the gradient norm is the same for all %d samples (no variance to correlate)", len(v))
		}
		return "not a number"
	}
	und := map[string]string{}
	if !finite(a.Spearman) {
		und["spearman"] = why(x, norm, what)
	}
	if !finite(a.Pearson) {
		und["pearson"] = why(x, norm, what)
	}
	if !finite(a.PearsonLog) {
		var lx, ly []float64
		for i := range x {
			if x[i] > 0 && y(norm, i) > 0 {
				lx, ly = append(lx, math.Log(x[i])), append(ly, math.Log(norm[i]))
			}
		}
		if len(lx) < 2 {
			und["pearson_log"] = fmt.Sprintf("needs at least 2 samples where both %s and the gradient norm are > 0, there are %d", what, len(lx))
		} else {
			und["pearson_log"] = "of the logarithms: " + why(lx, ly, "the log of "+what)
		}
	}
	if !finite(a.Top10Overlap) {
		und["top10_overlap"] = fmt.Sprintf("needs at least 5 samples (the top 10%% of %d is empty)", n)
	}
	if len(und) > 0 {
		a.Undefined = und
	}
	return a
}

func y(v []float64, i int) float64 { return v[i] }

func finite(s Num) bool { return !math.IsNaN(float64(s)) && !math.IsInf(float64(s), 0) }

func hasNonFinite(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return true
		}
	}
	return false
}

// timeNorms times plain steps against steps with gradient norms, on two
// fresh Nets with the trained parameters, interleaved batch by batch, and
// one batch of brute-force per-sample backward passes.
func timeNorms(ctx context.Context, c CorrelateConfig, d *run.Data, params []engine.Param, idx []int) (CorrelateTiming, error) {
	plainCfg, normCfg := c.Run, c.Run
	plainCfg.Score, normCfg.Score = "loss", "gradnorm"
	plain, err := run.NewNetFor(plainCfg, d, params)
	if err != nil {
		return CorrelateTiming{}, err
	}
	defer plain.Close()
	withNorms, err := run.NewNetFor(normCfg, d, params)
	if err != nil {
		return CorrelateTiming{}, err
	}
	defer withNorms.Close()
	B := c.Run.Batch
	batch := engine.NewBatch(B, d.Train.Pixels())
	var ts, tn []float64
	for s := 0; s < c.TimingSteps+2; s++ {
		if err := ctx.Err(); err != nil {
			return CorrelateTiming{}, fmt.Errorf("interrupted while timing the norms (step %d of %d): %w", s+1, c.TimingSteps+2, err)
		}
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
	tm.NormsOverStep = Num(tm.NormStepSeconds / tm.StepSeconds)
	// Brute force: one backward pass per sample of one batch.
	one := *batch
	one.Weights = make([]float32, B)
	t0 := time.Now()
	for i := 0; i < batch.N; i++ {
		if err := ctx.Err(); err != nil {
			return CorrelateTiming{}, fmt.Errorf("interrupted while timing the brute-force norms: %w", err)
		}
		clear(one.Weights)
		one.Weights[i] = 1
		if _, _, err := plain.Gradients(&one); err != nil {
			return CorrelateTiming{}, err
		}
	}
	tm.BruteSeconds = time.Since(t0).Seconds()
	tm.BruteOverStep = Num(tm.BruteSeconds / tm.StepSeconds)
	return tm, nil
}

// WriteCorrelate writes correlate.json and the two plots into dir.
func WriteCorrelate(res *CorrelateResult, dir string) error {
	if err := atomicfile.WriteJSON(filepath.Join(dir, "correlate.json"), res); err != nil {
		return err
	}
	rank := Ranks(res.GradNorm)
	if err := plotSafely(filepath.Join(dir, "loss_by_gradnorm_rank.png"), 7*vg.Inch, 4.5*vg.Inch, func() (*plot.Plot, error) {
		return scatterPlot(fmt.Sprintf("%s after %d epoch(s): loss by gradient-norm rank (Spearman %.3f)", res.Config.Run.Model, res.Config.Run.Epochs, res.Spearman),
			"rank of the per-sample gradient norm (ascending)", "loss L_i", rank, res.Loss, false, logScalable(res.Loss))
	}); err != nil {
		return err
	}
	return plotSafely(filepath.Join(dir, "loss_vs_gradnorm.png"), 6*vg.Inch, 5*vg.Inch, func() (*plot.Plot, error) {
		return scatterPlot(fmt.Sprintf("loss against gradient norm (Pearson of logs %.3f)", res.PearsonLog),
			"per-sample gradient norm", "loss L_i", res.GradNorm, res.Loss, logScalable(res.GradNorm), logScalable(res.Loss))
	})
}

// logScalable reports whether v can be drawn on a log axis: at least two
// distinct finite positive values (gonum's log ticks panic otherwise).
func logScalable(v []float64) bool {
	first := math.NaN()
	for _, x := range v {
		if x > 0 && !math.IsInf(x, 0) {
			if math.IsNaN(first) {
				first = x
			} else if x != first {
				return true
			}
		}
	}
	return false
}

// plotSafely draws the plot make returns into path; a panic of the
// plotting library on degenerate data becomes an error naming the file.
func plotSafely(path string, w, h vg.Length, make func() (*plot.Plot, error)) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plotting %s: %v", path, r)
		}
	}()
	p, err := make()
	if err != nil {
		return fmt.Errorf("plotting %s: %w", path, err)
	}
	return savePNG(p, path, w, h)
}

// CorrelateTable is the printed summary; an undefined statistic is
// printed as NaN and explained below the table.
func CorrelateTable(res *CorrelateResult) string {
	t := res.Timing
	return correlateTable(res, t) + undefinedNotes(res)
}

// undefinedNotes explains the undefined statistics of res, one per line.
func undefinedNotes(res *CorrelateResult) string {
	var b strings.Builder
	for _, a := range []struct {
		name string
		u    map[string]string
	}{{"loss", res.Undefined}, {"last-layer norm", res.LastLayer.Undefined}} {
		keys := make([]string, 0, len(a.u))
		for k := range a.u {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "undefined: %s %s: %s (null in correlate.json)\n", a.name, k, a.u[k])
		}
	}
	return b.String()
}

func correlateTable(res *CorrelateResult, t CorrelateTiming) string {
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
