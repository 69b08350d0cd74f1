package sampler

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// scoreOf is a deterministic pseudo-random score in [0, 10) of dataset
// index i in an epoch.
func scoreOf(i, epoch int) float32 {
	return float32(mix64(uint64(i)<<20^uint64(epoch))>>40) / (1 << 24) * 10
}

// runEpoch plans an epoch, records score(i) for every visited index in
// batches of b, and ends the epoch.
func runEpoch(t testing.TB, o Order, epoch, b int, score func(i int) float32) Plan {
	t.Helper()
	p, err := o.Plan(epoch)
	if err != nil {
		t.Fatalf("Plan(%d): %v", epoch, err)
	}
	buf := make([]float32, b)
	for lo := 0; lo < len(p.Indices); lo += b {
		idx := p.Indices[lo:min(lo+b, len(p.Indices))]
		sc := buf[:len(idx)]
		for k, i := range idx {
			sc[k] = score(i)
		}
		o.Record(idx, sc)
	}
	if err := o.EndEpoch(epoch); err != nil {
		t.Fatalf("EndEpoch(%d): %v", epoch, err)
	}
	return p
}

// samePlans runs epochs 1 … epochs of a and b with the same scores and
// fails unless they plan the same indices and weights.
func samePlans(t *testing.T, a, b Order, epochs, batch int) {
	t.Helper()
	for e := 1; e <= epochs; e++ {
		pa := runEpoch(t, a, e, batch, func(i int) float32 { return scoreOf(i, e) })
		pb := runEpoch(t, b, e, batch, func(i int) float32 { return scoreOf(i, e) })
		if !slices.Equal(pa.Indices, pb.Indices) || !slices.Equal(pa.Weights, pb.Weights) {
			t.Fatalf("epoch %d: same seed and scores, different plans", e)
		}
	}
}

// mustNew returns newOrder(n, cfg, seed), failing the test on an error.
func mustNew[C any, O Order](t testing.TB, newOrder func(int, C, uint64) (O, error), n int, cfg C, seed uint64) O {
	t.Helper()
	o, err := newOrder(n, cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestScheduleConfigValidate(t *testing.T) {
	if err := postConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	bad := []struct {
		field string
		mod   func(*ScheduleConfig)
	}{
		{"BatchSize", func(c *ScheduleConfig) { c.BatchSize = 0 }},
		{"BatchSize", func(c *ScheduleConfig) { c.BatchSize = -3 }},
		{"TransientEpochs", func(c *ScheduleConfig) { c.TransientEpochs = -1 }},
		{"DropFrac", func(c *ScheduleConfig) { c.DropFrac = 1 }},
		{"DropFrac", func(c *ScheduleConfig) { c.DropFrac = -0.1 }},
		{"DropFrac", func(c *ScheduleConfig) { c.DropFrac = math.NaN() }},
		{"ReaddFrac", func(c *ScheduleConfig) { c.ReaddFrac = 1.5 }},
		{"ReaddFrac", func(c *ScheduleConfig) { c.ReaddFrac = math.Inf(1) }},
		{"KeptFloor", func(c *ScheduleConfig) { c.KeptFloor = 1.01 }},
		{"KeptFloor", func(c *ScheduleConfig) { c.KeptFloor = -1 }},
		{"Mix", func(c *ScheduleConfig) { c.Mix = 2 }},
		{"Mix", func(c *ScheduleConfig) { c.Mix = math.NaN() }},
		{"ReaddScore", func(c *ScheduleConfig) { c.ReaddScore = "" }},
		{"Debias", func(c *ScheduleConfig) { c.Debias = 1.5 }},
		{"Debias", func(c *ScheduleConfig) { c.Debias = -0.5 }},
		{"Debias", func(c *ScheduleConfig) { c.Debias = math.NaN() }},
		{"ReaddScore", func(c *ScheduleConfig) { c.ReaddScore = "median" }},
	}
	for _, b := range bad {
		c := postConfig()
		b.mod(&c)
		err := c.Validate()
		if !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), b.field) {
			t.Errorf("%+v: Validate() = %v, want ErrBadConfig naming %s", c, err, b.field)
		}
		if _, err := NewSchedule(10, c, 1); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%+v: NewSchedule error %v, want ErrBadConfig", c, err)
		}
	}
	for _, n := range []int{0, -1, math.MaxInt32 + 1} {
		if _, err := NewSchedule(n, postConfig(), 1); !errors.Is(err, ErrBadConfig) {
			t.Errorf("NewSchedule(%d): %v, want ErrBadConfig", n, err)
		}
	}
	edge := postConfig()
	edge.TransientEpochs, edge.DropFrac, edge.ReaddFrac, edge.KeptFloor, edge.Mix, edge.ReaddScore = 0, 0, 0, 1, 1, ReaddMean
	if err := edge.Validate(); err != nil {
		t.Errorf("edge config: %v", err)
	}
}

