package sampler

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

func mustSelective(t testing.TB, beta float64, window int, seed uint64) *SelectiveBackprop {
	t.Helper()
	s, err := NewSelectiveBackprop(beta, window, seed)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// bernoulliChi2 returns the p-value of Σ_v (c_v − t·p_v)²/(t·p_v·(1−p_v)),
// over the bins with 0 < p_v < 1, for independent Binomial(t, p_v) counts.
func bernoulliChi2(c []int, t int, p []float64) float64 {
	stat, bins := 0.0, 0
	for v, x := range c {
		if p[v] <= 0 || p[v] >= 1 {
			continue
		}
		m, s2 := float64(t)*p[v], float64(t)*p[v]*(1-p[v])
		stat += (float64(x) - m) * (float64(x) - m) / s2
		bins++
	}
	return distuv.ChiSquared{K: float64(bins)}.Survival(stat)
}

// A history of 1 … W, fed the same values in the same cyclic order, stays
// the multiset {1, …, W}: each insertion evicts its equal. Candidate v
// then has CDF v/W and must be selected with probability (v/W)^β.
func TestSelectiveBackpropMatchesCDFPowBeta(t *testing.T) {
	const w, cycles = 20, 2000
	vals := make([]float32, w)
	for v := range vals {
		vals[v] = float32(v + 1)
	}
	dst := make([]bool, w)
	for _, beta := range []float64{0.5, 1, 2, 3} {
		s := mustSelective(t, beta, w, 17)
		if _, err := s.Select(vals, dst); err != nil {
			t.Fatal(err)
		}
		counts := make([]int, w)
		for range cycles {
			if _, err := s.Select(vals, dst); err != nil {
				t.Fatal(err)
			}
			for v, sel := range dst {
				if sel {
					counts[v]++
				}
			}
		}
		if !slices.Equal(s.sorted, vals) {
			t.Fatalf("β = %v: history drifted to %v", beta, s.sorted)
		}
		if counts[w-1] != cycles {
			t.Errorf("β = %v: the maximum was selected %d of %d times", beta, counts[w-1], cycles)
		}
		p := make([]float64, w)
		wrong := make([]float64, w)
		for v := range p {
			p[v] = math.Pow(float64(v+1)/w, beta)
			wrong[v] = math.Pow(float64(v+1)/w, beta+0.25)
		}
		if pv := bernoulliChi2(counts, cycles, p); pv < 1e-4 {
			t.Errorf("β = %v: selection counts %v do not match CDF^β (p = %g)", beta, counts, pv)
		}
		if pv := bernoulliChi2(counts, cycles, wrong); pv > 1e-4 {
			t.Errorf("β = %v: counts also match CDF^(β+0.25) (p = %g): the test has no power", beta, pv)
		}
	}
}

func TestSelectiveBackpropBetaZeroAndMaximum(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	losses := make([]float32, 256)
	for i := range losses {
		losses[i] = r.Float32() * 5
	}
	dst := make([]bool, len(losses))
	s := mustSelective(t, 0, 64, 3)
	for range 4 {
		if k, err := s.Select(losses, dst); err != nil || k != len(losses) || slices.Contains(dst, false) {
			t.Fatalf("β = 0 selected %d of %d (%v)", k, len(losses), err)
		}
	}
	// A full history and a new maximum: always selected, for any β.
	for _, beta := range []float64{1, 3, 10} {
		s := mustSelective(t, beta, 64, 5)
		if _, err := s.Select(losses, dst); err != nil {
			t.Fatal(err)
		}
		top := float32(5)
		for k := range 500 {
			top += r.Float32()
			if _, err := s.Select([]float32{top}, dst[:1]); err != nil || !dst[0] {
				t.Fatalf("β = %v: new maximum %d not selected (%v)", beta, k, err)
			}
		}
	}
}

func TestSelectiveBackpropWindowEviction(t *testing.T) {
	s := mustSelective(t, 1, 4, 1)
	dst := make([]bool, 4)
	s.Select([]float32{10, 20, 30, 40}, dst)
	s.Select([]float32{5}, dst) // evicts 10
	if !slices.Equal(s.sorted, []float32{5, 20, 30, 40}) || s.Len() != 4 {
		t.Fatalf("history %v after evicting the oldest", s.sorted)
	}
	s.Select([]float32{25}, dst) // evicts 20
	if !slices.Equal(s.sorted, []float32{5, 25, 30, 40}) {
		t.Fatalf("history %v", s.sorted)
	}
	if c := s.cdf(25); c != 0.5 {
		t.Fatalf("CDF(25) = %v, want 2/4", c)
	}
	// Against a brute-force window on a long stream with repeats.
	r := rand.New(rand.NewPCG(7, 7))
	s = mustSelective(t, 2, 64, 9)
	var all []float32
	for step := range 3000 {
		v := float32(r.IntN(40)) / 4
		s.Select([]float32{v}, dst[:1])
		all = append(all, v)
		if step%97 == 0 || step < 70 {
			want := slices.Sorted(slices.Values(all[max(0, len(all)-64):]))
			if !slices.Equal(s.sorted, want) {
				t.Fatalf("step %d: history %v, want the last 64 %v", step, s.sorted, want)
			}
			le := 0
			for _, h := range want {
				if h <= v {
					le++
				}
			}
			if got := s.cdf(v); got != float64(le)/float64(len(want)) {
				t.Fatalf("step %d: CDF(%v) = %v, want %d/%d", step, v, got, le, len(want))
			}
		}
	}
}

func TestSelectiveBackpropErrorsAndResume(t *testing.T) {
	for _, c := range []struct {
		beta float64
		w    int
	}{{-1, 8}, {math.NaN(), 8}, {math.Inf(1), 8}, {1, 0}, {1, 1<<24 + 1}} {
		if _, err := NewSelectiveBackprop(c.beta, c.w, 1); !errors.Is(err, ErrBadConfig) {
			t.Errorf("β = %v, W = %d: %v", c.beta, c.w, err)
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	batch := func() []float32 {
		b := make([]float32, 32)
		for i := range b {
			b[i] = r.Float32() * 3
		}
		return b
	}
	a := mustSelective(t, 2, 100, 11)
	for range 5 {
		a.Select(batch(), make([]bool, 32))
	}
	// A bad loss changes nothing.
	st0, _ := a.State()
	bad := batch()
	bad[7] = float32(math.NaN())
	if _, err := a.Select(bad, make([]bool, 32)); !errors.Is(err, ErrBadScore) {
		t.Fatalf("NaN loss: %v", err)
	}
	if st1, _ := a.State(); !slices.Equal(st0, st1) {
		t.Fatal("a rejected batch changed the selector")
	}
	c := mustSelective(t, 1, 7, 99)
	if err := c.Restore(st0); err != nil {
		t.Fatal(err)
	}
	if c.Beta() != 2 || c.Window() != 100 || c.Len() != 100 {
		t.Fatalf("restored β %v, W %d, len %d", c.Beta(), c.Window(), c.Len())
	}
	for k := range 5 {
		l := batch()
		da, dc := make([]bool, 32), make([]bool, 32)
		na, _ := a.Select(l, da)
		nc, _ := c.Select(l, dc)
		if na != nc || !slices.Equal(da, dc) {
			t.Fatalf("call %d after restore: selections differ", k)
		}
	}
	for l := range len(st0) {
		if err := c.Restore(st0[:l]); !errors.Is(err, ErrCorruptState) {
			t.Fatalf("Restore of %d bytes: %v", l, err)
		}
	}
	kf, _ := (&KF{cfg: DefaultKFConfig()}).State()
	if err := c.Restore(kf); !errors.Is(err, ErrStateMismatch) {
		t.Errorf("Restore of a KF state: %v", err)
	}
}

func TestSelectiveBackpropRestoreRejectsForgedHistory(t *testing.T) {
	forge := func(window, h uint64, hist ...float32) []byte {
		e := newEncoder(kindSelective, 64)
		e.f64(2)
		e.u64(window)
		e.u64(1)
		e.u64(0)
		e.u64(h)
		for _, v := range hist {
			e.u32(math.Float32bits(v))
		}
		return e.finish()
	}
	s := mustSelective(t, 1, 8, 1)
	if err := s.Restore(forge(4, 3, 1, 2, 3)); err != nil || s.Len() != 3 {
		t.Fatalf("valid forged state: %v", err)
	}
	for name, data := range map[string][]byte{
		"NaN loss":      forge(4, 2, 1, float32(math.NaN())),
		"negative loss": forge(4, 2, 1, -2),
		"h > window":    forge(2, 3, 1, 2, 3),
		"short":         forge(4, 3, 1, 2),
		"window 0":      forge(0, 0),
	} {
		if err := s.Restore(data); !errors.Is(err, ErrCorruptState) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if s.Len() != 3 || s.Window() != 4 {
		t.Fatal("a failed Restore changed the selector")
	}
}

func TestSelectAndChooseDoNotAllocate(t *testing.T) {
	s := mustSelective(t, 2, 64, 1)
	losses := make([]float32, 100)
	for i := range losses {
		losses[i] = float32(i % 17)
	}
	dst := make([]bool, len(losses))
	s.Select(losses, dst)
	if a := testing.AllocsPerRun(20, func() { s.Select(losses, dst) }); a != 0 {
		t.Errorf("Select allocates %v times per call", a)
	}
	k := mustKF(t, KFConfig{Presample: 4, Threshold: 0.5}, 1)
	pos, w := make([]int, 25), make([]float64, 25)
	k.Choose(losses, 25, pos, w)
	if a := testing.AllocsPerRun(20, func() { k.Choose(losses, 25, pos, w) }); a != 0 {
		t.Errorf("Choose allocates %v times per call", a)
	}
}
