package sampler

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/sampleuv"
)

// cumSum is the baseline sampler: cumulative sums and a binary search,
// O(n) build and O(log n) per draw.
type cumSum struct {
	c []float64 // c[i] = Σ_{j≤i} w_j
}

func newCumSum(w []float64) *cumSum {
	c := make([]float64, len(w))
	s := 0.0
	for i, v := range w {
		s += v
		c[i] = s
	}
	return &cumSum{c: c}
}

// draw returns the first i with c[i] > u·c[n−1], u uniform in [0, 1).
func (s *cumSum) draw(r *rand.Rand) int {
	c := s.c
	u := r.Float64() * c[len(c)-1]
	lo, hi := 0, len(c)-1
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if c[mid] > u {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

func TestCumSumChiSquare(t *testing.T) {
	c := chiCases()[1]
	s := newCumSum(c.w)
	r := newRand(2)
	counts := make([]int, len(c.w))
	for range c.draws {
		counts[s.draw(r)]++
	}
	if stat, p, err := chiSquare(counts, refProbs(c.w)); err != nil || p < 1e-4 {
		t.Fatalf("baseline sampler does not fit: χ² = %.1f, p = %.3g, %v", stat, p, err)
	}
}

// benchWeights returns n loss-like weights (exponential).
func benchWeights(n int) []float64 {
	r := newRand(uint64(n))
	return fill(n, func(int) float64 { return r.ExpFloat64() })
}

// benchTables returns benchWeights(n) with its alias table and cumulative
// sums.
func benchTables(b *testing.B, n int) ([]float64, *Alias, *cumSum) {
	w := benchWeights(n)
	a, err := NewAlias(w)
	if err != nil {
		b.Fatal(err)
	}
	return w, a, newCumSum(w)
}

var sink int

func BenchmarkAliasBuild(b *testing.B) {
	for _, n := range []int{60_000, 1_000_000, 10_000_000} {
		w := benchWeights(n)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				a, err := NewAlias(w)
				if err != nil {
					b.Fatal(err)
				}
				sink += a.Len()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/weight")
		})
	}
}

// BenchmarkAliasReset rebuilds a table in place, as the schedule does every
// epoch.
func BenchmarkAliasReset(b *testing.B) {
	for _, n := range []int{60_000, 1_000_000, 10_000_000} {
		w := benchWeights(n)
		a, err := NewAlias(w)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				if err := a.Reset(w); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/weight")
		})
	}
}

// reportDraws reports draws/s and ns/draw for a benchmark whose op is one
// draw.
func reportDraws(b *testing.B) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns, "ns/draw")
	b.ReportMetric(1e9/ns, "draws/s")
}

// BenchmarkDraw times one draw (op = one draw) with the alias table, the
// cumulative-sum baseline, and gonum's sampleuv.Weighted (a sampler without
// replacement: a draw is Take followed by Reweight to put the weight back).
// The alias case also reports speedup = cumsum time / alias time for the
// same number of draws, measured in the same run (see pairedSpeedup).
func BenchmarkDraw(b *testing.B) {
	for _, n := range []int{60_000, 1_000_000} {
		w, a, cs := benchTables(b, n)
		b.Run(fmt.Sprintf("n=%d/sampler=alias", n), func(b *testing.B) {
			b.ReportAllocs()
			r := newRand(1)
			s := 0
			for b.Loop() {
				s += a.Draw(r)
			}
			reportDraws(b)
			sink += s
			b.StopTimer()
			b.ReportMetric(speedup(a, cs, r), "speedup")
		})
		b.Run(fmt.Sprintf("n=%d/sampler=cumsum", n), func(b *testing.B) {
			b.ReportAllocs()
			r := newRand(1)
			s := 0
			for b.Loop() {
				s += cs.draw(r)
			}
			reportDraws(b)
			sink += s
		})
		b.Run(fmt.Sprintf("n=%d/sampler=gonum", n), func(b *testing.B) {
			b.ReportAllocs()
			g := sampleuv.NewWeighted(w, rand.NewPCG(1, 2))
			s := 0
			for b.Loop() {
				i, _ := g.Take()
				g.Reweight(i, w[i])
				s += i
			}
			reportDraws(b)
			sink += s
		})
	}
}

