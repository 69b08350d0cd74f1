package sampler

import (
	"errors"
	"math"
	"slices"
	"testing"
)

// checkVisible checks that p visits every sample not in hidden once, with
// the weight N/((N−H)·B).
func checkVisible(t *testing.T, p Plan, n, b int, hidden []int) {
	t.Helper()
	h := len(hidden)
	if len(p.Indices) != n-h {
		t.Fatalf("%d indices with %d of %d hidden", len(p.Indices), h, n)
	}
	var want []int
	for i := range n {
		if !slices.Contains(hidden, i) {
			want = append(want, i)
		}
	}
	if !slices.Equal(slices.Sorted(slices.Values(p.Indices)), want) {
		t.Fatalf("plan %v does not visit the non-hidden samples %v once each", p.Indices, want)
	}
	if h == 0 {
		if p.Weights != nil {
			t.Fatalf("weights %v with nothing hidden", p.Weights)
		}
		return
	}
	w := 1 / ((1 - float64(h)/float64(n)) * float64(b))
	for k, v := range p.Weights {
		if math.Abs(v-w) > 1e-15*w {
			t.Fatalf("weight %d is %v, want 1/((1−h)·B) = %v", k, v, w)
		}
	}
}

func TestKakurenboConfigValidate(t *testing.T) {
	if err := DefaultKakurenboConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*KakurenboConfig){
		"BatchSize":    func(c *KakurenboConfig) { c.BatchSize = 0 },
		"MaxHide=1":    func(c *KakurenboConfig) { c.MaxHide = 1 },
		"MaxHideNaN":   func(c *KakurenboConfig) { c.MaxHide = math.NaN() },
		"Confidence=0": func(c *KakurenboConfig) { c.Confidence = 0 },
		"Confidence>1": func(c *KakurenboConfig) { c.Confidence = 1.1 },
	} {
		c := DefaultKakurenboConfig()
		mod(&c)
		if _, err := NewKakurenbo(5, c, 1); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	o := mustNew(t, NewKakurenbo, 5, DefaultKakurenboConfig(), 1)
	if err := o.SetMaxHide(1); !errors.Is(err, ErrBadConfig) || o.Config().MaxHide != 0.3 {
		t.Errorf("SetMaxHide(1): %v, F = %v", err, o.Config().MaxHide)
	}
}

// N = 10, F = 0.3 → at most 3 hidden; τ = 0.7 → confident when L ≤ 0.3567.
func TestKakurenboHidesLowestConfident(t *testing.T) {
	const n, b = 10, 2
	cfg := KakurenboConfig{BatchSize: b, MaxHide: 0.3, Confidence: 0.7}
	o := mustNew(t, NewKakurenbo, n, cfg, 4)
	// Index 7 is never scored; 0, 3, 8 are above the threshold; 9 and 1
	// tie for the third place among the confident 6, 2, 9, 1, 5, 4.
	loss := map[int]float32{0: 0.5, 1: 0.1, 2: 0.05, 3: 2, 4: 0.3, 5: 0.2, 6: 0.01, 8: 0.36, 9: 0.1}
	for i, v := range loss {
		o.Record([]int{i}, []float32{v})
	}
	ties := map[int]int{}
	for e := 1; e <= 200; e++ {
		p := planEnd(t, o, e)
		h := o.Hidden()
		if len(h) != 3 || !slices.Contains(h, 2) || !slices.Contains(h, 6) || slices.Contains(h, 1) == slices.Contains(h, 9) {
			t.Fatalf("epoch %d hides %v, want 2, 6 and one of 1, 9", e, h)
		}
		ties[h[0]+h[1]+h[2]-8]++
		checkVisible(t, p, n, b, h)
		if st := o.Stats(); st.Kept != 7 || st.Unscored != 1 || st.Transient || o.KeptSize() != 7 {
			t.Fatalf("stats %+v, KeptSize %d", st, o.KeptSize())
		}
	}
	if ties[1] < 70 || ties[9] < 70 {
		t.Errorf("tie at the boundary broken %v times, want about 100 each", ties)
	}
	// Fewer confident than ⌊F·N⌋: only those are hidden.
	few := mustNew(t, NewKakurenbo, n, cfg, 4)
	recordAll(few, n, func(i int) float32 { return []float32{0.01, 5, 5, 0.2, 5, 5, 5, 5, 5, 5}[i] })
	planEnd(t, few, 1)
	if h := few.Hidden(); !slices.Equal(h, []int{0, 3}) {
		t.Errorf("hidden %v, want [0 3]", h)
	}
}

func TestKakurenboHidesAtMostFloorFN(t *testing.T) {
	for _, n := range []int{1, 3, 9, 103} {
		cfg := KakurenboConfig{BatchSize: 8, MaxHide: 0.3, Confidence: 0.5}
		o := mustNew(t, NewKakurenbo, n, cfg, 2)
		// Before any score: nothing hidden, a plain shuffled epoch.
		p := planEnd(t, o, 1)
		checkVisible(t, p, n, 8, nil)
		if !o.Stats().Transient || len(o.Hidden()) != 0 {
			t.Fatalf("N = %d: unscored samples hidden", n)
		}
		recordAll(o, n, func(i int) float32 { return 0 }) // all confident, all tied
		p = planEnd(t, o, 2)
		h := o.Hidden()
		if want := int(math.Floor(0.3 * float64(n))); len(h) != want {
			t.Fatalf("N = %d: %d hidden, want ⌊0.3·N⌋ = %d", n, len(h), want)
		}
		checkVisible(t, p, n, 8, h)
	}
}

