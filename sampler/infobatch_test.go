package sampler

import (
	"errors"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// planEnd plans an epoch and closes it without recording anything.
func planEnd(t testing.TB, o Order, epoch int) Plan {
	t.Helper()
	p, err := o.Plan(epoch)
	if err != nil {
		t.Fatalf("Plan(%d): %v", epoch, err)
	}
	if err := o.EndEpoch(epoch); err != nil {
		t.Fatalf("EndEpoch(%d): %v", epoch, err)
	}
	return p
}

// recordAll records score(i) for every dataset index, in descending index
// order (so that positions in the call differ from dataset indices).
func recordAll(o Order, n int, score func(i int) float32) {
	idx := make([]int, n)
	sc := make([]float32, n)
	for k := range idx {
		idx[k] = n - 1 - k
		sc[k] = score(idx[k])
	}
	o.Record(idx, sc)
}

// binomialChi2 returns the p-value of Σ_i (c_i − t·p)²/(t·p·(1−p)), the
// statistic of independent Binomial(t, p) counts, against χ²(len(c)).
func binomialChi2(c []int, t int, p float64) float64 {
	m, v := float64(t)*p, float64(t)*p*(1-p)
	stat := 0.0
	for _, x := range c {
		stat += (float64(x) - m) * (float64(x) - m) / v
	}
	return distuv.ChiSquared{K: float64(len(c))}.Survival(stat)
}

func TestInfoBatchConfigValidate(t *testing.T) {
	if err := DefaultInfoBatchConfig(10).Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*InfoBatchConfig){
		"BatchSize": func(c *InfoBatchConfig) { c.BatchSize = 0 },
		"Prune=1":   func(c *InfoBatchConfig) { c.Prune = 1 },
		"Prune<0":   func(c *InfoBatchConfig) { c.Prune = -0.1 },
		"PruneNaN":  func(c *InfoBatchConfig) { c.Prune = math.NaN() },
		"Epochs":    func(c *InfoBatchConfig) { c.Epochs = 0 },
		"Anneal":    func(c *InfoBatchConfig) { c.Anneal = 1.5 },
	} {
		c := DefaultInfoBatchConfig(10)
		mod(&c)
		if _, err := NewInfoBatch(5, c, 1); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := NewInfoBatch(0, DefaultInfoBatchConfig(10), 1); !errors.Is(err, ErrBadConfig) {
		t.Errorf("N = 0: %v", err)
	}
}

// Scores s_i = i over N = 1000 put exactly 0 … 499 below the mean 499.5.
// Each epoch keeps all of 500 … 999 with weight 1/B, and each of 0 … 499
// independently with probability 1 − r and weight 1/((1−r)·B).
func TestInfoBatchKeptCountsAreBinomial(t *testing.T) {
	const n, epochs, b, r = 1000, 300, 10, 0.3
	cfg := InfoBatchConfig{BatchSize: b, Prune: r, Epochs: 10 * epochs, Anneal: 1}
	o := mustNew(t, NewInfoBatch, n, cfg, 5)
	recordAll(o, n, func(i int) float32 { return float32(i) })
	counts := make([]int, n/2)
	total := 0
	wLow, wHigh := 1/((1-r)*b), 1.0/b
	for e := 1; e <= epochs; e++ {
		p := planEnd(t, o, e)
		if len(p.Weights) != len(p.Indices) {
			t.Fatalf("epoch %d: %d weights for %d indices", e, len(p.Weights), len(p.Indices))
		}
		seen := make([]bool, n)
		for k, i := range p.Indices {
			if seen[i] {
				t.Fatalf("epoch %d repeats index %d", e, i)
			}
			seen[i] = true
			want := wHigh
			if i < n/2 {
				want = wLow
				counts[i]++
				total++
			}
			if p.Weights[k] != want {
				t.Fatalf("epoch %d: index %d has weight %v, want %v", e, i, p.Weights[k], want)
			}
		}
		for i := n / 2; i < n; i++ {
			if !seen[i] {
				t.Fatalf("epoch %d skipped the above-mean index %d", e, i)
			}
		}
		if st := o.Stats(); st.Drawn != len(p.Indices) || st.Kept != st.Drawn || st.Distinct != st.Drawn || st.Transient {
			t.Fatalf("epoch %d: stats %+v for %d indices", e, st, len(p.Indices))
		}
	}
	trials := float64(epochs * n / 2)
	if z := (float64(total) - trials*(1-r)) / math.Sqrt(trials*r*(1-r)); math.Abs(z) > 4.5 {
		t.Errorf("kept %d below-mean samples of %v, z = %.2f", total, trials, z)
	}
	if pv := binomialChi2(counts, epochs, 1-r); pv < 1e-4 {
		t.Errorf("per-sample kept counts are not Binomial(%d, %v): p = %g", epochs, 1-r, pv)
	}
	// The check has power: counts of r = 0.35 are rejected.
	if pv := binomialChi2(counts, epochs, 0.65); pv > 1e-4 {
		t.Errorf("counts also pass as Binomial(%d, 0.65): p = %g", epochs, pv)
	}
}

// E[Σ w·L] over a plan is the full-data cost (1/B)·Σ L; dropping the
// rescale (every weight 1/B) is biased low.
func TestInfoBatchIsUnbiased(t *testing.T) {
	const n, epochs, b = 60, 3000, 8
	loss := func(i int) float32 { return scoreOf(i, 0) }
	target := 0.0
	for i := range n {
		target += float64(loss(i)) / b
	}
	o := mustNew(t, NewInfoBatch, n, InfoBatchConfig{BatchSize: b, Prune: 0.5, Epochs: 2 * epochs, Anneal: 1}, 9)
	recordAll(o, n, loss)
	var sw, sw2, sb, sb2 float64
	for e := 1; e <= epochs; e++ {
		p := planEnd(t, o, e)
		c, cb := 0.0, 0.0
		for k, i := range p.Indices {
			c += p.Weights[k] * float64(loss(i))
			cb += float64(loss(i)) / b
		}
		sw += c
		sw2 += c * c
		sb += cb
		sb2 += cb * cb
	}
	z := func(s, s2 float64) float64 {
		m := s / epochs
		se := math.Sqrt((s2/epochs - m*m) / epochs)
		return (m - target) / se
	}
	if zw := z(sw, sw2); math.Abs(zw) > 4.5 {
		t.Errorf("mean weighted cost %v, full-data cost %v: z = %.2f", sw/epochs, target, zw)
	}
	if zb := z(sb, sb2); zb > -10 {
		t.Errorf("the unrescaled cost %v is not biased below %v: z = %.2f", sb/epochs, target, zb)
	}
}

func TestInfoBatchAnnealsToFullData(t *testing.T) {
	const n = 200
	o := mustNew(t, NewInfoBatch, n, InfoBatchConfig{BatchSize: 16, Prune: 0.5, Epochs: 8, Anneal: 0.875}, 3)
	full := func(e int, p Plan) {
		t.Helper()
		if p.Weights != nil || !slices.Equal(slices.Sorted(slices.Values(p.Indices)), seq(n)) {
			t.Fatalf("epoch %d is not a full-data epoch: %d indices, weights %v", e, len(p.Indices), p.Weights != nil)
		}
	}
	// Epoch 1 has no scores: full data.
	p := runEpoch(t, o, 1, 16, func(i int) float32 { return scoreOf(i, 1) })
	full(1, p)
	if st := o.Stats(); !st.Transient || !st.Uniform || st.Unscored != n {
		t.Fatalf("epoch 1 stats %+v", st)
	}
	// Epochs 2 … round(0.875·8) = 7 prune.
	for e := 2; e <= 7; e++ {
		p := runEpoch(t, o, e, 16, func(i int) float32 { return scoreOf(i, e) })
		if p.Weights == nil || len(p.Indices) >= n {
			t.Fatalf("epoch %d did not prune: %d indices", e, len(p.Indices))
		}
	}
	// Epoch 8 anneals; so would any later one.
	full(8, runEpoch(t, o, 8, 16, func(i int) float32 { return 1 }))
	if st := o.Stats(); !st.Transient || st.Uniform || st.Drawn != n {
		t.Fatalf("epoch 8 stats %+v", st)
	}
	// A full-data epoch visits in the order of a Shuffled with the seed.
	sh, _ := NewShuffled(n, 3)
	ps, _ := sh.Plan(9)
	if p := planEnd(t, o, 9); !slices.Equal(p.Indices, ps.Indices) {
		t.Fatal("full-data epoch differs from the Shuffled order")
	}
	// δ = 0: never prunes.
	z := mustNew(t, NewInfoBatch, n, InfoBatchConfig{BatchSize: 16, Prune: 0.5, Epochs: 8, Anneal: 0}, 3)
	for e := 1; e <= 3; e++ {
		full(e, runEpoch(t, z, e, 16, func(i int) float32 { return scoreOf(i, e) }))
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// Recording a low score for dataset index 3 at position 6 of a Record call
// prunes index 3, not index 6, and leaves unscored samples alone.
func TestInfoBatchBookkeepsByDatasetIndex(t *testing.T) {
	const n, b = 12, 4
	o := mustNew(t, NewInfoBatch, n, InfoBatchConfig{BatchSize: b, Prune: 0.5, Epochs: 1000, Anneal: 1}, 1)
	idx := []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0} // 10, 11 never scored
	sc := make([]float32, len(idx))
	for k, i := range idx {
		sc[k] = 10
		if i == 3 {
			sc[k] = 0
		}
	}
	o.Record(idx, sc)
	if v, ok := o.Score(3); v != 0 || !ok {
		t.Fatalf("Score(3) = %v, %v", v, ok)
	}
	if _, ok := o.Score(10); ok {
		t.Fatal("index 10 has a score")
	}
	absent3 := 0
	for e := 1; e <= 200; e++ {
		p := planEnd(t, o, e)
		has3 := false
		for k, i := range p.Indices {
			want := 1.0 / b
			if i == 3 {
				has3 = true
				want = 2.0 / b
			}
			if p.Weights[k] != want {
				t.Fatalf("epoch %d: index %d weight %v, want %v", e, i, p.Weights[k], want)
			}
		}
		if !has3 {
			absent3++
			if len(p.Indices) != n-1 {
				t.Fatalf("epoch %d pruned %v", e, p.Indices)
			}
		} else if len(p.Indices) != n {
			t.Fatalf("epoch %d pruned another index than 3: %v", e, p.Indices)
		}
		if st := o.Stats(); st.Unscored != 2 {
			t.Fatalf("Unscored = %d, want 2", st.Unscored)
		}
	}
	if absent3 < 70 || absent3 > 130 {
		t.Errorf("index 3 pruned in %d of 200 epochs, want about 100", absent3)
	}
}

func TestInfoBatchErrors(t *testing.T) {
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), -1} {
		o := mustNew(t, NewInfoBatch, 5, DefaultInfoBatchConfig(10), 1)
		o.Record([]int{0, 2}, []float32{1, bad})
		if _, err := o.Plan(1); !errors.Is(err, ErrBadScore) {
			t.Errorf("score %v: Plan = %v", bad, err)
		}
	}
	o := mustNew(t, NewInfoBatch, 5, DefaultInfoBatchConfig(10), 1)
	if _, err := o.Plan(2); !errors.Is(err, ErrEpoch) {
		t.Errorf("Plan(2) first: %v", err)
	}
	if err := o.EndEpoch(0); !errors.Is(err, ErrEpoch) {
		t.Errorf("EndEpoch(0): %v", err)
	}
}

