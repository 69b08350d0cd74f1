package bench

import (
	"math"
	"strings"
	"testing"

	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/training"
)

// TestBudgetSummary: methods expanded per budget are summarised per
// budget, paired against the baseline at the same budget, and the
// smallest budget reaching a target is the first whose mean does.
func TestBudgetSummary(t *testing.T) {
	ms := ExpandBudgets([]run.Method{{Name: "u", Sampling: run.Sampling{Sampler: "uniform"}}, {Name: "s", Sampling: run.Sampling{Sampler: "sgds"}}}, []float64{0.5, 1})
	if len(ms) != 4 || ms[1].Name != "u-b1" || ms[1].Group != "u" || ms[1].Budget != 1 || ms[2].Name != "s-b0.5" {
		t.Fatalf("expanded %+v", ms)
	}
	acc := map[string][]float64{"u-b0.5": {0.80, 0.82, 0.81}, "u-b1": {0.90, 0.91, 0.92}, "s-b0.5": {0.85, 0.86, 0.87}, "s-b1": {0.90, 0.92, 0.92}}
	res := &CompareResult{TrainSamples: 100, Config: CompareConfig{Seeds: []uint64{1, 2, 3}, Targets: []float64{0.85, 0.95},
		Methods: ms, Baselines: []string{"u-b1"}, Budgets: []float64{0.5, 1}, Base: run.Config{Epochs: 2}}}
	for si, seed := range res.Config.Seeds {
		for _, m := range ms {
			res.Runs = append(res.Runs, &RunResult{Method: m.Name, Seed: seed, Done: true,
				Epochs: []training.EpochMetrics{{Epoch: 1, TestAcc: acc[m.Name][si], TrainSeconds: 1}}})
		}
	}
	rows := res.SummariseBudgets()
	if len(rows) != 2 || rows[1].Method != "s" {
		t.Fatalf("rows %+v", rows)
	}
	s05 := rows[1].Cells[0]
	if math.Abs(s05.FinalTestAcc.Mean-0.86) > 1e-12 || math.Abs(s05.VsBaseline["u"].Mean-0.05) > 1e-12 || s05.VsBaseline["u"].N != 3 {
		t.Errorf("s at 0.5: %+v", s05)
	}
	if rows[1].Reaches["0.85"] != 0.5 || rows[0].Reaches["0.85"] != 1 {
		t.Errorf("smallest budgets: u %v, s %v", rows[0].Reaches, rows[1].Reaches)
	}
	if _, ok := rows[0].Reaches["0.95"]; ok {
		t.Errorf("0.95 reached by u: %v", rows[0].Reaches)
	}
	md := BudgetMarkdown(res)
	for _, want := range []string{"| s | 0.8600 [", "minus u's at the same budget", "| s | 0.5 (1.0 s) | not reached |"} {
		if !strings.Contains(md, want) {
			t.Errorf("budget tables lack %q:\n%s", want, md)
		}
	}
	if err := PlotBudgets(res, t.TempDir(), DefaultPlotOptions()); err != nil {
		t.Fatal(err)
	}
}

// TestClock: on the stays-above clock a run that touches a target and
// falls back counts from the point after which it stays above; on the
// first-crossing clock from the touch.
func TestClock(t *testing.T) {
	var evals []training.GridEval
	for i, a := range []float64{0.91, 0.85, 0.92, 0.93} {
		a := a
		evals = append(evals, training.GridEval{GridSamples: int64(10 * (i + 1)), SamplesSeen: int64(10 * (i + 1)), Epoch: 1, TestAcc: &a})
	}
	r := &RunResult{Evals: evals, Targets: []training.TargetHit{{Target: 0.9, Epoch: 1, GridSamples: 10, SamplesSeen: 10}}}
	if h, ok := r.hit(0.9, "first"); !ok || h.GridSamples != 10 {
		t.Errorf("first crossing: %+v", h)
	}
	if h, ok := r.hit(0.9, "stays"); !ok || h.GridSamples != 30 {
		t.Errorf("stays above (computed from the evaluations): %+v", h)
	}
}

// TestMergeRefuses: shards of different comparisons, a shard given twice
// and a comparison that is not a shard are refused.
func TestMergeRefuses(t *testing.T) {
	part := func(k, n int, seeds ...uint64) *CompareResult {
		return &CompareResult{Config: CompareConfig{Seeds: seeds, Shard: &Shard{K: k, N: n}}}
	}
	for name, parts := range map[string][]*CompareResult{
		"another comparison": {part(1, 2, 1), part(2, 2, 2)},
		"given twice":        {part(1, 2, 1), part(1, 2, 1)},
		"not a shard":        {{Config: CompareConfig{Seeds: []uint64{1}}}},
		"other N":            {part(1, 2, 1), part(2, 3, 1)},
	} {
		if _, err := Merge(parts); err == nil {
			t.Errorf("%s: merged", name)
		}
	}
	if !(&Shard{K: 2, N: 3}).Owns(4) || (&Shard{K: 2, N: 3}).Owns(3) || !(*Shard)(nil).Owns(7) {
		t.Error("Owns")
	}
}

// TestMergeTuneRefuses: tuning runs that are not shards, or shards of
// different tuning runs, are refused.
func TestMergeTuneRefuses(t *testing.T) {
	part := func(k, n int, lr float64) *TuneResult {
		return &TuneResult{Complete: true, Config: TuneConfig{LRs: []float64{lr}, Shard: &Shard{K: k, N: n}}}
	}
	for name, parts := range map[string][]*TuneResult{
		"not a shard": {{Complete: true}},
		"another run": {part(1, 2, 0.1), part(2, 2, 0.2)},
		"twice":       {part(1, 2, 0.1), part(1, 2, 0.1)},
		"missing":     {part(1, 2, 0.1)},
	} {
		if _, err := MergeTune(parts); err == nil {
			t.Errorf("%s: merged", name)
		}
	}
}
