package bench

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"
)

// Ranks returns the 1-based ranks of x in ascending order, ties sharing the
// mean of their ranks.
func Ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		mean := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = mean
		}
		i = j + 1
	}
	return r
}

// median of a non-empty slice (copied, not reordered).
func median(x []float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Spearman is the Pearson correlation of the ranks of x and y.
func Spearman(x, y []float64) float64 {
	return stat.Correlation(Ranks(x), Ranks(y), nil)
}

// Pearson is the sample correlation of x and y.
func Pearson(x, y []float64) float64 { return stat.Correlation(x, y, nil) }

// PearsonLog is the Pearson correlation of log x and log y over the pairs
// where both are positive.
func PearsonLog(x, y []float64) float64 {
	var lx, ly []float64
	for i := range x {
		if x[i] > 0 && y[i] > 0 {
			lx = append(lx, math.Log(x[i]))
			ly = append(ly, math.Log(y[i]))
		}
	}
	return stat.Correlation(lx, ly, nil)
}

// TopOverlap is the share of the top frac of samples by x that are also in
// the top frac by y.
func TopOverlap(x, y []float64, frac float64) float64 {
	k := int(math.Round(frac * float64(len(x))))
	if k == 0 {
		return math.NaN()
	}
	top := func(v []float64) map[int]bool {
		idx := make([]int, len(v))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] > v[idx[b]] })
		m := make(map[int]bool, k)
		for _, i := range idx[:k] {
			m[i] = true
		}
		return m
	}
	tx, ty := top(x), top(y)
	n := 0
	for i := range tx {
		if ty[i] {
			n++
		}
	}
	return float64(n) / float64(k)
}
