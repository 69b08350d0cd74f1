package bench

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/sgds/sgds/internal/atomicfile"
	"github.com/sgds/sgds/internal/limits"
	"github.com/sgds/sgds/internal/provenance"
	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/training"
)

// Bins is the number of loss bins (deciles) of the patterns experiment.
const Bins = 10

// Range is an inclusive range of epochs.
type Range struct{ First, Last int }

func (r Range) String() string { return fmt.Sprintf("%d-%d", r.First, r.Last) }

// PatternRanges returns the ranges of docs/METHOD.md §2 for a run of n ≥ 2
// epochs: all epochs, epochs 2…n, and the last two, each once (for n = 2
// they are all epochs 1-2; for n = 3, epochs 2-3 are also the last two).
func PatternRanges(n int) []Range {
	var rs []Range
	for _, r := range []Range{{1, n}, {2, n}, {n - 1, n}} {
		if r.First >= 1 && r.First < r.Last && !slices.Contains(rs, r) {
			rs = append(rs, r)
		}
	}
	return rs
}

// PatternsResult is patterns.json.
type PatternsResult struct {
	Config run.Config `json:"config"`
	// Stay[shuffle][range][b] is the percent of the samples in bin b (0 =
	// highest losses) at the range's first epoch that are in bin b at every
	// epoch of the range; shuffle is "off" (sequential order) or "on".
	Stay map[string]map[string][]float64 `json:"stay"`
	// Chance[range] is the percent expected if bins were independent
	// across epochs: 100·(1/Bins)^(epochs in range − 1).
	Chance map[string]float64 `json:"chance"`
	// FinalTestAcc[shuffle] is the test accuracy after the last epoch.
	FinalTestAcc map[string]float64 `json:"final_test_acc"`
	// Provenance records what produced the result (set by the caller).
	Provenance *provenance.Provenance `json:"provenance,omitempty"`
}

// DecileBins returns, for each sample, its bin when losses are sorted in
// descending order and cut into Bins equal parts (ties by index).
func DecileBins(loss []float32) []uint8 {
	n := len(loss)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return loss[idx[a]] > loss[idx[b]] })
	bins := make([]uint8, n)
	for r, i := range idx {
		bins[i] = uint8(r * Bins / n)
	}
	return bins
}

// StayPercent computes, for each bin, the percent of samples in that bin at
// epoch r.First that are in the same bin at every epoch through r.Last.
// bins[e] are the bins at epoch e+1.
func StayPercent(bins [][]uint8, r Range) []float64 {
	out := make([]float64, Bins)
	var total, stay [Bins]int
	for i, b := range bins[r.First-1] {
		total[b]++
		ok := true
		for e := r.First; e < r.Last; e++ {
			if bins[e][i] != b {
				ok = false
				break
			}
		}
		if ok {
			stay[b]++
		}
	}
	for b := range out {
		if total[b] > 0 {
			out[b] = 100 * float64(stay[b]) / float64(total[b])
		}
	}
	return out
}

