package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/training"
)

// valueRange is the range a column's values and interval ends must lie in;
// open excludes lo itself (a time or a speedup is positive).
type valueRange struct {
	lo, hi float64
	open   bool
}

func (r valueRange) holds(v float64) bool {
	if r.open && v <= r.lo {
		return false
	}
	return v >= r.lo && v <= r.hi
}

var (
	unitRange     = valueRange{0, 1, false}
	gapRange      = valueRange{-1, 1, false}
	positiveRange = valueRange{0, math.Inf(1), true}
	countRange    = valueRange{0, math.Inf(1), false}
)

// storedRanges is the range of every interval compare.json stores, by its
// key. A new interval without an entry fails TestIntervalsRespectRanges.
var storedRanges = map[string]valueRange{
	"final_test_acc": unitRange, "best_test_acc": unitRange, "epoch_fraction_final": unitRange,
	"final_gap_vs_baseline": gapRange, "worst_dip_vs_baseline": gapRange,
	"train_seconds": positiveRange, "cost_per_sample_seconds": positiveRange, "split_seconds": positiveRange,
	"grid_samples": positiveRange, "exact": positiveRange,
	"samples_seen": countRange, "forward_samples": countRange, "backward_samples": countRange, "grid_eval_share": countRange,
}

// printedRange returns the range of a compare.md column by its header, and
// false for a column that prints no numbers with intervals.
func printedRange(t *testing.T, header string) (valueRange, bool) {
	switch {
	case header == "method" || header == "sampler" || header == "lr" || header == "momentum" || header == "batch" || header == "reached":
		return valueRange{}, false
	case header == "final test acc" || header == "best test acc" || header == "data per epoch at end":
		return unitRange, true
	case strings.HasPrefix(header, "final − ") || strings.HasPrefix(header, "worst dip below "):
		return gapRange, true
	case header == "train s" || header == "cost per sample µs" || header == "time to target s (samples × cost)" ||
		header == "wall clock s at target" || strings.HasPrefix(header, "speedup over ") ||
		header == "(samples × cost)" || header == "(wall clock)":
		return positiveRange, true
	case header == "samples seen (backward)" || header == "forward samples" || header == "samples to target" || header == "grid eval / train time":
		return countRange, true
	}
	t.Fatalf("compare.md column %q has no range in printedRange", header)
	return valueRange{}, false
}

// syntheticCompare builds a finished comparison of three methods over n
// seeds, each run drawn from rng with a wide spread between seeds (times
// and counts over two orders of magnitude, accuracies from 0.55 to 1), the
// case where t intervals on the linear scale run out of range.
func syntheticCompare(n int, rng *rand.Rand) *CompareResult {
	const E, N, grid = 3, 1000, 250
	base := smallRun()
	base.Epochs, base.EvalEvery = E, grid
	c := CompareConfig{Base: base, Targets: []float64{0.6, 0.9, 0.99}, Baselines: []string{"b", "m1"},
		Methods: []run.Method{{Name: "b", Sampling: run.Sampling{Sampler: "uniform"}, LR: 0.01, Batch: 50}, {Name: "m1", Sampling: run.Sampling{Sampler: "uniform"}, LR: 0.01, Batch: 50},
			{Name: "m2", Sampling: run.Sampling{Sampler: "uniform"}, LR: 0.01, Batch: 50}}}
	for s := range n {
		c.Seeds = append(c.Seeds, uint64(s+1))
	}
	res := &CompareResult{Config: c, TrainSamples: N, TargetOn: "test", Complete: true}
	for _, seed := range c.Seeds {
		for _, m := range c.Methods {
			r := &RunResult{Method: m.Name, Seed: seed, Done: true}
			scale := math.Pow(100, rng.Float64()) // the machine's speed on this run
			final := 0.55 + 0.45*rng.Float64()
			if seed == 1 {
				final = 0.999 // next to the bound
			}
			keep := func(e int) int {
				if m.Name == "b" {
					return N
				}
				return N / e
			}
			total := int64(0)
			for e := 1; e <= E; e++ {
				total += int64(keep(e))
			}
			secs, seen := 0.0, int64(0)
			for e := 1; e <= E; e++ {
				kept := keep(e)
				for g := seen/grid + 1; int64(g)*grid <= seen+int64(kept); g++ {
					acc := final * float64(int64(g)*grid) / float64(total)
					r.Evals = append(r.Evals, training.GridEval{GridSamples: int64(g) * grid, SamplesSeen: int64(g) * grid, Epoch: e,
						TrainSeconds: secs + scale*1e-3*float64(int64(g)*grid-seen), TestAcc: &acc, EvalSeconds: 0.01 * scale})
				}
				secs += scale * 1e-3 * float64(kept) * (1 + rng.Float64())
				seen += int64(kept)
				acc := final * float64(seen) / float64(total)
				r.Epochs = append(r.Epochs, training.EpochMetrics{Epoch: e, TestAcc: acc, TrainSeconds: secs, SamplesSeen: seen,
					ForwardSamples: 2 * seen, BackwardSamples: seen, EpochSamples: kept})
			}
			for _, tg := range c.Targets {
				h := training.TargetHit{Target: tg}
				for _, ev := range r.Evals {
					if ev.Acc() >= tg {
						h = training.TargetHit{Target: tg, Epoch: ev.Epoch, GridSamples: ev.GridSamples, SamplesSeen: ev.SamplesSeen, TrainSeconds: ev.TrainSeconds}
						break
					}
				}
				r.Targets = append(r.Targets, h)
			}
			res.Runs = append(res.Runs, r)
		}
	}
	res.Summarise()
	return res
}