// TestScheduleKeptSizes checks that the kept set follows the drop/re-add
// rule exactly, that steady-state plans only draw kept samples, that the
// dropped samples are the lowest-scoring ones, and that re-added samples
// come from outside the kept set.
func TestScheduleKeptSizes(t *testing.T) {
	const n = 10_000
	for _, tc := range []struct {
		name  string
		floor float64
		drop  float64
		readd float64
	}{
		{"default", 0, 0.10, 0.01},
		{"floor", 0.5, 0.2, 0.01},
		{"no readd", 0, 0.3, 0},
		{"no drop", 0, 0, 0.05},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := postConfig()
			cfg.KeptFloor, cfg.DropFrac, cfg.ReaddFrac = tc.floor, tc.drop, tc.readd
			s := mustNew(t, NewSchedule, n, cfg, 42)
			k := n
			floor := max(1, int(math.Round(tc.floor*n)))
			for epoch := 1; epoch <= 15; epoch++ {
				before := s.KeptIndices(nil)
				if len(before) != k {
					t.Fatalf("epoch %d: KeptSize %d, want %d", epoch, len(before), k)
				}
				// Distinct scores, higher in later epochs.
				score := func(i int) float32 { return float32(epoch*n + (i*7919+epoch*1237)%n) }
				p := runEpoch(t, s, epoch, 64, score)
				if epoch <= cfg.TransientEpochs {
					if len(p.Indices) != n || s.KeptSize() != n {
						t.Fatalf("transient epoch %d: %d indices, kept %d", epoch, len(p.Indices), s.KeptSize())
					}
					continue
				}
				if len(p.Indices) != k {
					t.Fatalf("epoch %d: %d draws, want |kept| = %d", epoch, len(p.Indices), k)
				}
				inBefore := make([]bool, n)
				for _, i := range before {
					inBefore[i] = true
				}
				for _, i := range p.Indices {
					if !inBefore[i] {
						t.Fatalf("epoch %d drew %d, which is not kept", epoch, i)
					}
				}
				// Expected sizes.
				d := min(int(math.Round(tc.drop*float64(k))), max(0, k-floor))
				r := min(int(math.Round(tc.readd*n)), n-(k-d))
				after := s.KeptIndices(nil)
				if want := k - d + r; len(after) != want {
					t.Fatalf("epoch %d: kept %d → %d, want %d (drop %d, re-add %d)", epoch, k, len(after), want, d, r)
				}
				if len(after) < floor {
					t.Fatalf("epoch %d: kept %d below the floor %d", epoch, len(after), floor)
				}
				if !slices.IsSorted(after) {
					t.Fatalf("kept set not sorted")
				}
				// Survivors are the k−d highest scores; the r re-added samples
				// were outside them (possibly just dropped).
				inAfter := make([]bool, n)
				for _, i := range after {
					inAfter[i] = true
				}
				lowest := kLowest(before, s, d)
				for _, i := range before {
					if !lowest[i] && !inAfter[i] {
						t.Fatalf("epoch %d: dropped %d, which is not among the %d lowest scores", epoch, i, d)
					}
				}
				readded := 0
				for _, i := range after {
					if !inBefore[i] || lowest[i] {
						readded++
					}
				}
				if readded != r {
					t.Fatalf("epoch %d: %d re-added, want %d", epoch, readded, r)
				}
				k = len(after)
			}
			t.Logf("final kept fraction %.3f", float64(k)/n)
		})
	}
}

// kLowest marks the d kept samples with the lowest scores (scores must be
// distinct).
func kLowest(kept []int, s *Schedule, d int) map[int]bool {
	idx := slices.Clone(kept)
	slices.SortFunc(idx, func(a, b int) int {
		sa, _ := s.Score(a)
		sb, _ := s.Score(b)
		if sa < sb {
			return -1
		}
		if sa > sb {
			return 1
		}
		return 0
	})
	m := map[int]bool{}
	for _, i := range idx[:d] {
		m[i] = true
	}
	return m
}

// TestScheduleDroppedSet checks the drop/re-add sets exactly with scores
// that make the lowest d a known set: score(i) = i + 1.
func TestScheduleDroppedSet(t *testing.T) {
	const n = 1000
	cfg := postConfig()
	cfg.DropFrac, cfg.ReaddFrac = 0.2, 0.05
	s := mustNew(t, NewSchedule, n, cfg, 3)
	score := func(i int) float32 { return float32(i + 1) }
	runEpoch(t, s, 1, 32, score) // transient: every index scored
	runEpoch(t, s, 2, 32, score) // drop 200 lowest = 0…199, re-add 50 of them
	kept := s.KeptIndices(nil)
	readded := 0
	for _, i := range kept {
		if i < 200 {
			readded++
		}
	}
	if len(kept) != 850 || readded != 50 {
		t.Fatalf("kept %d with %d re-added, want 850 with 50", len(kept), readded)
	}
	for i := 200; i < n; i++ {
		if _, ok := slices.BinarySearch(kept, i); !ok {
			t.Fatalf("index %d (score %d) was dropped", i, i+1)
		}
	}
	// Dropped samples that were not re-added are never drawn again.
	p, err := s.Plan(3)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range p.Indices {
		if _, ok := slices.BinarySearch(kept, i); !ok {
			t.Fatalf("epoch 3 drew dropped index %d", i)
		}
	}
}