// Patterns trains c twice, with the sequential order (shuffle off) and with
// a fresh shuffle per epoch (on), from the same weights, recording every
// sample's loss from its training forward pass at its dataset index.
func Patterns(ctx context.Context, c run.Config, d *run.Data, log io.Writer) (*PatternsResult, error) {
	if c.Epochs < 2 {
		return nil, fmt.Errorf("--epochs must be ≥ 2 for patterns, got %d", c.Epochs)
	}
	if d.Train.N < Bins {
		return nil, fmt.Errorf("patterns needs at least %d training samples (one per loss decile), got %d: give a larger --subset", Bins, d.Train.N)
	}
	// Every epoch keeps a loss (float32) and a bin (uint8) per sample.
	if err := limits.Check("--epochs", int64(c.Epochs), 5*int64(d.Train.N)); err != nil {
		return nil, err
	}
	res := &PatternsResult{Config: c, Stay: map[string]map[string][]float64{}, Chance: map[string]float64{}, FinalTestAcc: map[string]float64{}}
	ranges := PatternRanges(c.Epochs)
	for _, r := range ranges {
		chance := 100.0
		for e := r.First; e < r.Last; e++ {
			chance /= Bins
		}
		res.Chance[r.String()] = chance
	}
	for _, shuffle := range []string{"off", "on"} {
		rc := c
		rc.Sampler = map[string]string{"off": "sequential", "on": "uniform"}[shuffle]
		if rc.EvalEvery == 0 {
			// Patterns reads training losses, not a time-to-accuracy curve:
			// evaluate at epoch ends only (the grid's one point is the end).
			rc.EvalEvery = c.Epochs * d.Train.N
		}
		losses := make([][]float32, c.Epochs)
		for e := range losses {
			losses[e] = make([]float32, d.Train.N)
		}
		seen := make([]int, c.Epochs)
		h := run.Hooks{
			OnStep: func(epoch int, idx []int, l []float32) {
				for i, k := range idx {
					losses[epoch-1][k] = l[i]
				}
				seen[epoch-1] += len(idx)
			},
			OnEpoch: func(_ *training.Trainer, e training.EpochMetrics) error {
				fmt.Fprintf(log, "shuffle %-3s %s\n", shuffle, run.EpochLine(e, c.Epochs))
				return nil
			},
		}
		t, net, err := run.Train(ctx, rc, d, nil, h)
		if err != nil {
			return nil, err
		}
		net.Close()
		for e, n := range seen {
			if n != d.Train.N {
				return nil, fmt.Errorf("epoch %d visited %d samples, want each of the %d once", e+1, n, d.Train.N)
			}
		}
		bins := make([][]uint8, c.Epochs)
		for e := range bins {
			bins[e] = DecileBins(losses[e])
		}
		res.Stay[shuffle] = map[string][]float64{}
		for _, r := range ranges {
			res.Stay[shuffle][r.String()] = StayPercent(bins, r)
		}
		res.FinalTestAcc[shuffle] = t.History[len(t.History)-1].TestAcc
	}
	return res, nil
}

// PatternsTable is the printed table.
func PatternsTable(res *PatternsResult) string {
	var b strings.Builder
	ranges := PatternRanges(res.Config.Epochs)
	fmt.Fprintf(&b, "patterns: %s on %s, %d epochs, seed %d — percent of each loss decile (1 = highest losses) that stays in it\n",
		res.Config.Model, res.Config.Dataset, res.Config.Epochs, res.Config.Seed)
	b.WriteString("bin ")
	for _, sh := range []string{"off", "on"} {
		for _, r := range ranges {
			fmt.Fprintf(&b, " %9s", "shuf"+sh+" "+r.String())
		}
	}
	b.WriteString("\n")
	for bin := 0; bin < Bins; bin++ {
		fmt.Fprintf(&b, "%3d ", bin+1)
		for _, sh := range []string{"off", "on"} {
			for _, r := range ranges {
				fmt.Fprintf(&b, " %9.1f", res.Stay[sh][r.String()][bin])
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("chance")
	for _, r := range ranges {
		fmt.Fprintf(&b, "  %s: %.3g%%", r, res.Chance[r.String()])
	}
	fmt.Fprintf(&b, "\nfinal test accuracy: shuffle off %.4f, on %.4f\n", res.FinalTestAcc["off"], res.FinalTestAcc["on"])
	return b.String()
}

// WritePatterns writes patterns.json and one grouped bar plot per range.
func WritePatterns(res *PatternsResult, dir string) error {
	if err := atomicfile.WriteJSON(filepath.Join(dir, "patterns.json"), res); err != nil {
		return err
	}
	for _, r := range PatternRanges(res.Config.Epochs) {
		p := newPlot(fmt.Sprintf("%s: samples staying in their loss decile, epochs %s (chance %.3g%%)", res.Config.Model, r, res.Chance[r.String()]),
			"loss decile (1 = highest losses)", "percent that stays")
		w := vg.Points(14)
		for k, sh := range []string{"off", "on"} {
			bars, err := plotter.NewBarChart(plotter.Values(res.Stay[sh][r.String()]), w)
			if err != nil {
				return err
			}
			bars.LineStyle.Width = 0
			bars.Color, _ = style(k)
			bars.Offset = w * vg.Length(2*k-1) / 2
			p.Add(bars)
			p.Legend.Add("shuffle "+sh, bars)
		}
		names := make([]string, Bins)
		for i := range names {
			names[i] = fmt.Sprint(i + 1)
		}
		p.NominalX(names...)
		p.Legend.Top = true
		p.Y.Min, p.Y.Max = 0, 100
		if err := savePNG(p, filepath.Join(dir, "patterns_"+r.String()+".png"), 7*vg.Inch, 4*vg.Inch); err != nil {
			return err
		}
	}
	return nil
}