// checkStored walks compare.json's summary and checks every interval
// against the range of its key.
func checkStored(t *testing.T, v any, key string, seen map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["ci95_lo"]; ok {
			r, known := storedRanges[key]
			if !known {
				t.Fatalf("stored interval %q has no range in storedRanges", key)
			}
			seen[key] = true
			for _, f := range []string{"mean", "ci95_lo", "ci95_hi"} {
				if num, ok := x[f].(float64); ok && !r.holds(num) {
					t.Errorf("stored %s.%s = %v, outside %+v", key, f, num, r)
				}
			}
			lo, okL := x["ci95_lo"].(float64)
			hi, okH := x["ci95_hi"].(float64)
			mean, okM := x["mean"].(float64)
			if okL && okH && okM && !(lo <= mean && mean <= hi) {
				t.Errorf("stored %s: mean %v outside [%v, %v]", key, mean, lo, hi)
			}
			return
		}
		for k, e := range x {
			if k == "bound_mean" {
				if num := e.(float64); !(num > 0) {
					t.Errorf("bound_mean %v", num)
				}
			}
			checkStored(t, e, k, seen)
		}
	case []any:
		for _, e := range x {
			checkStored(t, e, key, seen)
		}
	}
}

var (
	cellInterval = regexp.MustCompile(`([-+]?\d+(?:\.\d+)?)(?:×)? \[([-+]?\d+(?:\.\d+)?(?:e-\d+)?), ([-+]?\d+(?:\.\d+)?)\]`)
	cellBound    = regexp.MustCompile(`[<>] ([-+]?\d+(?:\.\d+)?)×`)
)