// TestScheduleScoresByDatasetIndex proves that scores are stored by dataset
// index, not by position in the sampled stream (the bug of the published
// code).
func TestScheduleScoresByDatasetIndex(t *testing.T) {
	const n, b = 1000, 32
	cfg := postConfig()
	cfg.DropFrac, cfg.ReaddFrac = 0.1, 0
	s := mustNew(t, NewSchedule, n, cfg, 11)
	score := func(i int) float32 { return float32(i + 1) }
	p := runEpoch(t, s, 1, b, score)

	moved := 0
	for pos, i := range p.Indices {
		if pos != i {
			moved++
		}
	}
	if moved < n/2 {
		t.Fatalf("the shuffled order moved only %d of %d samples: the test would not tell", moved, n)
	}
	for i := range n {
		got, ok := s.Score(i)
		if !ok || got != score(i) {
			// Indexing by stream position would give p.Indices[i]+1.
			t.Fatalf("Score(%d) = %v, %v; want %v (by position: %v)", i, got, ok, score(i), score(p.Indices[i]))
		}
	}

	// The steady-state distribution is proportional to the dataset
	// index's score: p_i = (i+1)/Σ(j+1).
	p2, err := s.Plan(2)
	if err != nil {
		t.Fatal(err)
	}
	total := float64(n * (n + 1) / 2)
	for pos, i := range s.kept {
		if got, want := s.alias.Prob(pos), float64(i+1)/total; math.Abs(got-want) > 1e-12 {
			t.Fatalf("p(%d) = %g, want %g", i, got, want)
		}
	}
	// Record by the drawn indices (with repeats), end the epoch: the 100
	// lowest dataset indices are dropped.
	for lo := 0; lo < len(p2.Indices); lo += b {
		idx := p2.Indices[lo:min(lo+b, len(p2.Indices))]
		sc := make([]float32, len(idx))
		for k, i := range idx {
			sc[k] = score(i)
		}
		s.Record(idx, sc)
	}
	if err := s.EndEpoch(2); err != nil {
		t.Fatal(err)
	}
	kept := s.KeptIndices(nil)
	if len(kept) != 900 || kept[0] != 100 || kept[899] != n-1 {
		t.Fatalf("kept %d samples from %d to %d, want 900 from 100 to 999", len(kept), kept[0], kept[len(kept)-1])
	}
}

// TestScheduleUnbiased checks the unbiased weights exactly against
// 1/(B·K·p_i) and statistically: the weighted mean of a per-sample quantity
// is an unbiased estimate of its kept-set mean, the unweighted one is not.
func TestScheduleUnbiased(t *testing.T) {
	const n, b, epochs = 500, 16, 400
	cfg := postConfig()
	cfg.TransientEpochs, cfg.DropFrac, cfg.ReaddFrac = 0, 0, 0
	cfg.Mix, cfg.BatchSize, cfg.Unbiased = 0.2, b, true
	s := mustNew(t, NewSchedule, n, cfg, 5)
	all := make([]int, n)
	scores := make([]float32, n)
	x := make([]float64, n)
	sumS, meanX := 0.0, 0.0
	for i := range all {
		all[i] = i
		scores[i] = float32(1 + i%10)
		sumS += float64(scores[i])
		x[i] = math.Cos(float64(i)) + 2 + 0.3*float64(i%10)
		meanX += x[i] / n
	}
	s.Record(all, scores)

	var est, est2, naive, naive2, wsum float64
	draws := 0
	for epoch := 1; epoch <= epochs; epoch++ {
		p, err := s.Plan(epoch)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Weights) != len(p.Indices) {
			t.Fatalf("%d weights for %d indices", len(p.Weights), len(p.Indices))
		}
		e, u := 0.0, 0.0
		for k, i := range p.Indices {
			pi := (1-cfg.Mix)*float64(scores[i])/sumS + cfg.Mix/n
			if want := 1 / (b * n * pi); math.Abs(p.Weights[k]-want) > 1e-12*want {
				t.Fatalf("w = %g for index %d, want 1/(B·K·p) = %g", p.Weights[k], i, want)
			}
			e += p.Weights[k] * x[i]
			u += x[i]
			wsum += p.Weights[k]
		}
		draws += len(p.Indices)
		e *= b / float64(len(p.Indices)) // mean batch cost
		u /= float64(len(p.Indices))
		est += e
		est2 += e * e
		naive += u
		naive2 += u * u
		if err := s.EndEpoch(epoch); err != nil {
			t.Fatal(err)
		}
	}
	z := func(sum, sum2, want float64) float64 {
		m := sum / epochs
		sd := math.Sqrt((sum2/epochs - m*m) / (epochs - 1))
		return (m - want) / sd
	}
	zw, zu := z(est, est2, meanX), z(naive, naive2, meanX)
	t.Logf("kept mean %.5f; weighted %.5f (z = %.2f); unweighted %.5f (z = %.1f); mean weight·B = %.5f",
		meanX, est/epochs, zw, naive/epochs, zu, wsum/float64(draws)*b)
	if math.Abs(zw) > 4 {
		t.Errorf("weighted estimate is biased: z = %.2f", zw)
	}
	if math.Abs(zu) < 10 {
		t.Errorf("unweighted estimate should be clearly biased here, z = %.2f", zu)
	}
	if m := wsum / float64(draws) * b; math.Abs(m-1) > 0.01 {
		t.Errorf("mean weight = %g/B, want 1/B", m)
	}
}