// A hidden sample refreshed with a loss above −ln τ comes back; one
// refreshed with a low loss stays hidden; Stale counts the forgotten ones.
func TestKakurenboRefreshMovesBack(t *testing.T) {
	const n, b = 20, 4
	cfg := KakurenboConfig{BatchSize: b, MaxHide: 0.25, Confidence: 0.7}
	thr := float32(cfg.LossThreshold())
	o := mustNew(t, NewKakurenbo, n, cfg, 8)
	low := func(i int) float32 { return float32(i) * 0.01 } // 0 … 19 all confident
	recordAll(o, n, low)
	planEnd(t, o, 1)
	if h := o.Hidden(); !slices.Equal(h, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("hidden %v, want the 5 lowest", h)
	}

	p, _ := o.Plan(2)
	h := o.Hidden()
	o.Record(p.Indices, make([]float32, len(p.Indices))) // trained ones: loss 0
	if o.Stale() != 5 {
		t.Fatalf("Stale = %d before the refresh, want 5", o.Stale())
	}
	// Forward-only pass over the hidden: 0 and 1 are no longer confident.
	o.Record(h[:2], []float32{thr * 1.01, 3})
	o.Record(h[2:], []float32{0, 0, 0})
	if o.Stale() != 0 {
		t.Fatalf("Stale = %d after the refresh", o.Stale())
	}
	if err := o.EndEpoch(2); err != nil {
		t.Fatal(err)
	}
	planEnd(t, o, 3)
	h3 := o.Hidden()
	if slices.Contains(h3, 0) || slices.Contains(h3, 1) || len(h3) != 5 {
		t.Fatalf("epoch 3 hides %v: 0 and 1 were not moved back", h3)
	}
	// Exactly at −ln τ counts as confident.
	recordAll(o, n, func(i int) float32 { return 1 })
	o.Record([]int{7}, []float32{float32(math.Nextafter32(thr, 0))})
	planEnd(t, o, 4)
	if h := o.Hidden(); !slices.Equal(h, []int{7}) {
		t.Fatalf("hidden %v, want [7]", h)
	}
}

func TestKakurenboErrorsDeterminismResume(t *testing.T) {
	o := mustNew(t, NewKakurenbo, 5, DefaultKakurenboConfig(), 1)
	o.Record([]int{3}, []float32{float32(math.NaN())})
	if _, err := o.Plan(1); !errors.Is(err, ErrBadScore) {
		t.Errorf("NaN loss: Plan = %v", err)
	}
	if _, err := mustNew(t, NewKakurenbo, 5, DefaultKakurenboConfig(), 1).Plan(3); !errors.Is(err, ErrEpoch) {
		t.Errorf("Plan(3) first: %v", err)
	}

	const n = 300
	cfg := DefaultKakurenboConfig()
	loss := func(e int) func(int) float32 {
		return func(i int) float32 { return scoreOf(i, e) / 10 } // [0, 1): about 30% confident
	}
	a := mustNew(t, NewKakurenbo, n, cfg, 13)
	b := mustNew(t, NewKakurenbo, n, cfg, 13)
	for e := 1; e <= 3; e++ {
		pa := runEpoch(t, a, e, 16, loss(e))
		pb := runEpoch(t, b, e, 16, loss(e))
		if !slices.Equal(pa.Indices, pb.Indices) || !slices.Equal(pa.Weights, pb.Weights) || !slices.Equal(a.Hidden(), b.Hidden()) {
			t.Fatalf("epoch %d: same seed and losses, different plans", e)
		}
	}
	st, _ := a.State()
	c := mustNew(t, NewKakurenbo, n, KakurenboConfig{BatchSize: 1, MaxHide: 0, Confidence: 1}, 5)
	if err := c.Restore(st); err != nil {
		t.Fatal(err)
	}
	pa, _ := a.Plan(4)
	pc, err := c.Plan(4)
	if err != nil || !slices.Equal(pa.Indices, pc.Indices) || !slices.Equal(pa.Weights, pc.Weights) || !slices.Equal(a.Hidden(), c.Hidden()) {
		t.Fatalf("restored order plans differently (%v)", err)
	}
	if len(a.Hidden()) == 0 {
		t.Fatal("nothing hidden: the resume check is vacuous")
	}
	for l := range len(st) {
		if err := c.Restore(st[:l]); !errors.Is(err, ErrCorruptState) {
			t.Fatalf("Restore of %d bytes: %v", l, err)
		}
	}
	if err := mustNew(t, NewKakurenbo, n-1, cfg, 1).Restore(st); !errors.Is(err, ErrStateMismatch) {
		t.Errorf("Restore into another N: %v", err)
	}
	ib, _ := mustNew(t, NewInfoBatch, n, DefaultInfoBatchConfig(5), 1).State()
	if err := c.Restore(ib); !errors.Is(err, ErrStateMismatch) {
		t.Errorf("Restore of an InfoBatch state: %v", err)
	}
}