// checkPrinted parses every table of compare.md and checks each interval
// and bound it prints against its column's range; it returns the number
// of intervals checked.
func checkPrinted(t *testing.T, md string) int {
	var header []string
	checked := 0
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			header = nil
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if header == nil {
			header = cells
			continue
		}
		if strings.HasPrefix(cells[0], "---") {
			continue
		}
		if len(cells) != len(header) {
			t.Fatalf("row of %d cells under %d headers: %s", len(cells), len(header), line)
		}
		for i, cell := range cells {
			r, has := printedRange(t, header[i])
			ivs, bounds := cellInterval.FindAllStringSubmatch(cell, -1), cellBound.FindAllStringSubmatch(cell, -1)
			if !has {
				if len(ivs) > 0 {
					t.Errorf("column %q prints an interval: %q", header[i], cell)
				}
				continue
			}
			for _, m := range ivs {
				mean, _ := strconv.ParseFloat(m[1], 64)
				lo, _ := strconv.ParseFloat(m[2], 64)
				hi, _ := strconv.ParseFloat(m[3], 64)
				if !r.holds(lo) || !r.holds(hi) || !(lo <= mean && mean <= hi) {
					t.Errorf("column %q: %q outside %+v", header[i], m[0], r)
				}
				checked++
			}
			for _, m := range bounds {
				if v, _ := strconv.ParseFloat(m[1], 64); !r.holds(v) {
					t.Errorf("column %q: bound %q outside %+v", header[i], m[0], r)
				}
			}
		}
	}
	return checked
}

// TestIntervalsRespectRanges checks, for 2, 3 and 5 seeds of synthetic
// runs spread widely between seeds, that no interval stored in
// compare.json or printed in any column of compare.md leaves its
// quantity's range, that every stored kind of interval occurs, and that
// fewer than 3 seeds are said to give indicative intervals only.
func TestIntervalsRespectRanges(t *testing.T) {
	for _, n := range []int{2, 3, 5} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			res := syntheticCompare(n, rand.New(rand.NewPCG(uint64(n), 22)))
			b, err := json.Marshal(res.Summary)
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			checkStored(t, v, "", seen)
			for k := range storedRanges {
				if !seen[k] {
					t.Errorf("no stored interval %q was checked", k)
				}
			}
			md := CompareMarkdown(res)
			if got := checkPrinted(t, md); got < 20 {
				t.Errorf("only %d printed intervals checked:\n%s", got, md)
			}
			if indicative := strings.Contains(md, "n = 2: intervals are indicative only"); indicative != (n == 2) {
				t.Errorf("n = %d: indicative-only line %v:\n%s", n, indicative, md)
			}
			for _, bands := range [][]Band{gridBands(res, false), gridBands(res, true), fractionBands(res)} {
				for _, band := range bands {
					for j := range band.X {
						if band.Lo[j] < 0 || band.Hi[j] > 1 {
							t.Fatalf("plot band %s: [%v, %v] at %v", band.Name, band.Lo[j], band.Hi[j], band.X[j])
						}
					}
				}
			}
		})
	}
}

// TestLinearIntervalsWouldFail checks that the synthetic runs above are a
// test that can fail: t intervals on the linear scale over the same values
// leave the range of accuracies and of times at n = 2.
func TestLinearIntervalsWouldFail(t *testing.T) {
	res := syntheticCompare(2, rand.New(rand.NewPCG(2, 22)))
	var acc, secs []float64
	for _, r := range res.Runs {
		if r.Method == "b" {
			acc = append(acc, r.Epochs[len(r.Epochs)-1].TestAcc)
			secs = append(secs, r.Epochs[len(r.Epochs)-1].TrainSeconds)
		}
	}
	if a, s := MeanCI(acc), MeanCI(secs); a.Hi <= 1 || s.Lo >= 0 {
		t.Fatalf("linear intervals stay in range (accuracy %+v, seconds %+v): the synthetic spread is too small", a, s)
	}
}

