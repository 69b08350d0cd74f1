package sampler

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
)

// MaxAliasLen is the largest number of weights an Alias accepts.
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
// which [Alias.Prob] computes. A column is one 64-bit word: the alias in the
// low b = max(2, bits.Len(n−1)) bits, and t_j·2^64 rounded to a multiple of
// 2^b in the others (a full column, t_j = 1, is its own alias). The build keeps
// the residual of the column being drained in compensated (two-word)
// arithmetic and charges it with the rounded thresholds, so rounding does
// not accumulate: |p_i − w_i/Σw| ≤ 2^(b−64) plus a few float64 roundings,
// below 1e-12 for n ≤ 2^24.
//
// A draw takes one value x from the generator: the column is the high word
// of the 128-bit product x·n, and u is the low word over 2^64. Both are
// uniform to within n/2^64 (relative).
//
// An Alias is read-only after it is built, so Draw and Fill may be called
// concurrently with distinct generators. Reset must not run concurrently
// with anything else. The zero value is an empty table: Len is 0 and Draw
// panics.
type Alias struct {
	cols  []uint64 // column j: t_j·2^64 (rounded, low b bits clear) | a_j
	shift uint     // b
	mask  uint64   // 2^b − 1
	large []uint64 // during a build: bit i is set if column i is large
}

// NewAlias builds an alias table for weights. It returns an error wrapping
// [ErrBadWeights] that names the first bad index and value if a weight is NaN,
// infinite or negative, and also if weights is empty, all zero, or longer than
// [MaxAliasLen]. Sums are formed after scaling by a power of two near the
// largest weight when needed, so no finite input overflows.
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
	// Pass 1: validate, find the maximum m and the sum S = Σ w_i
	// (Neumaier's compensated sum).
	m, sum := 0.0, kahan{}
	for i, w := range weights {
		if !(w >= 0 && w <= math.MaxFloat64) { // NaN, negative, ±Inf
			return fmt.Errorf("%w: weight %d is %v", ErrBadWeights, i, w)
		}
		if w > m {
			m = w
		}
		sum.add(w)
	}
	if m == 0 {
		return fmt.Errorf("%w: all %d weights are zero", ErrBadWeights, n)
	}
	// Scale v_i = c1·c2·w_i with c1·c2 = 2^−e, m = f·2^e, when S could
	// overflow or lose precision: then S = Σ v_i ∈ [1/2, n). Products with
	// powers of two are exact unless they are subnormal.
	c1, c2 := 1.0, 1.0
	if m < 0x1p-960 || m > 0x1p960 {
		_, e := math.Frexp(m)
		c1, c2 = math.Ldexp(1, -e/2), math.Ldexp(1, -e-(-e/2))
		sum = kahan{}
		for _, w := range weights {
			sum.add(w * c1 * c2)
		}
	}
	k := float64(n) / sum.sum()

	nw := (n + 63) / 64
	if cap(a.cols) < n {
		a.cols = make([]uint64, n)
	}
	if cap(a.large) < nw {
		a.large = make([]uint64, nw)
	}
	cols, large := a.cols[:n], a.large[:nw]
	a.cols = cols
	// b ≥ 2, so that τ < 2^62 and x below fit int64 conversions.
	a.shift = uint(max(2, bits.Len64(uint64(n-1))))
	a.mask = 1<<a.shift - 1
	b := a.shift
	// A threshold t ∈ [0, 1] is rounded to τ ∈ [0, 2^(64−b)) with
	// t ≈ τ·2^(b−64) (the largest τ stands for 1).
	scale := math.Ldexp(1, 64-int(b))
	unscale := 1 / scale
	tauMax := int64(uint64(math.MaxUint64) >> b)
	full := ^a.mask // threshold of a full column (its alias is itself)

	// Pass 2: scaled probabilities q_i = n·v_i/S (mean 1). Column i is
	// small if q_i < 1 and large otherwise (bit i of large). Until its
	// column is final, cols[i] holds, as float64 bits, the rounded
	// threshold τ·2^(b−64) of a small column or q_i of a large one. The
	// loop is branch-free.
	for w := range large {
		base := w * 64
		ws := weights[base:min(base+64, n)]
		cs := cols[base : base+len(ws)]
		var word uint64
		for i, v := range ws {
			q := v * c1 * c2 * k
			tq := float64(min(int64(min1(q)*scale+0.5), tauMax)) * unscale
			var big uint64
			if q >= 1 {
				big = 1
			}
			qb, tb := math.Float64bits(q), math.Float64bits(tq)
			cs[i] = tb ^ (tb^qb)&-big // big ? qb : tb
			word |= big << uint(i)
		}
		large[w] = word
	}

	// Pass 3 (Vose, sweeping): take the large columns l in index order and
	// let each fill the next small columns s in index order, each getting
	// its rounded threshold t_s and a_s = l, while l's residual
	// r_l ← r_l − (1 − t_s) stays ≥ 1. The residual is the unevaluated sum
	// hi + lo of two float64s (exact two-sums), so long chains do not
	// accumulate rounding. When r_l < 1, l becomes a small column with
	// threshold t_l = r_l rounded, and is filled at once by the next large
	// column, which is charged 1 − r_l now and r_l − t_l through lo,
	// keeping the rounding off the dependency chain.
	smalls := bitIter{words: large, flip: ^uint64(0), w: -1, n: n}
	larges := bitIter{words: large, w: -1, n: n}
	if l := larges.next(); l >= 0 {
		hi, lo := math.Float64frombits(cols[l]), 0.0
		for {
			for hi >= 1 {
				s := smalls.next()
				if s < 0 {
					break
				}
				ts := math.Float64frombits(cols[s])
				cols[s] = uint64(int64(ts*scale))<<b | uint64(l) // exact
				d := ts - 1                                      // |−1| ≥ |t_s|: fast two-sum
				e0 := ts - (d + 1)
				u := hi + d // |hi| ≥ 1 > |d|: fast two-sum
				lo += e0 + (d - (u - hi))
				hi = u
			}
			if hi >= 1 { // no small column left: l's residual is 1
				cols[l] = full | uint64(l)
				break
			}
			next := larges.next()
			if next < 0 { // no large column left: l's residual is 1
				cols[l] = full | uint64(l)
				break
			}
			r := hi + lo
			if r < 0 { // rounding of an exact residual ≥ 0
				r = 0
			}
			tau := min(int64(min1(r)*scale+0.5), tauMax)
			cols[l] = uint64(tau)<<b | uint64(next)
			tl := float64(tau) * unscale
			q := math.Float64frombits(cols[next])
			d := r - 1 // |−1| ≥ |r|: fast two-sum
			e0 := r - (d + 1)
			u := q + d                      // q ≥ 1 > |d|: fast two-sum
			hi, lo = u, e0+(d-(u-q))+(tl-r) // tl − r is exact
			l = next
		}
	}
	// Whatever is left has residual 1 up to rounding.
	for j := smalls.next(); j >= 0; j = smalls.next() {
		cols[j] = full | uint64(j)
	}
	for j := larges.next(); j >= 0; j = larges.next() {
		cols[j] = full | uint64(j)
	}
	return nil
}

