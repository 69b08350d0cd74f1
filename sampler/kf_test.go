package sampler

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func mustKF(t testing.TB, cfg KFConfig, seed uint64) *KF {
	t.Helper()
	s, err := NewKF(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKFConfigValidate(t *testing.T) {
	c := DefaultKFConfig()
	if err := c.Validate(); err != nil || c.EffectiveThreshold() != 2 {
		t.Fatalf("default: %v, threshold %v", err, c.EffectiveThreshold())
	}
	c.Presample = 6
	if c.EffectiveThreshold() != 3 { // (6B + 3B)/(3B)
		t.Fatalf("k = 6: threshold %v", c.EffectiveThreshold())
	}
	for name, mod := range map[string]func(*KFConfig){
		"Presample":    func(c *KFConfig) { c.Presample = 0 },
		"Threshold<0":  func(c *KFConfig) { c.Threshold = -1 },
		"ThresholdInf": func(c *KFConfig) { c.Threshold = math.Inf(1) },
		"Momentum=1":   func(c *KFConfig) { c.Momentum = 1 },
		"MomentumNaN":  func(c *KFConfig) { c.Momentum = math.NaN() },
	} {
		c := DefaultKFConfig()
		mod(&c)
		if _, err := NewKF(c, 1); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// τ is 1 for uniform scores and for Σg = 0, sqrt(n) for one non-zero
// score, and equals the paper's form (1 − Σ(p−u)²/Σp²)^(−1/2).
func TestKFTau(t *testing.T) {
	for _, n := range []int{1, 2, 24, 1000} {
		g := make([]float32, n)
		for i := range g {
			g[i] = 0.37
		}
		if tau, _ := kfTau(g); math.Abs(tau-1) > 1e-12 {
			t.Errorf("n = %d: τ of uniform scores is %v", n, tau)
		}
		clear(g)
		if tau, sum := kfTau(g); tau != 1 || sum != 0 {
			t.Errorf("n = %d: τ of zero scores is %v", n, tau)
		}
		g[n-1] = 5
		if tau, _ := kfTau(g); math.Abs(tau-math.Sqrt(float64(n))) > 1e-12 {
			t.Errorf("n = %d: τ of one spike is %v, want sqrt(n)", n, tau)
		}
	}
	r := rand.New(rand.NewPCG(5, 5))
	g := make([]float32, 48)
	for i := range g {
		g[i] = r.Float32() * r.Float32() * 10
	}
	sum, sq, dev := 0.0, 0.0, 0.0
	for _, v := range g {
		sum += float64(v)
	}
	u := 1.0 / float64(len(g))
	for _, v := range g {
		p := float64(v) / sum
		sq += p * p
		dev += (p - u) * (p - u)
	}
	want := 1 / math.Sqrt(1-dev/sq)
	if tau, _ := kfTau(g); math.Abs(tau-want) > 1e-12*want {
		t.Errorf("τ = %v, the paper's form gives %v", tau, want)
	}
}

// Forced on, Choose draws position i with probability g_i/Σg and weight
// 1/(B·n·p_i), and Σ w·L is an unbiased estimate of the candidates' mean.
func TestKFDrawsAndIsUnbiased(t *testing.T) {
	const k, b, calls = 3, 8, 5000
	n := k * b
	s := mustKF(t, KFConfig{Presample: k, Threshold: 0.5, Momentum: 0}, 42)
	g := make([]float32, n)
	loss := make([]float64, n)
	sumG, meanL := 0.0, 0.0
	for i := range g {
		g[i] = float32(i) // position 0 has score 0: never drawn
		sumG += float64(g[i])
		loss[i] = 0.5 + float64(i%5)*float64(i)/10 // correlated with g, not proportional
		if g[i] > 0 {
			// A zero gradient bound contributes nothing: the target
			// is (1/n)·Σ_{g_i>0} L_i.
			meanL += loss[i] / float64(n)
		}
	}
	p := make([]float64, n)
	for i := range p {
		p[i] = float64(g[i]) / sumG
	}
	counts := make([]int, n)
	pos, w := make([]int, b), make([]float64, b)
	var s1, s2 float64
	for c := range calls {
		on, err := s.Choose(g, b, pos, w)
		if err != nil || !on {
			t.Fatalf("call %d: on = %v, %v", c, on, err)
		}
		est := 0.0
		for j, i := range pos {
			counts[i]++
			if want := 1 / (b * float64(n) * p[i]); math.Abs(w[j]-want) > 1e-12*want {
				t.Fatalf("position %d: weight %v, want 1/(B·n·p) = %v", i, w[j], want)
			}
			est += w[j] * loss[i]
		}
		s1 += est
		s2 += est * est
	}
	if _, pv, err := chiSquare(counts, p); err != nil || pv < 1e-4 {
		t.Errorf("draw counts %v do not follow g/Σg (p = %g, %v)", counts, pv, err)
	}
	m := s1 / calls
	se := math.Sqrt((s2/calls - m*m) / calls)
	if z := (m - meanL) / se; math.Abs(z) > 4.5 {
		t.Errorf("mean Σw·L %v, candidates' mean loss %v: z = %.2f", m, meanL, z)
	}
	// The plain mean of the drawn losses is biased towards high scores.
	if z := (meanDrawn(counts, loss) - meanL) / se; z < 10 {
		t.Errorf("unweighted mean of the draws is not biased (z = %.2f): the check has no power", z)
	}
}

func meanDrawn(counts []int, loss []float64) float64 {
	s, c := 0.0, 0
	for i, k := range counts {
		s += float64(k) * loss[i]
		c += k
	}
	return s / float64(c)
}

// With the default threshold (k+3)/3 = 2 and momentum 0.9: uniform scores
// keep it off; spiky scores switch it on once τ̄ = τ·(1 − 0.9^t) exceeds 2;
// uniform scores again switch it off once τ̄ decays below 2.
func TestKFSwitchesWithThreshold(t *testing.T) {
	const k, b = 3, 8
	n := k * b
	s := mustKF(t, DefaultKFConfig(), 1)
	flat := make([]float32, n)
	spiky := make([]float32, n)
	for i := range flat {
		flat[i] = 2
		spiky[i] = 0.1
	}
	spiky[5] = 20
	pos, w := make([]int, b), make([]float64, b)
	uniformBatch := func() bool {
		for j := range b {
			if pos[j] != j || w[j] != 1.0/b {
				return false
			}
		}
		return true
	}
	for c := range 50 {
		if on, _ := s.Choose(flat, b, pos, w); on || !uniformBatch() {
			t.Fatalf("flat call %d: on = %v, batch %v %v", c, on, pos, w)
		}
	}
	if math.Abs(s.Tau()-(1-math.Pow(0.9, 50))) > 1e-12 || s.LastTau() != 1 {
		t.Fatalf("τ̄ = %v after 50 uniform calls, want 1 − 0.9^50", s.Tau())
	}
	tauSpiky, _ := kfTau(spiky)
	avg := s.Tau()
	switchedOn := 0
	for c := 1; c <= 40; c++ {
		avg = 0.9*avg + 0.1*tauSpiky
		on, _ := s.Choose(spiky, b, pos, w)
		if on != (avg > 2) || math.Abs(s.Tau()-avg) > 1e-12 {
			t.Fatalf("spiky call %d: on = %v, τ̄ = %v, want %v", c, on, s.Tau(), avg)
		}
		if on && switchedOn == 0 {
			switchedOn = c
		}
	}
	if switchedOn < 2 || !s.On() {
		t.Fatalf("switched on at spiky call %d (τ = %v)", switchedOn, tauSpiky)
	}
	switchedOff := 0
	for c := 1; c <= 60; c++ {
		on, _ := s.Choose(flat, b, pos, w)
		if !on && switchedOff == 0 {
			switchedOff = c
		}
		if on == (s.Tau() <= 2) {
			t.Fatalf("flat call %d: on = %v with τ̄ = %v", c, on, s.Tau())
		}
	}
	if switchedOff < 2 || s.On() {
		t.Fatalf("switched off at flat call %d", switchedOff)
	}
	// All-zero scores: τ = 1, and no draw is possible even while τ̄ is high.
	z := mustKF(t, KFConfig{Presample: k, Threshold: 0.5, Momentum: 0.99}, 1)
	z.Choose(spiky, b, pos, w)
	if on, err := z.Choose(make([]float32, n), b, pos, w); on || err != nil || !uniformBatch() || z.LastTau() != 1 {
		t.Fatalf("zero scores: on = %v (%v), τ = %v", on, err, z.LastTau())
	}
}

func TestKFErrorsAndResume(t *testing.T) {
	s := mustKF(t, DefaultKFConfig(), 1)
	pos, w := make([]int, 4), make([]float64, 4)
	if _, err := s.Choose(make([]float32, 3), 4, pos, w); !errors.Is(err, ErrBadConfig) {
		t.Errorf("B > n: %v", err)
	}
	if _, err := s.Choose(make([]float32, 3), 0, pos, w); !errors.Is(err, ErrBadConfig) {
		t.Errorf("B = 0: %v", err)
	}
	if _, err := s.Choose([]float32{1, -1, 2, 3}, 4, pos, w); !errors.Is(err, ErrBadScore) || s.Tau() != 0 {
		t.Errorf("negative score: %v, τ̄ = %v", err, s.Tau())
	}

	r := rand.New(rand.NewPCG(9, 9))
	scores := func() []float32 {
		g := make([]float32, 24)
		for i := range g {
			g[i] = r.Float32() * r.Float32() * r.Float32()
		}
		return g
	}
	cfg := KFConfig{Presample: 3, Threshold: 1.05, Momentum: 0.5}
	a := mustKF(t, cfg, 7)
	for range 10 {
		a.Choose(scores(), 8, make([]int, 8), make([]float64, 8))
	}
	st, _ := a.State()
	c := mustKF(t, DefaultKFConfig(), 3)
	if err := c.Restore(st); err != nil {
		t.Fatal(err)
	}
	if c.Config() != cfg || c.Tau() != a.Tau() {
		t.Fatalf("restored %+v τ̄ %v", c.Config(), c.Tau())
	}
	anyOn := false
	for k := range 10 {
		g := scores()
		pa, wa := make([]int, 8), make([]float64, 8)
		pc, wc := make([]int, 8), make([]float64, 8)
		oa, _ := a.Choose(g, 8, pa, wa)
		oc, _ := c.Choose(g, 8, pc, wc)
		if oa != oc || !slices.Equal(pa, pc) || !slices.Equal(wa, wc) {
			t.Fatalf("call %d after restore: choices differ", k)
		}
		anyOn = anyOn || oa
	}
	if !anyOn {
		t.Fatal("never on: the resume check is vacuous")
	}
	for l := range len(st) {
		if err := c.Restore(st[:l]); !errors.Is(err, ErrCorruptState) {
			t.Fatalf("Restore of %d bytes: %v", l, err)
		}
	}
	sb, _ := mustSelective(t, 1, 8, 1).State()
	if err := c.Restore(sb); !errors.Is(err, ErrStateMismatch) {
		t.Errorf("Restore of a SelectiveBackprop state: %v", err)
	}
}
