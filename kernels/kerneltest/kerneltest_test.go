package kerneltest

import (
	"fmt"
	"math"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	errors int
	fatal  bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.errors++ }
func (r *recorder) Fatalf(f string, a ...any) {
	r.fatal = true
	panic(fmt.Sprintf(f, a...))
}

// check runs Check on a recorder and reports (errors, fatal).
func check(t *testing.T, got []float32, want []float64, tol Tol) (int, bool) {
	r := &recorder{TB: t}
	func() {
		defer func() { _ = recover() }()
		Check(r, "x", got, want, tol)
	}()
	return r.errors, r.fatal
}

func TestCheck(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		name  string
		got   []float32
		want  []float64
		tol   Tol
		errs  int
		fatal bool
	}{
		{"nil against values", nil, []float64{1}, Tol{}, 0, true},
		{"values against nil", []float32{1}, nil, Tol{}, 0, true},
		{"equal", []float32{1, 2}, []float64{1, 2}, Tol{}, 0, false},
		{"both NaN", []float32{float32(nan)}, []float64{nan}, Tol{}, 0, false},
		{"NaN against a number", []float32{float32(nan)}, []float64{1}, Tol{Abs: 1e9}, 2, false},
		{"number against NaN", []float32{1}, []float64{nan}, Tol{Abs: 1e9}, 2, false},
		{"infinities", []float32{float32(math.Inf(1))}, []float64{math.Inf(1)}, Tol{}, 0, false},
		{"within rel", []float32{1.00001}, []float64{1}, Tol{Rel: 1e-4}, 0, false},
		{"outside rel", []float32{1.001}, []float64{1}, Tol{Rel: 1e-4}, 2, false},
		{"within abs", []float32{1e-8}, []float64{0}, Tol{Abs: 1e-7}, 0, false},
		{"scale", []float32{1.5}, []float64{1}, Tol{Rel: 1e-3, Scale: []float64{1e3}}, 0, false},
		{"short scale", []float32{1.5}, []float64{1}, Tol{Scale: []float64{}}, 0, true},
		// 7 mismatches: 5 reported, then the count.
		{"many", make([]float32, 7), []float64{1, 1, 1, 1, 1, 1, 1}, Tol{}, 6, false},
	} {
		errs, fatal := check(t, c.got, c.want, c.tol)
		if errs != c.errs || fatal != c.fatal {
			t.Errorf("%s: %d errors, fatal %v; want %d, %v", c.name, errs, fatal, c.errs, c.fatal)
		}
	}
	r := &recorder{TB: t}
	func() {
		defer func() { _ = recover() }()
		CheckInts(r, "n", []int32{1}, nil)
	}()
	if !r.fatal {
		t.Error("CheckInts accepted a length mismatch")
	}
	if Near(float32(nan), nan, 1) || !Near(1, 1.000001, 0) || Near(2, 1, 0.5) {
		t.Error("Near")
	}
}

func TestHelpers(t *testing.T) {
	if Name("B", 3, "C", "x") != "B=3/C=x" {
		t.Errorf("Name = %q", Name("B", 3, "C", "x"))
	}
	p := Poison(3)
	if len(p) != 3 || p[2] == p[2] || PoisonInts(2)[1] != PoisonInt {
		t.Error("poison")
	}
	r := Rand(1)
	if l := Labels(r, 100, 3); len(l) != 100 {
		t.Error("Labels")
	} else {
		for _, v := range l {
			if v < 0 || v >= 3 {
				t.Fatalf("label %d", v)
			}
		}
	}
	for _, v := range Start(r, 50) {
		if v < 1 || v >= 10 {
			t.Fatalf("start value %v", v)
		}
	}
	if s := SumTol(10, 1); s <= 0 || s > 1e-5 {
		t.Errorf("SumTol = %g", s)
	}
}
