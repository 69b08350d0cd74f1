package sampler

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// probTol is the largest allowed |p_i − w_i/Σw|.
const probTol = 1e-12

// refProbs returns w_i/Σw, summed exactly in big.Float after scaling by the
// maximum.
func refProbs(w []float64) []float64 {
	m := 0.0
	for _, v := range w {
		m = max(m, v)
	}
	sum := new(big.Float).SetPrec(2048)
	for _, v := range w {
		sum.Add(sum, new(big.Float).SetFloat64(v/m))
	}
	s, _ := sum.Float64()
	p := make([]float64, len(w))
	for i, v := range w {
		p[i] = (v / m) / s
	}
	return p
}

// checkTable checks that the table built for w implies w_i/Σw to probTol,
// sums to 1, gives exactly 0 to zero weights, and that Prob agrees with
// Probs.
func checkTable(t testing.TB, a *Alias, w []float64) {
	t.Helper()
	if a.Len() != len(w) {
		t.Fatalf("Len() = %d, want %d", a.Len(), len(w))
	}
	ref := refProbs(w)
	got := a.Probs(nil)
	var sum kahan
	for i, p := range got {
		sum.add(p)
		if d := math.Abs(p - ref[i]); !(d <= probTol) {
			t.Fatalf("p[%d] = %.17g, want %.17g (w = %g), |diff| = %g", i, p, ref[i], w[i], d)
		}
		if w[i] == 0 && p != 0 {
			t.Fatalf("p[%d] = %g for a zero weight", i, p)
		}
		if p < 0 || p > 1 {
			t.Fatalf("p[%d] = %g outside [0, 1]", i, p)
		}
	}
	if s := sum.sum(); math.Abs(s-1) > probTol {
		t.Fatalf("Σp = %.17g, want 1", s)
	}
	for _, i := range []int{0, len(w) / 2, len(w) - 1} {
		if len(w) <= 5000 || i == 0 {
			if p := a.Prob(i); math.Abs(p-got[i]) > 1e-15 {
				t.Fatalf("Prob(%d) = %.17g, Probs()[%d] = %.17g", i, p, i, got[i])
			}
		}
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

func TestAliasBadWeights(t *testing.T) {
	cases := []struct {
		name string
		w    []float64
		msg  string
	}{
		{"nil", nil, "no weights"},
		{"empty", []float64{}, "no weights"},
		{"all zero", []float64{0, 0, math.Copysign(0, -1)}, "all 3 weights are zero"},
		{"NaN", []float64{1, 2, math.NaN(), -1}, "weight 2 is NaN"},
		{"+Inf", []float64{1, math.Inf(1)}, "weight 1 is +Inf"},
		{"-Inf", []float64{math.Inf(-1)}, "weight 0 is -Inf"},
		{"negative", []float64{0, 3, -0.5}, "weight 2 is -0.5"},
		{"tiny negative", []float64{1, -5e-324}, "weight 1 is -5e-324"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := NewAlias(c.w)
			if !errors.Is(err, ErrBadWeights) {
				t.Fatalf("NewAlias(%v) = %v, %v; want ErrBadWeights", c.w, a, err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not name %q", err, c.msg)
			}
		})
	}

	// A failed Reset leaves the table as it was.
	w := []float64{1, 2, 3}
	a, err := NewAlias(w)
	if err != nil {
		t.Fatal(err)
	}
	before := a.Probs(nil)
	if err := a.Reset([]float64{1, math.NaN(), 2, 4}); !errors.Is(err, ErrBadWeights) {
		t.Fatalf("Reset with NaN: %v", err)
	}
	if after := a.Probs(nil); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("failed Reset changed the table: %v → %v", before, after)
	}
}

func TestAliasProbs(t *testing.T) {
	r := newRand(1)
	gen := map[string]func(n int) []float64{
		"ones":    func(n int) []float64 { return fill(n, func(int) float64 { return 1 }) },
		"one-hot": func(n int) []float64 { return fill(n, func(i int) float64 { return b2f(i == n/3) }) },
		"ramp":    func(n int) []float64 { return fill(n, func(i int) float64 { return float64(i) }) },
		"uniform": func(n int) []float64 { return fill(n, func(int) float64 { return r.Float64() }) },
		"exp":     func(n int) []float64 { return fill(n, func(int) float64 { return r.ExpFloat64() }) },
		"pareto":  func(n int) []float64 { return fill(n, func(int) float64 { return math.Pow(1-r.Float64(), -3) }) },
		"sparse": func(n int) []float64 {
			return fill(n, func(int) float64 { return b2f(r.IntN(10) == 0) * r.Float64() })
		},
		"one big": func(n int) []float64 {
			return fill(n, func(i int) float64 { return 1 + b2f(i == 0)*1e6*float64(n) })
		},
		"span 1e-300…1e300": func(n int) []float64 {
			return fill(n, func(i int) float64 { return math.Pow(10, -300+600*float64(i)/float64(max(n-1, 1))) })
		},
		"subnormal": func(n int) []float64 {
			return fill(n, func(i int) float64 { return 5e-324 * float64(1+i%3) })
		},
		"huge": func(n int) []float64 {
			return fill(n, func(i int) float64 { return math.MaxFloat64 / float64(1+i%2) })
		},
	}
	for name, g := range gen {
		for _, n := range []int{1, 2, 3, 10, 1000, 100_000} {
			w := g(n)
			if name == "one-hot" && n == 1 {
				w[0] = 1
			}
			if name == "ramp" && n == 1 {
				w[0] = 2
			}
			if name == "sparse" {
				w[0] = 0.5
			}
			t.Run(fmt.Sprintf("%s/n=%d", name, n), func(t *testing.T) {
				a, err := NewAlias(w)
				if err != nil {
					t.Fatal(err)
				}
				checkTable(t, a, w)
			})
		}
	}
}

// TestAliasSpan checks the 1e-300 … 1e300 requirement with equal numbers of
// tiny and huge weights, where a naive Σw overflows.
func TestAliasSpan(t *testing.T) {
	w := []float64{1e-300, 1e300, 1e300, 1e-300, 1, 1e300, 5e-324}
	a, err := NewAlias(w)
	if err != nil {
		t.Fatal(err)
	}
	checkTable(t, a, w)
	for i, want := range []float64{0, 1. / 3, 1. / 3, 0, 0, 1. / 3, 0} {
		if p := a.Prob(i); math.Abs(p-want) > probTol {
			t.Errorf("p[%d] = %g, want %g", i, p, want)
		}
	}
	many := fill(1000, func(int) float64 { return 1e300 }) // Σw = 1e303 overflows
	a, err = NewAlias(many)
	if err != nil {
		t.Fatal(err)
	}
	checkTable(t, a, many)
}

// chiSquare returns Pearson's statistic and its p-value for the counts of
// draws against probabilities p. Bins with p = 0 must be empty; they do not
// count towards the degrees of freedom.
func chiSquare(counts []int, p []float64) (stat, pValue float64, err error) {
	total := 0
	for _, c := range counts {
		total += c
	}
	bins := 0
	for i, c := range counts {
		if p[i] == 0 {
			if c != 0 {
				return math.Inf(1), 0, fmt.Errorf("bin %d has probability 0 and %d draws", i, c)
			}
			continue
		}
		e := p[i] * float64(total)
		stat += (float64(c) - e) * (float64(c) - e) / e
		bins++
	}
	return stat, distuv.ChiSquared{K: float64(bins - 1)}.Survival(stat), nil
}

// drawCounts draws d times from a and counts the outcomes.
func drawCounts(a *Alias, d int, r *rand.Rand) []int {
	counts := make([]int, a.Len())
	buf := make([]int, 4096)
	for d > 0 {
		b := buf[:min(d, len(buf))]
		a.Fill(b, r)
		for _, i := range b {
			counts[i]++
		}
		d -= len(b)
	}
	return counts
}

// chiCases are the goodness-of-fit cases: weights and number of draws (at
// least 15 expected draws in every bin of non-zero weight).
func chiCases() []chiCase {
	r := newRand(7)
	return []chiCase{
		{10, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 200_000},
		{1000, fill(1000, func(int) float64 { return 0.1 + 9.9*r.Float64() }), 1_000_000},
		{100_000, fill(100_000, func(int) float64 { return 0.5 + r.Float64() }), 3_000_000},
	}
}

// chiCase is a goodness-of-fit case: draws from a table over n weights w.
type chiCase struct {
	n     int
	w     []float64
	draws int
}

// fit draws c.draws times from a table built on table (c.w or a perturbed
// copy) and returns the χ² statistic and p-value of the counts against
// the probabilities of c.w.
func (c chiCase) fit(t *testing.T, table []float64) (stat, p float64) {
	t.Helper()
	a, err := NewAlias(table)
	if err != nil {
		t.Fatal(err)
	}
	counts := drawCounts(a, c.draws, newRand(uint64(c.n)))
	stat, p, err = chiSquare(counts, refProbs(c.w))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("χ² = %.1f, p = %.3g", stat, p)
	return stat, p
}

func TestAliasChiSquare(t *testing.T) {
	for _, c := range chiCases() {
		t.Run(fmt.Sprintf("n=%d", c.n), func(t *testing.T) {
			stat, p := c.fit(t, c.w)
			if p < 1e-4 {
				t.Errorf("draws do not fit the weights: χ² = %.1f, p = %.3g", stat, p)
			}
		})
	}
}

// TestChiSquareDetectsWrongTable draws from a table built on weights
// perturbed by ±5% and checks that the goodness-of-fit test rejects it.
func TestChiSquareDetectsWrongTable(t *testing.T) {
	for _, c := range chiCases() {
		t.Run(fmt.Sprintf("n=%d", c.n), func(t *testing.T) {
			wrong := make([]float64, len(c.w))
			for i, v := range c.w {
				wrong[i] = v * (1 + 0.05*float64(1-2*(i%2)))
			}
			stat, p := c.fit(t, wrong)
			if p > 1e-6 {
				t.Errorf("perturbed table passed: χ² = %.1f, p = %.3g", stat, p)
			}
		})
	}
}

func TestAliasDrawFillAgree(t *testing.T) {
	w := fill(1000, func(i int) float64 { return float64(i % 17) })
	a, err := NewAlias(w)
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := newRand(3), newRand(3)
	got := make([]int, 10_000)
	a.Fill(got, r1)
	for k, g := range got {
		if d := a.Draw(r2); d != g {
			t.Fatalf("draw %d: Fill gave %d, Draw gave %d", k, g, d)
		}
		if w[g] == 0 {
			t.Fatalf("drew %d, whose weight is 0", g)
		}
	}
}

func TestAliasNoAlloc(t *testing.T) {
	w := fill(10_000, func(i int) float64 { return float64(1 + i%5) })
	a, err := NewAlias(w)
	if err != nil {
		t.Fatal(err)
	}
	r := newRand(1)
	dst := make([]int, 1000)
	if n := testing.AllocsPerRun(100, func() { a.Fill(dst, r) }); n != 0 {
		t.Errorf("Fill allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { a.Draw(r) }); n != 0 {
		t.Errorf("Draw allocates %v times", n)
	}
	small := w[:5000]
	if n := testing.AllocsPerRun(20, func() {
		if err := a.Reset(small); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Reset to a shorter length allocates %v times", n)
	}
	if err := a.Reset(w); err != nil {
		t.Fatal(err)
	}
	checkTable(t, a, w)
}

func TestAliasSingle(t *testing.T) {
	a, err := NewAlias([]float64{3})
	if err != nil {
		t.Fatal(err)
	}
	r := newRand(1)
	for range 100 {
		if d := a.Draw(r); d != 0 {
			t.Fatalf("Draw = %d", d)
		}
	}
}

func fill(n int, f func(i int) float64) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = f(i)
	}
	return w
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// TestAliasRandomMixtures builds tables for random mixtures of extreme
// weights (zeros, subnormals, 1e±300, ordinary values, repeats).
func TestAliasRandomMixtures(t *testing.T) {
	r := newRand(12)
	kinds := []func() float64{
		func() float64 { return 0 },
		func() float64 { return 5e-324 * float64(1+r.IntN(100)) },
		func() float64 { return 1e-300 * (1 + r.Float64()) },
		func() float64 { return 1e300 * (1 + r.Float64()) },
		func() float64 { return r.ExpFloat64() },
		func() float64 { return float64(r.IntN(4)) },
		func() float64 { return math.Ldexp(1, r.IntN(2000)-1000) },
	}
	for trial := range 300 {
		n := 1 + r.IntN(3000)
		if trial%10 == 0 {
			n = 1 + r.IntN(8)
		}
		use := kinds[:1+r.IntN(len(kinds))]
		w := make([]float64, n)
		for i := range w {
			w[i] = use[r.IntN(len(use))]()
		}
		w[r.IntN(n)] = 1 + r.Float64() // not all zero
		a, err := NewAlias(w)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		checkTable(t, a, w)
	}
}