func TestScheduleStateRoundTrip(t *testing.T) {
	const n = 2000
	cfg := postConfig()
	cfg.Mix, cfg.ReaddScore, cfg.Unbiased, cfg.DropFrac, cfg.ReaddFrac = 0.1, ReaddMean, true, 0.15, 0.02
	cfg.Debias = 0.25 // saved and restored; Unbiased overrides it in the draws
	run := func(o Order, from, to int) []Plan {
		var ps []Plan
		for e := from; e <= to; e++ {
			ps = append(ps, runEpoch(t, o, e, 64, func(i int) float32 { return scoreOf(i, e) }))
		}
		return ps
	}
	a := mustNew(t, NewSchedule, n, cfg, 99)
	run(a, 1, 4)
	st, err := a.State()
	if err != nil {
		t.Fatal(err)
	}
	want := run(a, 5, 9)

	b := mustNew(t, NewSchedule, n, postConfig(), 1) // other seed and config
	if err := b.Restore(st); err != nil {
		t.Fatal(err)
	}
	if b.Config() != cfg {
		t.Fatalf("restored config %+v, want %+v", b.Config(), cfg)
	}
	got := run(b, 5, 9)
	for e := range want {
		if !slices.Equal(got[e].Indices, want[e].Indices) || !slices.Equal(got[e].Weights, want[e].Weights) {
			t.Fatalf("epoch %d differs after restore", e+5)
		}
	}
	if !slices.Equal(a.KeptIndices(nil), b.KeptIndices(nil)) {
		t.Fatal("kept sets differ after restore")
	}
	sa, _ := a.State()
	sb, _ := b.State()
	if string(sa) != string(sb) {
		t.Fatal("states differ after the same epochs")
	}
}

