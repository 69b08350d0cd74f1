package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
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

// Interval is a mean over N values with its 95% confidence interval
// [Lo, Hi]. Lo and Hi are NaN (null in JSON) for N < 2, Mean for N = 0.
//
// On the linear scale (Scale ""), Mean is the arithmetic mean and the
// interval is mean ± t(0.975, N−1)·sd/√N (MeanCI), cut to the range of the
// quantity when it has one (BoundedMeanCI). On the log scale (Scale "log",
// GeoMeanCI), Mean is the geometric mean, SD the standard deviation of the
// logarithms, and the interval exp(mean log ± t(0.975, N−1)·SD/√N): always
// positive, and a ratio of two such means is the exponential of a mean
// difference of logarithms.
type Interval struct {
	Mean  float64 `json:"mean"`
	Lo    float64 `json:"ci95_lo"`
	Hi    float64 `json:"ci95_hi"`
	SD    float64 `json:"sd"`
	N     int     `json:"n"`
	Scale string  `json:"scale,omitempty"`
}

// ScaleLog marks an Interval computed on the log scale.
const ScaleLog = "log"

// tHalf is the half-width t(0.975, n−1)·sd/√n of a 95% interval of a mean
// of n values.
func tHalf(sd float64, n int) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(0.975) * sd / math.Sqrt(float64(n))
}

// MeanCI returns the arithmetic mean of xs with its 95% t interval, for a
// quantity without bounds.
func MeanCI(xs []float64) Interval {
	iv := Interval{N: len(xs), Mean: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), SD: math.NaN()}
	if len(xs) == 0 {
		return iv
	}
	iv.Mean = stat.Mean(xs, nil)
	if len(xs) < 2 {
		return iv
	}
	iv.SD = stat.StdDev(xs, nil)
	half := tHalf(iv.SD, len(xs))
	iv.Lo, iv.Hi = iv.Mean-half, iv.Mean+half
	return iv
}

// BoundedMeanCI is MeanCI with the interval cut to [lo, hi], the range the
// quantity can take (an accuracy: [0, 1]; a difference of accuracies:
// [−1, 1]; a count: [0, +Inf)). With few values the t interval of a
// quantity near its bound runs past it; the cut interval is conservative
// on the side that stays and states no value the quantity cannot take.
func BoundedMeanCI(xs []float64, lo, hi float64) Interval {
	iv := MeanCI(xs)
	if !math.IsNaN(iv.Lo) {
		iv.Lo, iv.Hi = math.Max(iv.Lo, lo), math.Min(iv.Hi, hi)
	}
	return iv
}

// GeoMeanCI returns the geometric mean of xs, positive values (a time, a
// count of samples, a speedup), with its 95% interval on the log scale,
// which is positive. When some value is not positive (a time of 0 in a
// test), the log scale does not apply: it falls back to the arithmetic
// mean with its interval cut at 0.
func GeoMeanCI(xs []float64) Interval {
	logs := make([]float64, len(xs))
	for i, x := range xs {
		if !(x > 0) || math.IsInf(x, 1) {
			return BoundedMeanCI(xs, 0, math.Inf(1))
		}
		logs[i] = math.Log(x)
	}
	iv := MeanCI(logs)
	iv.Scale = ScaleLog
	iv.Mean = math.Exp(iv.Mean)
	if !math.IsNaN(iv.Lo) {
		iv.Lo, iv.Hi = math.Exp(iv.Lo), math.Exp(iv.Hi)
	}
	return iv
}

// geoMean is the geometric mean of positive xs (0 for none).
func geoMean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return stat.GeometricMean(xs, nil)
}

// MarshalJSON writes NaN and infinities as null.
func (iv Interval) MarshalJSON() ([]byte, error) {
	scale := ""
	if iv.Scale != "" {
		scale = fmt.Sprintf(`,"scale":%q`, iv.Scale)
	}
	return []byte(fmt.Sprintf(`{"mean":%s,"ci95_lo":%s,"ci95_hi":%s,"sd":%s,"n":%d%s}`,
		jsonNum(iv.Mean), jsonNum(iv.Lo), jsonNum(iv.Hi), jsonNum(iv.SD), iv.N, scale)), nil
}

// UnmarshalJSON reads null as NaN.
func (iv *Interval) UnmarshalJSON(b []byte) error {
	var raw struct {
		Mean  *float64 `json:"mean"`
		Lo    *float64 `json:"ci95_lo"`
		Hi    *float64 `json:"ci95_hi"`
		SD    *float64 `json:"sd"`
		N     int      `json:"n"`
		Scale string   `json:"scale"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	num := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	*iv = Interval{Mean: num(raw.Mean), Lo: num(raw.Lo), Hi: num(raw.Hi), SD: num(raw.SD), N: raw.N, Scale: raw.Scale}
	return nil
}

// jsonNum formats a number for JSON, null when not finite.
func jsonNum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "null"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
