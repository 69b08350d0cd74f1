package sampler

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// MaxAliasLen is the largest number of weights an Alias accepts (aliases are
// stored as int32).
const MaxAliasLen = math.MaxInt32

// Alias draws indices i ∈ [0, n) with probability p_i = w_i / Σ_j w_j in O(1)
// time per draw (Walker's alias method; the table is built in O(n) with
// Vose's algorithm).
//
// Column j of the table holds a threshold t_j ∈ [0, 1] and an alias a_j. A
// draw picks a column j uniformly, then returns j if a uniform u ∈ [0, 1) is
// below t_j and a_j otherwise, so the implied probability of i is
//
//	p_i = (t_i + Σ_{j : a_j = i} (1 − t_j)) / n,
//
// which [Alias.Prob] computes. The build keeps the residual of the column
// being drained in compensated (two-word) arithmetic, so p_i matches
// w_i / Σ_j w_j to within a few units of float64 rounding.
//
// An Alias is read-only after it is built, so Draw and Fill may be called
// concurrently with distinct generators. Reset must not run concurrently
// with anything else. The zero value is an empty table: Len is 0 and Draw
// panics.
type Alias struct {
	cols []aliasColumn
	work []int32 // small/large worklists during a build
}

// aliasColumn packs a column's threshold and alias into 16 bytes, so that a
// draw touches one cache line.
type aliasColumn struct {
	thr   float64
	alias int32
}

// NewAlias builds an alias table for weights. It returns an error wrapping
// [ErrBadWeights] that names the first bad index and value if a weight is NaN,
// infinite or negative, and also if weights is empty, all zero, or longer than
// [MaxAliasLen]. Weights are scaled by their maximum before summing, so that
// no finite input overflows.
func NewAlias(weights []float64) (*Alias, error) {
	a := &Alias{}
	if err := a.Reset(weights); err != nil {
		return nil, err
	}
	return a, nil
}

// Len returns the number of indices n the table draws from.
func (a *Alias) Len() int { return len(a.cols) }

// Reset rebuilds the table for weights, reusing the table's memory when it
// is large enough; it allocates nothing when len(weights) is at most the
// largest length built so far. Reset validates weights like [NewAlias]; on
// error the table is left unchanged.
func (a *Alias) Reset(weights []float64) error {
	n := len(weights)
	if n == 0 {
		return fmt.Errorf("%w: no weights", ErrBadWeights)
	}
	if n > MaxAliasLen {
		return fmt.Errorf("%w: %d weights, more than the limit %d", ErrBadWeights, n, MaxAliasLen)
	}
	// Pass 1: validate, and find the maximum m.
	m := 0.0
	for i, w := range weights {
		if !(w >= 0 && w <= math.MaxFloat64) { // NaN, negative, ±Inf
			return fmt.Errorf("%w: weight %d is %v", ErrBadWeights, i, w)
		}
		if w > m {
			m = w
		}
	}
	if m == 0 {
		return fmt.Errorf("%w: all %d weights are zero", ErrBadWeights, n)
	}

	if cap(a.cols) < n {
		a.cols = make([]aliasColumn, n)
		a.work = make([]int32, n)
	}
	cols := a.cols[:n]
	work := a.work[:n]
	a.cols = cols

	// Pass 2: v_i = w_i/m ∈ [0, 1] and S = Σ v_i ∈ [1, n], summed with
	// Neumaier's compensation.
	sum, comp := 0.0, 0.0
	for i, w := range weights {
		v := w / m
		cols[i] = aliasColumn{thr: v, alias: int32(i)}
		t := sum + v
		if sum >= v {
			comp += (sum - t) + v
		} else {
			comp += (v - t) + sum
		}
		sum = t
	}
	k := float64(n) / (sum + comp)

	// Pass 3: scaled probabilities q_i = n·v_i/S (mean 1), split into
	// small (q < 1, pushed from the front of work) and large (q ≥ 1,
	// pushed from the back).
	ns, nl := 0, n
	for i := range cols {
		q := cols[i].thr * k
		cols[i].thr = q
		if q < 1 {
			work[ns] = int32(i)
			ns++
		} else {
			nl--
			work[nl] = int32(i)
		}
	}

	// Pass 4 (Vose): take a large column l and let it fill small columns
	// s, each getting t_s = q_s and a_s = l, while its residual
	// r_l ← r_l − (1 − q_s) stays ≥ 1; the residual is the unevaluated sum
	// hi + lo of two float64s (exact two-sums), so that long chains do not
	// accumulate rounding. When r_l < 1, l becomes a small column.
	for nl < n && ns > 0 {
		l := work[nl]
		nl++
		hi, lo := cols[l].thr, 0.0
		for ns > 0 {
			ns--
			s := work[ns]
			qs := cols[s].thr
			cols[s].alias = l
			d := qs - 1 // |−1| ≥ |q_s|: fast two-sum
			e0 := qs - (d + 1)
			u := hi + d // |hi| ≥ 1 ≥ |d|: fast two-sum
			e1 := d - (u - hi)
			hi, lo = u, lo+e0+e1
			if r := hi + lo; r < 1 {
				cols[l].thr = max(r, 0)
				work[ns] = l
				ns++
				l = -1
				break
			}
		}
		if l >= 0 { // no small column left: l's residual is 1
			cols[l] = aliasColumn{thr: 1, alias: l}
		}
	}
	// Whatever is left has residual 1 up to rounding.
	for _, j := range work[:ns] {
		cols[j] = aliasColumn{thr: 1, alias: j}
	}
	for _, j := range work[nl:] {
		cols[j] = aliasColumn{thr: 1, alias: j}
	}
	return nil
}