func TestScheduleRestoreErrors(t *testing.T) {
	cfg := postConfig()
	s := mustNew(t, NewSchedule, 37, cfg, 1)
	runEpoch(t, s, 1, 8, func(i int) float32 { return scoreOf(i, 1) })
	runEpoch(t, s, 2, 8, func(i int) float32 { return scoreOf(i, 2) })
	st, _ := s.State()

	target := mustNew(t, NewSchedule, 37, cfg, 1)
	orig, _ := target.State()
	unchanged := func() {
		t.Helper()
		now, _ := target.State()
		if string(now) != string(orig) {
			t.Fatal("failed Restore changed the schedule")
		}
	}
	for l := range len(st) {
		if err := target.Restore(st[:l]); !errors.Is(err, ErrCorruptState) {
			t.Fatalf("Restore of %d of %d bytes: %v", l, len(st), err)
		}
	}
	unchanged()
	for i := range len(st) {
		for _, bit := range []byte{1, 0x80} {
			c := slices.Clone(st)
			c[i] ^= bit
			if err := target.Restore(c); !errors.Is(err, ErrCorruptState) && !errors.Is(err, ErrStateMismatch) {
				t.Fatalf("Restore with byte %d flipped: %v", i, err)
			}
		}
	}
	unchanged()
	if err := target.Restore(append(slices.Clone(st), 0)); !errors.Is(err, ErrCorruptState) {
		t.Fatalf("Restore with a trailing byte: %v", err)
	}

	other := mustNew(t, NewSchedule, 38, cfg, 1)
	if err := other.Restore(st); !errors.Is(err, ErrStateMismatch) {
		t.Fatalf("Restore into another N: %v", err)
	}
	sh, _ := NewShuffled(37, 1)
	shs, _ := sh.State()
	if err := target.Restore(shs); !errors.Is(err, ErrStateMismatch) {
		t.Fatalf("Restore of a Shuffled state: %v", err)
	}

	// Well-formed envelopes with bad contents.
	forge := func(mod func(e *encoder)) []byte {
		e := newEncoder(kindSchedule, 0)
		mod(e)
		return e.finish()
	}
	body := func(e *encoder, cfgDrop float64, kept []uint32, flags byte) {
		e.u64(4)
		e.u64(1)
		e.u64(64)
		e.u64(1)
		e.f64(cfgDrop)
		e.f64(0.01)
		e.f64(0)
		e.f64(0)
		e.u8(flags)
		e.u64(0)
		for range 4 {
			e.u32(0)
		}
		e.u8(0)
		e.u64(uint64(len(kept)))
		for _, i := range kept {
			e.u32(i)
		}
	}
	four := mustNew(t, NewSchedule, 4, cfg, 1)
	if err := four.Restore(forge(func(e *encoder) { body(e, 0.1, []uint32{0, 1, 3}, 0) })); err != nil {
		t.Fatalf("forged valid state: %v", err)
	}
	for name, data := range map[string][]byte{
		"bad config":    forge(func(e *encoder) { body(e, 1.5, []uint32{0}, 0) }),
		"bad flags":     forge(func(e *encoder) { body(e, 0.1, []uint32{0}, 4) }),
		"empty kept":    forge(func(e *encoder) { body(e, 0.1, nil, 0) }),
		"duplicate":     forge(func(e *encoder) { body(e, 0.1, []uint32{1, 1}, 0) }),
		"unsorted":      forge(func(e *encoder) { body(e, 0.1, []uint32{2, 1}, 0) }),
		"out of range":  forge(func(e *encoder) { body(e, 0.1, []uint32{4}, 0) }),
		"kept too long": forge(func(e *encoder) { body(e, 0.1, []uint32{0, 1, 2, 3, 4}, 0) }),
	} {
		if err := four.Restore(data); !errors.Is(err, ErrCorruptState) {
			t.Errorf("%s: Restore = %v, want ErrCorruptState", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	v2 := slices.Clone(st)
	v2[5] = 2
	v2 = v2[:len(v2)-4]
	v2 = (&encoder{b: v2}).finish()
	if err := target.Restore(v2); !errors.Is(err, ErrCorruptState) || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("Restore of version 2: %v", err)
	}
}

func FuzzScheduleRestore(f *testing.F) {
	s := mustNew(f, NewSchedule, 20, postConfig(), 1)
	runEpoch(f, s, 1, 4, func(i int) float32 { return scoreOf(i, 1) })
	runEpoch(f, s, 2, 4, func(i int) float32 { return scoreOf(i, 2) })
	st, _ := s.State()
	f.Add(st)
	f.Add([]byte("SGDS"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := mustNew(t, NewSchedule, 20, postConfig(), 1)
		if err := s.Restore(data); err != nil {
			if !errors.Is(err, ErrCorruptState) && !errors.Is(err, ErrStateMismatch) {
				t.Fatalf("Restore error %v wraps neither sentinel", err)
			}
			return
		}
		// A restored schedule must plan without panicking.
		if _, err := s.Plan(s.ended + 1); err != nil && !errors.Is(err, ErrBadScore) {
			t.Fatalf("Plan after Restore: %v", err)
		}
	})
}

func TestScheduleDeterministic(t *testing.T) {
	const n = 3000
	cfg := postConfig()
	cfg.Mix, cfg.Unbiased = 0.05, true
	plans := func(seed uint64) []Plan {
		s := mustNew(t, NewSchedule, n, cfg, seed)
		var ps []Plan
		for e := 1; e <= 5; e++ {
			ps = append(ps, runEpoch(t, s, e, 50, func(i int) float32 { return scoreOf(i, e) }))
		}
		return ps
	}
	a, b, c := plans(7), plans(7), plans(8)
	for e := range a {
		if !slices.Equal(a[e].Indices, b[e].Indices) || !slices.Equal(a[e].Weights, b[e].Weights) {
			t.Fatalf("epoch %d: same seed, different plans", e+1)
		}
		if slices.Equal(a[e].Indices, c[e].Indices) {
			t.Fatalf("epoch %d: different seeds, same plan", e+1)
		}
	}
	// The transient epoch equals the Shuffled order with the same seed.
	sh, _ := NewShuffled(n, 7)
	p, _ := sh.Plan(1)
	if !slices.Equal(p.Indices, a[0].Indices) {
		t.Fatal("transient epoch differs from Shuffled with the same seed")
	}
}

func TestScheduleBadScores(t *testing.T) {
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), -1} {
		s := mustNew(t, NewSchedule, 10, postConfig(), 1)
		s.Record([]int{3, 7, 8}, []float32{1, bad, -2})
		_, err := s.Plan(1)
		if !errors.Is(err, ErrBadScore) || !strings.Contains(err.Error(), "index 7") ||
			!strings.Contains(err.Error(), strings.TrimPrefix(fmtFloat(bad), "+")) {
			t.Fatalf("Plan with score %v at 7: %v", bad, err)
		}
		if err := s.EndEpoch(1); !errors.Is(err, ErrBadScore) {
			t.Fatalf("EndEpoch with score %v: %v", bad, err)
		}
		s.Record([]int{7, 8}, []float32{2, 0})
		if _, err := s.Plan(1); err != nil {
			t.Fatalf("Plan after fixing the scores: %v", err)
		}
	}
}

func fmtFloat(v float32) string {
	switch {
	case math.IsNaN(float64(v)):
		return "NaN"
	case math.IsInf(float64(v), 1):
		return "+Inf"
	case math.IsInf(float64(v), -1):
		return "-Inf"
	}
	return "-1"
}

func TestScheduleUniformFallbacks(t *testing.T) {
	const n, b = 200, 10
	cfg := postConfig()
	cfg.TransientEpochs, cfg.DropFrac, cfg.ReaddFrac, cfg.BatchSize, cfg.Unbiased = 0, 0, 0, b, true
	s := mustNew(t, NewSchedule, n, cfg, 1)

	// No score recorded: uniform.
	p, err := s.Plan(1)
	if err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if !st.Uniform || st.Unscored != n || st.Drawn != n || st.Kept != n || st.Distinct < 100 || st.Distinct > n {
		t.Fatalf("stats %+v", st)
	}
	for _, w := range p.Weights {
		if w != 1./b {
			t.Fatalf("uniform weight %g, want 1/B", w)
		}
	}
	distinct := map[int]bool{}
	for _, i := range p.Indices {
		distinct[i] = true
	}
	if len(distinct) != st.Distinct {
		t.Fatalf("Stats.Distinct = %d, plan has %d", st.Distinct, len(distinct))
	}
	if err := s.EndEpoch(1); err != nil {
		t.Fatal(err)
	}

	// All scores zero: uniform, no error.
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	s.Record(all, make([]float32, n))
	if _, err := s.Plan(2); err != nil || !s.Stats().Uniform {
		t.Fatalf("zero scores: %v, %+v", err, s.Stats())
	}
	if err := s.EndEpoch(2); err != nil {
		t.Fatal(err)
	}

	// Some scores recorded: the others count as their mean.
	s2 := mustNew(t, NewSchedule, 4, cfg, 1)
	s2.Record([]int{0, 2}, []float32{1, 3})
	if _, err := s2.Plan(1); err != nil {
		t.Fatal(err)
	}
	if st := s2.Stats(); st.Uniform || st.Unscored != 2 {
		t.Fatalf("stats %+v", st)
	}
	for i, want := range []float64{1. / 8, 2. / 8, 3. / 8, 2. / 8} {
		if got := s2.alias.Prob(i); math.Abs(got-want) > 1e-15 {
			t.Errorf("p(%d) = %g, want %g", i, got, want)
		}
	}
}