// bitIter yields, in increasing order, the indices i < n whose bit in words
// (xor flip) is set.
type bitIter struct {
	words []uint64
	flip  uint64
	cur   uint64 // bits of word w not yet yielded
	w     int
	n     int
}

// next returns the next index, or −1 when there is none.
func (it *bitIter) next() int {
	for it.cur == 0 {
		it.w++
		if it.w >= len(it.words) {
			return -1
		}
		it.cur = it.words[it.w] ^ it.flip
	}
	i := it.w*64 + bits.TrailingZeros64(it.cur)
	it.cur &= it.cur - 1
	if i >= it.n { // padding bits of the last word
		it.cur = 0
		return -1
	}
	return i
}

// min1 returns min(x, 1) for x ≥ 0, branch-free: the bits of non-negative
// float64s order like the numbers.
func min1(x float64) float64 {
	return math.Float64frombits(min(math.Float64bits(x), math.Float64bits(1)))
}

// Draw returns one index i with probability p_i; it consumes one value of r.
// Draw panics if the table is empty.
func (a *Alias) Draw(r *rand.Rand) int {
	j, u := bits.Mul64(r.Uint64(), uint64(len(a.cols)))
	c := a.cols[j]
	if u < c&^a.mask {
		return int(j)
	}
	return int(c & a.mask)
}

// fillBlock is the number of draws Fill prepares before it reads the table,
// so that the table reads of a block are independent and overlap.
const fillBlock = 64

// Fill sets every dst[k] to an independent draw; it is equal to
//
//	for k := range dst { dst[k] = a.Draw(r) }
//
// (the same values from the same generator) and does not allocate.
func (a *Alias) Fill(dst []int, r *rand.Rand) {
	cols, mask, n := a.cols, a.mask, uint64(len(a.cols))
	var us [fillBlock]uint64
	for len(dst) > 0 {
		blk := dst[:min(len(dst), fillBlock)]
		us := us[:len(blk)]
		for k := range blk {
			j, u := bits.Mul64(r.Uint64(), n)
			blk[k], us[k] = int(j), u
		}
		for k, j := range blk {
			c := cols[j]
			alias := int(c & mask)
			if us[k] >= c&^mask {
				j = alias
			}
			blk[k] = j
		}
		dst = dst[len(blk):]
	}
}

// threshold returns t_j of column j, and whether it is full (t_j = 1, its own
// alias).
func (a *Alias) threshold(j int) (t float64, alias int, full bool) {
	c := a.cols[j]
	alias = int(c & a.mask)
	if alias == j {
		return 1, j, true
	}
	return float64(c&^a.mask) * 0x1p-64, alias, false
}

// Prob returns the probability with which the table draws i, computed from
// the table itself: p_i = (t_i + Σ_{j : a_j = i, j ≠ i} (1 − t_j)) / n,
// summed with compensation. It takes O(n) time; use [Alias.Probs] for all
// of them. It panics if i is out of range.
func (a *Alias) Prob(i int) float64 {
	var acc kahan
	t, _, _ := a.threshold(i)
	acc.add(t)
	for j := range a.cols {
		if int(a.cols[j]&a.mask) == i && j != i {
			t, _, _ := a.threshold(j)
			acc.addOneMinus(t)
		}
	}
	return acc.sum() / float64(len(a.cols))
}

// Probs stores p_i for every i in dst[:n] (see [Alias.Prob]) and returns
// it; it allocates a new slice if dst is too short, and O(n) scratch.
func (a *Alias) Probs(dst []float64) []float64 {
	n := len(a.cols)
	acc := make([]kahan, n)
	for j := range a.cols {
		t, alias, full := a.threshold(j)
		acc[j].add(t)
		if !full {
			acc[alias].addOneMinus(t)
		}
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
