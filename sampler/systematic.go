package sampler

import "math/rand/v2"

// systematicDraw fills dst (K = len(dst) ≥ 1) with positions of q (weights
// q_j ≥ 0, Σq > 0) by systematic sampling: the positions, in a fresh random
// order, lay their q_j end to end on [0, Σq); the K points (u + m)·Σq/K,
// m = 0 … K−1, with one u ~ U[0, 1), pick the positions whose intervals
// they fall in. Position j is picked ⌊K·p_j⌋ or ⌈K·p_j⌉ times and K·p_j
// times on average (p_j = q_j/Σq). The picks are then shuffled. perm is
// scratch for the order; the (possibly grown) scratch is returned.
func systematicDraw(dst []int, q []float64, perm []int, r *rand.Rand) []int {
	perm = resize(perm, len(q))
	permute(perm, r)
	sum := 0.0
	for _, v := range q {
		sum += v
	}
	k := len(dst)
	step := sum / float64(k)
	u := r.Float64()
	m, c := 0, 0.0
	for _, j := range perm {
		c += q[j]
		for m < k && (u+float64(m))*step < c {
			dst[m] = j
			m++
		}
	}
	// Rounding in the running sum can leave the last points past the
	// end: they fall in the last position with weight.
	last := len(perm) - 1
	for last > 0 && q[perm[last]] == 0 {
		last--
	}
	for ; m < k; m++ {
		dst[m] = perm[last]
	}
	shuffle(dst, r)
	return perm
}