func TestScheduleEpochOrder(t *testing.T) {
	s := mustNew(t, NewSchedule, 50, postConfig(), 1)
	for _, e := range []int{0, -1, 2} {
		if _, err := s.Plan(e); !errors.Is(err, ErrEpoch) {
			t.Errorf("Plan(%d) first: %v", e, err)
		}
	}
	p1, err := s.Plan(1)
	if err != nil {
		t.Fatal(err)
	}
	p1b, _ := s.Plan(1)
	if !slices.Equal(p1.Indices, p1b.Indices) {
		t.Error("Plan(1) twice gave different plans")
	}
	if err := s.EndEpoch(1); err != nil {
		t.Fatal(err)
	}
	if err := s.EndEpoch(1); !errors.Is(err, ErrEpoch) {
		t.Errorf("EndEpoch(1) twice: %v", err)
	}
	if _, err := s.Plan(1); !errors.Is(err, ErrEpoch) {
		t.Errorf("Plan(1) after EndEpoch(1): %v", err)
	}
	if _, err := s.Plan(2); err != nil {
		t.Errorf("Plan(2): %v", err)
	}
}

func TestScheduleReaddScore(t *testing.T) {
	const n = 1000
	for _, mode := range []ReaddScore{ReaddLast, ReaddMean} {
		cfg := postConfig()
		cfg.DropFrac, cfg.ReaddFrac, cfg.ReaddScore = 0.5, 0.1, mode
		s := mustNew(t, NewSchedule, n, cfg, 4)
		score := func(i int) float32 { return float32(i + 1) }
		runEpoch(t, s, 1, 50, score)
		runEpoch(t, s, 2, 50, score) // drops 0…499, re-adds 100 of them
		survivorMean := 0.0
		for i := 500; i < n; i++ {
			sc, _ := s.Score(i)
			survivorMean += float64(sc) / 500
		}
		readded := 0
		for _, i := range s.KeptIndices(nil) {
			if i >= 500 {
				continue
			}
			readded++
			sc, ok := s.Score(i)
			want := score(i)
			if mode == ReaddMean {
				want = float32(survivorMean)
			}
			if !ok || sc != want {
				t.Fatalf("%s: re-added %d has score %v, want %v", mode, i, sc, want)
			}
		}
		if readded != 100 {
			t.Fatalf("%s: %d re-added, want 100", mode, readded)
		}
	}
}

func TestScheduleRecordNoAlloc(t *testing.T) {
	s := mustNew(t, NewSchedule, 1000, postConfig(), 1)
	idx := []int{5, 999, 0, 5}
	sc := []float32{1, 2, 3, 4}
	if n := testing.AllocsPerRun(100, func() { s.Record(idx, sc) }); n != 0 {
		t.Errorf("Record allocates %v times", n)
	}
	if err := s.Record(idx, sc[:2]); !errors.Is(err, ErrBadIndex) {
		t.Errorf("Record with mismatched lengths: %v, want ErrBadIndex", err)
	}
}