func TestInfoBatchDeterministicAndResumes(t *testing.T) {
	const n = 500
	cfg := InfoBatchConfig{BatchSize: 32, Prune: 0.5, Epochs: 10, Anneal: 0.875}
	a := mustNew(t, NewInfoBatch, n, cfg, 21)
	b := mustNew(t, NewInfoBatch, n, cfg, 21)
	samePlans(t, a, b, 3, 32)
	st, err := a.State()
	if err != nil {
		t.Fatal(err)
	}
	c := mustNew(t, NewInfoBatch, n, DefaultInfoBatchConfig(10), 77) // the same run length: Restore keeps the receiver's Epochs
	if err := c.Restore(st); err != nil {
		t.Fatal(err)
	}
	if c.Config() != cfg {
		t.Fatalf("restored config %+v", c.Config())
	}
	pa, _ := a.Plan(4)
	pc, err := c.Plan(4)
	if err != nil || !slices.Equal(pa.Indices, pc.Indices) || !slices.Equal(pa.Weights, pc.Weights) {
		t.Fatalf("restored order plans differently (%v)", err)
	}
	for l := range len(st) {
		if err := c.Restore(st[:l]); !errors.Is(err, ErrCorruptState) {
			t.Fatalf("Restore of %d bytes: %v", l, err)
		}
	}
	if err := mustNew(t, NewInfoBatch, n+1, cfg, 1).Restore(st); !errors.Is(err, ErrStateMismatch) {
		t.Errorf("Restore into another N: %v", err)
	}
	if sh, _ := (&Shuffled{n: n}).State(); !errors.Is(c.Restore(sh), ErrStateMismatch) {
		t.Error("InfoBatch accepted a Shuffled state")
	}
}