// speedupRounds and speedupDraws size the paired measurement of speedup:
// alternating runs of speedupDraws draws, long enough for each sampler to
// reach its steady state in the cache, and the fastest run of each, to
// discount load spikes on a shared machine.
const (
	speedupRounds = 3
	speedupDraws  = 1 << 20
)

// pairedSpeedup alternates speedupRounds runs of alias(speedupDraws) and
// cumsum(speedupDraws) and returns the best cumsum time over the best alias
// time.
func pairedSpeedup(alias, cumsum func(m int)) float64 {
	ta, tc := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
	for range speedupRounds {
		t0 := time.Now()
		alias(speedupDraws)
		t1 := time.Now()
		cumsum(speedupDraws)
		t2 := time.Now()
		ta = min(ta, t1.Sub(t0))
		tc = min(tc, t2.Sub(t1))
	}
	return float64(tc) / float64(ta)
}

// speedup compares Draw with the cumulative-sum baseline (see
// pairedSpeedup).
func speedup(a *Alias, cs *cumSum, r *rand.Rand) float64 {
	s := 0
	defer func() { sink += s }()
	return pairedSpeedup(
		func(m int) {
			for range m {
				s += a.Draw(r)
			}
		},
		func(m int) {
			for range m {
				s += cs.draw(r)
			}
		})
}

// BenchmarkFill times Fill into a 4096-draw buffer (op = one draw). It also
// reports speedup = time of cumulative-sum draws into a buffer / Fill time
// for the same number of draws, measured in the same run (see
// pairedSpeedup).
func BenchmarkFill(b *testing.B) {
	for _, n := range []int{60_000, 1_000_000} {
		_, a, cs := benchTables(b, n)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			r := newRand(1)
			dst := make([]int, speedupDraws)
			for i := 0; i < b.N; i += 4096 {
				a.Fill(dst[:min(4096, b.N-i)], r)
			}
			reportDraws(b)
			b.StopTimer()
			b.ReportMetric(pairedSpeedup(
				func(m int) { a.Fill(dst[:m], r) },
				func(m int) {
					for k := range dst[:m] {
						dst[k] = cs.draw(r)
					}
				}), "speedup")
		})
	}
}

// BenchmarkSchedule times one steady-state epoch of the schedule on an
// MNIST-sized data set: Plan (score imputation, table rebuild, K draws,
// unbiased weights) and EndEpoch (rank, drop, re-add), without Record.
func BenchmarkSchedule(b *testing.B) {
	const n = 60_000
	cfg := postConfig()
	cfg.Unbiased, cfg.DropFrac, cfg.ReaddFrac = true, 0.2, 0.1 // kept set tends to N/2
	s, err := NewSchedule(n, cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	runEpoch(b, s, 1, 64, func(i int) float32 { return scoreOf(i, 1) })
	b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e := s.ended + 1
			if _, err := s.Plan(e); err != nil {
				b.Fatal(err)
			}
			if err := s.EndEpoch(e); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(s.KeptSize()), "kept")
	})
}

// BenchmarkRecord times Record of one batch of 64 scores (op = one batch).
func BenchmarkRecord(b *testing.B) {
	const n, batch = 60_000, 64
	s, err := NewSchedule(n, postConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	p, err := s.Plan(1)
	if err != nil {
		b.Fatal(err)
	}
	sc := make([]float32, batch)
	for i := range sc {
		sc[i] = float32(i)
	}
	b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
		b.ReportAllocs()
		k := 0
		for b.Loop() {
			if k+batch > n {
				k = 0
			}
			s.Record(p.Indices[k:k+batch], sc)
			k += batch
		}
	})
}