// TestScheduleFinalFull checks the annealing: the last round(a·E) epochs
// visit every sample once, carry no weights and leave the kept set alone;
// the epochs before them prune as usual; a restored schedule anneals by
// the receiver's planned length.
func TestScheduleFinalFull(t *testing.T) {
	const n = 500
	cfg := postConfig()
	cfg.Unbiased, cfg.DropFrac, cfg.FinalFull, cfg.Epochs = true, 0.2, 0.25, 8
	isPerm := func(idx []int) bool {
		s := slices.Sorted(slices.Values(idx))
		for i, v := range s {
			if v != i {
				return false
			}
		}
		return len(s) == n
	}
	check := func(s *Schedule, from, to, firstFull int) {
		t.Helper()
		for e := from; e <= to; e++ {
			before := s.KeptSize()
			p := runEpoch(t, s, e, 64, func(i int) float32 { return scoreOf(i, e) })
			full := e <= cfg.TransientEpochs || e >= firstFull
			switch {
			case full && (!isPerm(p.Indices) || p.Weights != nil || s.KeptSize() != before):
				t.Fatalf("epoch %d: want a full shuffled epoch without weights or pruning, got %d draws, weights %v, kept %d → %d",
					e, len(p.Indices), p.Weights != nil, before, s.KeptSize())
			case !full && (len(p.Indices) != before || p.Weights == nil || s.KeptSize() >= before):
				t.Fatalf("epoch %d: want %d weighted draws and a prune, got %d draws, kept %d → %d", e, before, len(p.Indices), before, s.KeptSize())
			}
		}
	}
	a := mustNew(t, NewSchedule, n, cfg, 5)
	check(a, 1, 8, 7) // E = 8: round(0.25·8) = 2 full epochs, 7 and 8

	// A resumed run planned for 12 epochs anneals in its last 3.
	b := mustNew(t, NewSchedule, n, cfg, 5)
	check(b, 1, 4, 7)
	st, err := b.State()
	if err != nil {
		t.Fatal(err)
	}
	longer := cfg
	longer.Epochs, longer.FinalFull = 12, 0
	c := mustNew(t, NewSchedule, n, longer, 1)
	if err := c.Restore(st); err != nil {
		t.Fatal(err)
	}
	if got := c.Config(); got.FinalFull != cfg.FinalFull || got.Epochs != 12 {
		t.Fatalf("restored FinalFull %v, Epochs %d; want %v, 12", got.FinalFull, got.Epochs, cfg.FinalFull)
	}
	check(c, 5, 12, 10)

	for _, bad := range []ScheduleConfig{{FinalFull: -0.1}, {FinalFull: 1.5}, {FinalFull: math.NaN()}, {Epochs: -1}} {
		c := postConfig()
		c.FinalFull, c.Epochs = bad.FinalFull, bad.Epochs
		if err := c.Validate(); !errors.Is(err, ErrBadConfig) {
			t.Errorf("Validate(FinalFull %v, Epochs %d) = %v, want ErrBadConfig", c.FinalFull, c.Epochs, err)
		}
	}
}

// TestScheduleSystematic checks systematic draws: each kept sample is drawn
// ⌊K·p_i⌋ or ⌈K·p_i⌉ times in every epoch, K·p_i times on average over
// many plans (so the unbiased weights stay unbiased), in a shuffled order,
// and the same seed gives the same plan.
func TestScheduleSystematic(t *testing.T) {
	const n, plans = 300, 4000
	q := make([]float64, n)
	sum := 0.0
	for i := range q {
		q[i] = float64(scoreOf(i, 1)) + 0.01
		if i%7 == 0 {
			q[i] *= 25 // some samples with K·p_i > 1
		}
		sum += q[i]
	}
	r := newStream()
	mean := make([]float64, n)
	dst := make([]int, n)
	var perm []int
	for e := range plans {
		perm = systematicDraw(dst, q, perm, r.at(7, purposeDraw, e+1))
		counts := make([]int, n)
		for _, j := range dst {
			counts[j]++
		}
		for j, c := range counts {
			want := float64(n) * q[j] / sum
			if float64(c) < math.Floor(want)-1e-9 || float64(c) > math.Ceil(want)+1e-9 {
				t.Fatalf("plan %d: position %d drawn %d times, K·p = %.3f", e, j, c, want)
			}
			mean[j] += float64(c) / plans
		}
		if e == 0 && slices.IsSorted(dst) {
			t.Fatal("systematic draws are not shuffled")
		}
	}
	// Chi-square-like check of the means: the count of position j is
	// ⌊x⌋ + Bernoulli(frac(x)), so its mean over P plans has variance
	// f(1−f)/P.
	worst := 0.0
	for j := range mean {
		x := float64(n) * q[j] / sum
		f := x - math.Floor(x)
		if f*(1-f) == 0 {
			continue
		}
		z := math.Abs(mean[j]-x) / math.Sqrt(f*(1-f)/plans)
		worst = max(worst, z)
	}
	if worst > 5 {
		t.Fatalf("mean draw count off K·p by %.1f standard errors", worst)
	}

	cfg := postConfig()
	cfg.Systematic, cfg.Unbiased, cfg.Mix = true, true, 0.3
	a, b := mustNew(t, NewSchedule, n, cfg, 3), mustNew(t, NewSchedule, n, cfg, 3)
	samePlans(t, a, b, 4, 32)
	st, err := a.State()
	if err != nil {
		t.Fatal(err)
	}
	c := mustNew(t, NewSchedule, n, postConfig(), 1)
	if err := c.Restore(st); err != nil || !c.Config().Systematic {
		t.Fatalf("restore lost Systematic (%v)", err)
	}
}

// TestScheduleMixRamp checks the eased switch: with scores where one
// sample has all the weight, the share of its draws in steady-state epoch
// j follows λ_j = λ + (1 − λ)·(R + 1 − j)/(R + 1), then λ.
func TestScheduleMixRamp(t *testing.T) {
	const n = 4000
	cfg := postConfig()
	cfg.DropFrac, cfg.ReaddFrac, cfg.Mix, cfg.MixRamp, cfg.Systematic = 0, 0, 0.2, 3, true
	s := mustNew(t, NewSchedule, n, cfg, 9)
	score := func(i int) float32 {
		if i == 0 {
			return 1
		}
		return 0
	}
	runEpoch(t, s, 1, 64, score) // transient
	for e := 2; e <= 6; e++ {
		p := runEpoch(t, s, e, 64, score)
		hot := 0
		for _, i := range p.Indices {
			if i == 0 {
				hot++
			}
		}
		j := e - cfg.TransientEpochs
		lam := cfg.Mix
		if j <= cfg.MixRamp {
			lam += (1 - cfg.Mix) * float64(cfg.MixRamp+1-j) / float64(cfg.MixRamp+1)
		}
		// Systematic draws: sample 0 gets ⌊K·p_0⌋ or ⌈K·p_0⌉ with
		// p_0 = (1 − λ) + λ/K.
		want := float64(n)*(1-lam) + lam
		if math.Abs(float64(hot)-want) > 1 {
			t.Errorf("epoch %d: sample 0 drawn %d times, want %.1f (λ = %.3f)", e, hot, want, lam)
		}
	}
}