// FuzzPeerRestore feeds arbitrary bytes to the peers' Restore: each either
// fails with a sentinel or leaves an order or selector that works.
func FuzzPeerRestore(f *testing.F) {
	ib := mustNew(f, NewInfoBatch, 9, DefaultInfoBatchConfig(4), 1)
	recordAll(ib, 9, func(i int) float32 { return float32(i) })
	kk := mustNew(f, NewKakurenbo, 9, DefaultKakurenboConfig(), 1)
	recordAll(kk, 9, func(i int) float32 { return float32(i) / 20 })
	sb := mustSelective(f, 2, 4, 1)
	sb.Select([]float32{1, 2, 3, 4, 5}, make([]bool, 5))
	kf := mustKF(f, DefaultKFConfig(), 1)
	for _, o := range []interface{ State() ([]byte, error) }{ib, kk, sb, kf} {
		st, _ := o.State()
		f.Add(st)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ok := func(err error) bool {
			if err != nil && !errors.Is(err, ErrCorruptState) && !errors.Is(err, ErrStateMismatch) {
				t.Fatalf("Restore error %v wraps neither sentinel", err)
			}
			return err == nil
		}
		if o := mustNew(t, NewInfoBatch, 9, DefaultInfoBatchConfig(4), 2); ok(o.Restore(data)) {
			o.Plan(o.ended + 1)
		}
		if o := mustNew(t, NewKakurenbo, 9, DefaultKakurenboConfig(), 2); ok(o.Restore(data)) {
			o.Plan(o.ended + 1)
		}
		if s := mustSelective(t, 1, 8, 2); ok(s.Restore(data)) {
			if _, err := s.Select([]float32{0.5, 7}, make([]bool, 2)); err != nil || s.Len() > s.Window() || !slices.IsSorted(s.sorted) {
				t.Fatalf("restored selector: %v, %d of %d", err, s.Len(), s.Window())
			}
		}
		if s := mustKF(t, DefaultKFConfig(), 2); ok(s.Restore(data)) {
			if _, err := s.Choose([]float32{1, 2, 3}, 2, make([]int, 2), make([]float64, 2)); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestInfoBatchResumeKeepsTheRunLength(t *testing.T) {
	cfg := DefaultInfoBatchConfig(8)
	a := mustNew(t, NewInfoBatch, 100, cfg, 3)
	st, err := a.State()
	if err != nil {
		t.Fatal(err)
	}
	longer := cfg
	longer.Epochs = 16
	b := mustNew(t, NewInfoBatch, 100, longer, 9)
	if err := b.Restore(st); err != nil {
		t.Fatal(err)
	}
	if b.Config().Epochs != 16 {
		t.Errorf("after Restore the run anneals at epoch count %d, want the resumed run's 16", b.Config().Epochs)
	}
}
