package bench

import (
	"context"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/training"
)

func mustMethods(t *testing.T, base run.Config, specs ...string) []run.Method {
	t.Helper()
	var ms []run.Method
	for _, s := range specs {
		m, err := run.ParseMethod(s, base, nil)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return ms
}

func smallCompare(t *testing.T) CompareConfig {
	base := smallRun()
	return CompareConfig{Base: base, Seeds: []uint64{1, 2}, Targets: []float64{0.5, 0.999},
		Methods:   mustMethods(t, base, "uniform", "rs2:frac=0.5", "sgds", "u-fast:sampler=uniform,lr=0.1,momentum=0.9"),
		Baselines: []string{"uniform", "rs2"}}
}

// TestCompareEndToEnd runs four methods on 1,280 real images (256 more
// held out) for 3 epochs: every method is evaluated on the same grid points,
// the report's bookkeeping holds, and the files are written and read back.
func TestCompareEndToEnd(t *testing.T) {
	d := smallData(t, 1280)
	c := smallCompare(t)
	c.Parallel = 2
	var mu sync.Mutex
	saves, events := 0, 0
	res, err := Compare(context.Background(), c, d, CompareOptions{
		Save:     func(*CompareResult) error { mu.Lock(); saves++; mu.Unlock(); return nil },
		Progress: func(ev ProgressEvent) { mu.Lock(); events++; mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs := 2 * 4; len(res.Runs) != runs || saves != runs*3+2 || events != runs*3 || !res.Complete || res.TargetOn != "val" {
		t.Fatalf("%d runs, %d saves, %d progress events, complete %v, targets on %s", len(res.Runs), saves, events, res.Complete, res.TargetOn)
	}
	if g := res.Config.Base.EvalEvery; g != training.DefaultEvalEvery(1280, 64) || g != 192 {
		t.Fatalf("grid every %d", g)
	}
	for _, r := range res.Runs {
		if !r.Done || len(r.Epochs) != 3 || len(r.Targets) != 2 || r.Targets[1].Reached() {
			t.Fatalf("%s seed %d: done %v, %d epochs, targets %+v", r.Method, r.Seed, r.Done, len(r.Epochs), r.Targets)
		}
		last := r.Epochs[2].SamplesSeen
		if int64(len(r.Evals)) != last/192 {
			t.Fatalf("%s seed %d: %d grid evaluations for %d samples", r.Method, r.Seed, len(r.Evals), last)
		}
		for k, e := range r.Evals {
			if e.GridSamples != int64(192*(k+1)) || e.ValAcc == nil {
				t.Fatalf("%s seed %d: evaluation %d at %d", r.Method, r.Seed, k, e.GridSamples)
			}
		}
	}
	// Same initial weights per seed: the first step of uniform and SGD-S
	// (whose transient epoch is uniform) is the same, so is the first grid point.
	u, s := res.Run("uniform", 2), res.Run("sgds", 2)
	if u.Epochs[0].TrainLoss != s.Epochs[0].TrainLoss || *u.Evals[0].ValAcc != *s.Evals[0].ValAcc {
		t.Fatalf("transient epochs differ: %+v vs %+v", u.Epochs[0], s.Epochs[0])
	}
	us := res.Method("uniform")
	if sp := us.Targets[0].Speedups[0]; sp.Baseline != "uniform" || sp.Time.Exact.N != 2 || sp.Time.Exact.Mean != 1 || sp.Samples.Exact.Mean != 1 {
		t.Fatalf("uniform's speedup over itself %+v", sp)
	}
	if f := res.Method("rs2").EpochFraction; math.Abs(f.Mean-0.5) > 1e-9 {
		t.Fatalf("rs2 visits %v of the data per epoch", f.Mean)
	}
	dir := t.TempDir()
	if err := WriteCompare(res, dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range CompareFiles {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", f, err)
		}
	}
	back, err := ReadCompare(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Runs) != 8 || back.Method("sgds").FinalTestAcc != res.Method("sgds").FinalTestAcc {
		t.Fatalf("read back %d runs, sgds %+v", len(back.Runs), back.Method("sgds"))
	}
	md := CompareMarkdown(res)
	for _, want := range []string{"### Target 0.999", "not reached in 3 epochs", "neither reached in 3 epochs", "speedup over rs2 (samples)", "n = 2: intervals are indicative only", "rs2 (frac 0.5)"} {
		if !strings.Contains(md, want) {
			t.Fatalf("compare.md lacks %q:\n%s", want, md)
		}
	}
}

// TestCompareResume stops a comparison inside its second seed, reads the
// partial compare.json, and resumes it: the first seed's finished runs are
// kept as they were, the second seed's restarted and, the runs being
// deterministic, equal to an uninterrupted comparison's.
func TestCompareResume(t *testing.T) {
	d := smallData(t, 1280)
	c := smallCompare(t)
	c.Methods = c.Methods[:2]
	c.Baselines = c.Baselines[:1]
	ref, err := Compare(context.Background(), c, d, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	_, err = Compare(ctx, c, d, CompareOptions{Save: func(r *CompareResult) error {
		if err := SaveCompare(r, dir); err != nil {
			return err
		}
		if len(r.Run("uniform", 2).Epochs) == 1 {
			cancel()
		}
		return nil
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	part, err := ReadCompare(dir)
	if err != nil {
		t.Fatal(err)
	}
	if part.Complete || !part.Run("rs2", 1).Done || part.Run("uniform", 2).Done || part.Method("uniform").Finished != 1 {
		t.Fatalf("partial result: complete %v, summary %+v", part.Complete, part.Method("uniform"))
	}
	if md := CompareMarkdown(part); !strings.Contains(md, "Partial result: 2 of 4 runs finished") {
		t.Fatalf("partial compare.md:\n%s", md)
	}
	kept := part.Run("rs2", 1).Epochs[2].TrainSeconds
	res, err := Compare(context.Background(), part.Config, d, CompareOptions{Previous: part})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete || res.Run("rs2", 1).Epochs[2].TrainSeconds != kept {
		t.Fatalf("complete %v; the finished run was retrained", res.Complete)
	}
	for _, r := range ref.Runs {
		got := res.Run(r.Method, r.Seed)
		for k := range r.Evals {
			if *got.Evals[k].ValAcc != *r.Evals[k].ValAcc || got.Evals[k].GridSamples != r.Evals[k].GridSamples {
				t.Fatalf("%s seed %d evaluation %d: %v after resuming, %v uninterrupted", r.Method, r.Seed, k, *got.Evals[k].ValAcc, *r.Evals[k].ValAcc)
			}
		}
	}
}

// handResult is a comparison of method m against baseline b on four seeds,
// built by hand: seed 1 and 2 both reach 0.9 (b at 10 s and 8 s, m at 4 s
// and 5 s), seed 3 only b (at 12 s; m trains 3 s in all), seed 4 only m (at
// 2 s; b trains 20 s in all).
func handResult() *CompareResult {
	base := smallRun()
	hit := func(secs float64, grid int64) training.TargetHit {
		return training.TargetHit{Target: 0.9, Epoch: 1, GridSamples: grid, SamplesSeen: grid, TrainSeconds: secs}
	}
	runOf := func(name string, seed uint64, total float64, seen int64, h training.TargetHit) *RunResult {
		return &RunResult{Method: name, Seed: seed, Done: true, Targets: []training.TargetHit{h},
			Epochs: []training.EpochMetrics{{Epoch: 1, TrainSeconds: total, SamplesSeen: seen, EpochSamples: int(seen), TestAcc: 0.9}}}
	}
	none := training.TargetHit{Target: 0.9}
	res := &CompareResult{TrainSamples: 1000, Config: CompareConfig{Base: base, Seeds: []uint64{1, 2, 3, 4}, Targets: []float64{0.9},
		Methods: []run.Method{{Name: "b", Sampling: run.Sampling{Sampler: "uniform"}, LR: 0.01, Batch: 64}, {Name: "m", Sampling: run.Sampling{Sampler: "uniform"}, LR: 0.01, Batch: 64}}, Baselines: []string{"b"}}}
	res.Runs = []*RunResult{
		runOf("b", 1, 30, 3000, hit(10, 1000)), runOf("m", 1, 30, 3000, hit(4, 500)),
		runOf("b", 2, 30, 3000, hit(8, 800)), runOf("m", 2, 30, 3000, hit(5, 400)),
		runOf("b", 3, 30, 3000, hit(12, 1200)), runOf("m", 3, 3, 600, none),
		runOf("b", 4, 20, 2000, none), runOf("m", 4, 30, 3000, hit(2, 100)),
	}
	return res
}

// TestSpeedupBounds checks the paired ratios and bounds of handResult.
func TestSpeedupBounds(t *testing.T) {
	res := handResult()
	res.Summarise()
	ts := res.Method("m").Targets[0]
	if ts.Reached != 3 || ts.Of != 4 || math.Abs(ts.TrainSeconds.Mean-math.Cbrt(4*5*2)) > 1e-12 {
		t.Fatalf("target summary %+v", ts)
	}
	sp := ts.Speedups[0].Time
	want := GeoMeanCI([]float64{10.0 / 4, 8.0 / 5})
	if sp.Exact != want {
		t.Fatalf("exact %+v, want %+v", sp.Exact, want)
	}
	// Seed 3: m would need more than its 3 s: speedup < 12/3 = 4. Seed 4: b
	// would need more than its 20 s: speedup > 20/2 = 10. Both directions.
	if sp.Bound != "?" || sp.PerSeed[2] != (SeedRatio{3, "<", 4}) || sp.PerSeed[3] != (SeedRatio{4, ">", 10}) {
		t.Fatalf("bounds %+v", sp)
	}
	if s := fmtRatio(sp, 5); !strings.Contains(s, "method not reached on 1, baseline on 1") {
		t.Fatalf("mixed cell %q", s)
	}
	// Without seed 4, only an upper bound remains: the geometric mean of
	// 2.5, 1.6 and 4, 2.52, is an upper bound of the geometric mean speedup.
	res.Config.Seeds = []uint64{1, 2, 3}
	res.Summarise()
	sp = res.Method("m").Targets[0].Speedups[0].Time
	if sp.Bound != "<" || math.Abs(sp.BoundMean-math.Cbrt(2.5*1.6*4)) > 1e-12 {
		t.Fatalf("upper bound %+v", sp)
	}
	if s := fmtRatio(sp, 5); s != "< 2.52× (not reached in 5 epochs on 1 of 3 seeds)" {
		t.Fatalf("upper-bound cell %q", s)
	}
	// Seeds 1, 2 and 4: a lower bound, the cube root of 2.5·1.6·10 = 3.42.
	res.Config.Seeds = []uint64{1, 2, 4}
	res.Summarise()
	sp = res.Method("m").Targets[0].Speedups[0].Time
	if s := fmtRatio(sp, 5); sp.Bound != ">" || s != "> 3.42× (baseline not reached in 5 epochs on 1 of 3 seeds)" {
		t.Fatalf("lower-bound cell %q, %+v", s, sp)
	}
	if s := fmtRatio(res.Method("m").Targets[0].Speedups[0].Samples, 5); !strings.HasPrefix(s, "> ") {
		t.Fatalf("samples cell %q", s)
	}
	// Only seed 3: the method never reached the target.
	res.Config.Seeds = []uint64{3}
	res.Summarise()
	md := CompareMarkdown(res)
	if !strings.Contains(md, "| m | 0/1 | not reached in 3 epochs |") || !strings.Contains(md, "< 4.00×") {
		t.Fatalf("compare.md:\n%s", md)
	}
}

// TestReadCompareRejects checks that a compare.json that does not describe
// its runs is refused.
func TestReadCompareRejects(t *testing.T) {
	res := handResult()
	res.Config.Base.EvalEvery = 128
	res.Config.Base.Sampler = ""
	for name, spoil := range map[string]func(r *CompareResult){
		"run missing":    func(r *CompareResult) { r.Runs = r.Runs[1:] },
		"runs swapped":   func(r *CompareResult) { r.Runs[0], r.Runs[1] = r.Runs[1], r.Runs[0] },
		"no grid":        func(r *CompareResult) { r.Config.Base.EvalEvery = 0 },
		"bad baseline":   func(r *CompareResult) { r.Config.Baselines = []string{"x"} },
		"short and done": func(r *CompareResult) { r.Config.Base.Epochs = 3 },
	} {
		t.Run(name, func(t *testing.T) {
			r := handResult()
			r.Config.Base.EvalEvery = 128
			r.Config.Base.Epochs = 1
			spoil(r)
			dir := t.TempDir()
			if err := SaveCompare(r, dir); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadCompare(dir); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	dir := t.TempDir()
	res.Config.Base.Epochs = 1
	if err := SaveCompare(res, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCompare(dir); err != nil {
		t.Fatalf("valid result refused: %v", err)
	}
}

// TestWorstDip checks the dip below the first baseline: only grid points
// after the first pass that both runs evaluated count, paired by seed.
func TestWorstDip(t *testing.T) {
	acc := func(v float64) *float64 { return &v }
	mk := func(method string, seed uint64, final float64, grid map[int64]float64) *RunResult {
		r := &RunResult{Method: method, Seed: seed, Done: true, Epochs: []training.EpochMetrics{{Epoch: 1, TestAcc: final}}}
		for _, g := range slices.Sorted(maps.Keys(grid)) {
			r.Evals = append(r.Evals, training.GridEval{GridSamples: g, TestAcc: acc(grid[g])})
		}
		return r
	}
	res := &CompareResult{TrainSamples: 100, Config: CompareConfig{Seeds: []uint64{1, 2}, Baselines: []string{"b"},
		Methods: []run.Method{{Name: "b"}, {Name: "m"}}}}
	res.Runs = []*RunResult{
		// Seed 1: the dip at 50 is inside the first pass and does not
		// count; at 150 the method is 0.05 below; 250 is the method's only.
		mk("b", 1, 0.90, map[int64]float64{50: 0.9, 150: 0.85, 200: 0.88}),
		mk("m", 1, 0.91, map[int64]float64{50: 0.1, 150: 0.80, 200: 0.89, 250: 0.2}),
		// Seed 2: always ahead; the worst is +0.01.
		mk("b", 2, 0.90, map[int64]float64{150: 0.80, 200: 0.85}),
		mk("m", 2, 0.89, map[int64]float64{150: 0.81, 200: 0.87}),
	}
	res.Summarise()
	m := res.Method("m")
	if m.WorstDip == nil || m.WorstDip.N != 2 || math.Abs(m.WorstDip.Mean-(-0.05+0.01)/2) > 1e-12 {
		t.Fatalf("worst dip %+v, want the mean of −0.05 and +0.01", m.WorstDip)
	}
	if m.FinalGap == nil || math.Abs(m.FinalGap.Mean-0) > 1e-12 {
		t.Fatalf("final gap %+v, want the mean of +0.01 and −0.01", m.FinalGap)
	}
	if b := res.Method("b"); b.WorstDip != nil || b.FinalGap != nil {
		t.Fatal("the baseline has a dip below itself")
	}
	if md := CompareMarkdown(res); !strings.Contains(md, "| -0.0200 [") {
		t.Fatalf("compare.md lacks the dip:\n%s", md)
	}
}

// TestMixedBoundsWithoutPairs checks the cell of a speedup where on every
// seed only one side reached the target, in both directions.
func TestMixedBoundsWithoutPairs(t *testing.T) {
	r := Ratio{Bound: "?", PerSeed: []SeedRatio{{1, "<", 0.5}, {2, ">", 2}}}
	if s := fmtRatio(r, 5); s != "no seed where both reached it: method not reached on 1, baseline on 1" {
		t.Fatalf("cell %q", s)
	}
}