// TestScheduleDebias checks the partially debiased weights exactly against
// (K·p_i)^(−β) / (B·Σ_l p_l·(K·p_l)^(−β)), that their expectation under the
// draw distribution is 1/B and that the realised mean weight is 1/B; that
// β = 1 gives the unbiased weights and Unbiased overrides Debias; and that
// the weighted mean of a per-sample quantity lies between the biased and
// the unbiased estimate, as β says.
func TestScheduleDebias(t *testing.T) {
	const n, b, epochs = 400, 16, 200
	scores := make([]float32, n)
	x := make([]float64, n)
	sumS := 0.0
	all := make([]int, n)
	for i := range all {
		all[i] = i
		scores[i] = float32(1 + i%7)
		sumS += float64(scores[i])
		x[i] = 1 + 0.5*float64(i%7) + 0.1*math.Sin(float64(i))
	}
	mean := func(beta float64, unbiased bool) (weighted, meanW float64) {
		cfg := postConfig()
		cfg.TransientEpochs, cfg.DropFrac, cfg.ReaddFrac = 0, 0, 0
		cfg.Mix, cfg.BatchSize, cfg.Debias, cfg.Unbiased = 0.3, b, beta, unbiased
		eff := beta
		if unbiased {
			eff = 1
		}
		p := func(i int) float64 { return (1-cfg.Mix)*float64(scores[i])/sumS + cfg.Mix/n }
		norm, expW := 0.0, 0.0
		for i := range n {
			norm += p(i) * math.Pow(n*p(i), -eff)
		}
		s := mustNew(t, NewSchedule, n, cfg, 7)
		s.Record(all, scores)
		var est, wsum float64
		draws := 0
		for epoch := 1; epoch <= epochs; epoch++ {
			pl, err := s.Plan(epoch)
			if err != nil {
				t.Fatal(err)
			}
			if eff == 0 {
				if pl.Weights != nil {
					t.Fatal("β = 0 carries weights")
				}
				for _, i := range pl.Indices {
					est += x[i]
				}
				draws += len(pl.Indices)
				wsum += float64(len(pl.Indices)) / b
			} else {
				for k, i := range pl.Indices {
					want := math.Pow(n*p(i), -eff) / (b * norm)
					if math.Abs(pl.Weights[k]-want) > 1e-9*want {
						t.Fatalf("β = %g: w = %g for index %d, want %g", eff, pl.Weights[k], i, want)
					}
					est += pl.Weights[k] * b * x[i]
					wsum += pl.Weights[k]
				}
				draws += len(pl.Indices)
			}
			if err := s.EndEpoch(epoch); err != nil {
				t.Fatal(err)
			}
		}
		for i := range n {
			expW += p(i) * math.Pow(n*p(i), -eff) / (b * norm)
		}
		if math.Abs(expW*b-1) > 1e-12 {
			t.Errorf("β = %g: E[w] = %g/B, want 1/B", eff, expW*b)
		}
		return est / float64(draws), wsum / float64(draws) * b
	}
	uniformMean := 0.0
	for _, v := range x {
		uniformMean += v / n
	}
	biased, _ := mean(0, false)
	half, w5 := mean(0.5, false)
	full, w1 := mean(1, false)
	over, _ := mean(0.25, true) // Unbiased wins over Debias
	t.Logf("kept mean %.4f: β=0 %.4f, β=0.5 %.4f, β=1 %.4f; mean weights·B %.4f %.4f", uniformMean, biased, half, full, w5, w1)
	if over != full {
		t.Errorf("Unbiased with Debias 0.25 gave %g, want β = 1's %g", over, full)
	}
	if math.Abs(full-uniformMean) > 0.01 || !(biased > half+0.05 && half > full+0.05) {
		t.Errorf("weighted means β=0 %.4f, β=0.5 %.4f, β=1 %.4f: want decreasing to the kept mean %.4f", biased, half, full, uniformMean)
	}
	for _, w := range []float64{w5, w1} {
		if math.Abs(w-1) > 0.01 {
			t.Errorf("mean weight %g/B, want 1/B", w)
		}
	}
}

// postConfig is the post's SGD-S: the defaults with purely
// score-proportional (λ = 0), independent draws and no weights (β = 0). Most tests check the
// alias draws through it; TestScheduleSystematic checks the defaults'.
func postConfig() ScheduleConfig {
	c := DefaultScheduleConfig()
	c.Mix, c.Systematic, c.Debias = 0, false, 0
	return c
}