// Draw returns one index i with probability p_i. It consumes two values
// from r (more only in the rare rejection step of r.Uint64N). Draw panics if
// the table is empty.
func (a *Alias) Draw(r *rand.Rand) int {
	j := r.Uint64N(uint64(len(a.cols)))
	c := a.cols[j]
	if r.Float64() < c.thr {
		return int(j)
	}
	return int(c.alias)
}

// Fill sets every dst[k] to an independent draw; it is equal to
//
//	for k := range dst { dst[k] = a.Draw(r) }
//
// and does not allocate.
func (a *Alias) Fill(dst []int, r *rand.Rand) {
	cols := a.cols
	n := uint64(len(cols))
	for k := range dst {
		j := r.Uint64N(n)
		c := cols[j]
		if r.Float64() < c.thr {
			dst[k] = int(j)
		} else {
			dst[k] = int(c.alias)
		}
	}
}

// Prob returns the probability with which the table draws i, computed from
// the table itself: p_i = (t_i + Σ_{j : a_j = i} (1 − t_j)) / n, summed
// with compensation. It takes O(n) time; use [Alias.Probs] for all of them.
// It panics if i is out of range.
func (a *Alias) Prob(i int) float64 {
	var acc kahan
	acc.add(a.cols[i].thr)
	for _, c := range a.cols {
		if int(c.alias) == i {
			acc.addOneMinus(c.thr)
		}
	}
	return acc.sum() / float64(len(a.cols))
}

// Probs stores p_i for every i in dst[:n] (see [Alias.Prob]) and returns
// it; it allocates a new slice if dst is too short, and O(n) scratch.
func (a *Alias) Probs(dst []float64) []float64 {
	n := len(a.cols)
	acc := make([]kahan, n)
	for j, c := range a.cols {
		acc[j].add(c.thr)
		acc[c.alias].addOneMinus(c.thr)
	}
	dst = resize(dst, n)
	for i := range dst {
		dst[i] = acc[i].sum() / float64(n)
	}
	return dst
}

// kahan is a compensated (Neumaier) sum.
type kahan struct{ s, c float64 }

func (k *kahan) add(v float64) {
	t := k.s + v
	if math.Abs(k.s) >= math.Abs(v) {
		k.c += (k.s - t) + v
	} else {
		k.c += (v - t) + k.s
	}
	k.s = t
}

// addOneMinus adds 1 − t exactly for t ∈ [0, 1].
func (k *kahan) addOneMinus(t float64) {
	d := 1 - t
	k.add(d)
	k.c += (1 - d) - t // exact rounding error of 1 − t
}

func (k *kahan) sum() float64 { return k.s + k.c }