// TestGeoMeanCI checks the log-scale interval against a hand computation:
// for 1, 4 and 16 the logs are 0, ln 4, 2 ln 4 (mean ln 4, sd ln 4), so
// the geometric mean is 4 and the interval 4·exp(∓t(0.975, 2)·ln 4/√3),
// t(0.975, 2) = 4.302653.
func TestGeoMeanCI(t *testing.T) {
	iv := GeoMeanCI([]float64{1, 4, 16})
	half := 4.302653 * math.Log(4) / math.Sqrt(3)
	if iv.Scale != ScaleLog || math.Abs(iv.Mean-4) > 1e-12 || math.Abs(iv.Lo-4*math.Exp(-half)) > 1e-5 || math.Abs(iv.Hi-4*math.Exp(half)) > 1e-4 {
		t.Fatalf("interval %+v, want 4 [%v, %v]", iv, 4*math.Exp(-half), 4*math.Exp(half))
	}
	if z := GeoMeanCI([]float64{0, 2}); z.Scale != "" || z.Mean != 1 || z.Lo != 0 {
		t.Fatalf("with a zero: %+v, want the mean 1 with its interval cut at 0", z)
	}
	b, err := json.Marshal(iv)
	var back Interval
	if err != nil || json.Unmarshal(b, &back) != nil || back != iv {
		t.Fatalf("round trip %s: %+v, %v", b, back, err)
	}
	if bd := BoundedMeanCI([]float64{0.99, 0.6}, 0, 1); bd.Hi != 1 || bd.Lo != 0 || math.Abs(bd.Mean-0.795) > 1e-12 {
		t.Fatalf("bounded %+v", bd)
	}
}

// TestTimeSplit checks cost per sample (the median over epochs) and time
// to target = samples to target × cost per sample, with its speedup.
func TestTimeSplit(t *testing.T) {
	ep := func(e int, secs float64, seen int64) training.EpochMetrics {
		return training.EpochMetrics{Epoch: e, TrainSeconds: secs, SamplesSeen: seen, EpochSamples: 100, TestAcc: 0.9}
	}
	// Epoch costs 1, 5 (a slow machine) and 2 ms per sample: median 2 ms.
	m := &RunResult{Method: "m", Seed: 1, Done: true, Epochs: []training.EpochMetrics{ep(1, 0.1, 100), ep(2, 0.6, 200), ep(3, 0.8, 300)},
		Targets: []training.TargetHit{{Target: 0.9, Epoch: 2, GridSamples: 150, SamplesSeen: 150, TrainSeconds: 0.5}}}
	// The baseline: 4 ms per sample in every epoch, target at 300 samples.
	b := &RunResult{Method: "b", Seed: 1, Done: true, Epochs: []training.EpochMetrics{ep(1, 0.4, 100), ep(2, 0.8, 200), ep(3, 1.2, 300)},
		Targets: []training.TargetHit{{Target: 0.9, Epoch: 3, GridSamples: 300, SamplesSeen: 300, TrainSeconds: 1.2}}}
	if c := m.costPerSample(); math.Abs(c-0.002) > 1e-12 {
		t.Fatalf("cost per sample %v, want the median 0.002", c)
	}
	res := &CompareResult{TrainSamples: 100, Config: CompareConfig{Seeds: []uint64{1}, Targets: []float64{0.9}, Baselines: []string{"b"},
		Methods: []run.Method{{Name: "b"}, {Name: "m"}}}, Runs: []*RunResult{b, m}}
	res.Summarise()
	ts := res.Method("m").Targets[0]
	if math.Abs(ts.SplitSeconds.Mean-0.3) > 1e-12 || ts.TrainSeconds.Mean != 0.5 {
		t.Fatalf("time to target %v from the split (want 150 × 0.002 = 0.3), wall clock %v", ts.SplitSeconds.Mean, ts.TrainSeconds.Mean)
	}
	// Speedups: samples 300/150 = 2, split (300·0.004)/(150·0.002) = 4,
	// wall clock 1.2/0.5 = 2.4.
	sp := ts.Speedups[0]
	if math.Abs(sp.Samples.Exact.Mean-2) > 1e-12 || math.Abs(sp.Split.Exact.Mean-4) > 1e-12 || math.Abs(sp.Time.Exact.Mean-2.4) > 1e-12 {
		t.Fatalf("speedups: samples %v, split %v, wall %v", sp.Samples.Exact.Mean, sp.Split.Exact.Mean, sp.Time.Exact.Mean)
	}
	if md := CompareMarkdown(res); !strings.Contains(md, "| m | 1/1 | 150 | 0.3 | 0.5 | 2.00× | 4.00× | 2.40× |") || !strings.Contains(md, "n = 1: no intervals") {
		t.Fatalf("compare.md:\n%s", md)
	}
}
