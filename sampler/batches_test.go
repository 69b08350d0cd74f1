package sampler

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestRecordRejectsUnknownIndices checks that every order refuses, with
// ErrBadIndex and without recording anything, an index outside [0, N) and
// slices of different lengths, and accepts the indices it knows.
func TestRecordRejectsUnknownIndices(t *testing.T) {
	const n = 10
	must := func(o Order, err error) Order {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	orders := map[string]Order{
		"sequential":      must(NewSequential(n)),
		"shuffled":        must(NewShuffled(n, 1)),
		"withreplacement": must(NewWithReplacement(n, 1)),
		"rs2":             must(NewRS2(n, 0.5, 1)),
		"schedule":        must(NewSchedule(n, DefaultScheduleConfig(), 1)),
		"infobatch":       must(NewInfoBatch(n, DefaultInfoBatchConfig(5), 1)),
		"kakurenbo":       must(NewKakurenbo(n, DefaultKakurenboConfig(), 1)),
	}
	for name, o := range orders {
		for _, bad := range [][]int{{0, n}, {-1, 3}, {n + 100, 0}} {
			if err := o.Record(bad, []float32{7, 7}); !errors.Is(err, ErrBadIndex) {
				t.Errorf("%s: Record(%v): %v, want ErrBadIndex", name, bad, err)
			}
		}
		if err := o.Record([]int{1, 2}, []float32{1}); !errors.Is(err, ErrBadIndex) {
			t.Errorf("%s: Record of 2 indices and 1 score: %v, want ErrBadIndex", name, err)
		}
		if err := o.Record([]int{0, n - 1}, []float32{1, 2}); err != nil {
			t.Errorf("%s: Record of known indices: %v", name, err)
		}
	}
	// Nothing of a refused Record is kept: index 0 of {0, n} was not stored.
	s := orders["schedule"].(*Schedule)
	if v, ok := s.Score(0); !ok || v != 1 {
		t.Errorf("schedule score of 0 = %v, %v; want the accepted 1", v, ok)
	}
	s2 := mustNew(t, NewSchedule, n, DefaultScheduleConfig(), 1)
	s2.Record([]int{3, n}, []float32{9, 9})
	if _, ok := s2.Score(3); ok {
		t.Error("a refused Record stored the score of index 3")
	}
}

// TestPlanBatches checks the batch iterator against slicing by hand: the
// plan's weights when set, 1/B each (a short last batch included) when
// not, every position once and in order, and an early break.
func TestPlanBatches(t *testing.T) {
	idx := []int{4, 1, 1, 3, 0, 2, 9}
	w := []float64{.1, .2, .3, .4, .5, .6, .7}
	for _, b := range []int{1, 3, 7, 8} {
		for _, weighted := range []bool{false, true} {
			p := Plan{Indices: idx}
			if weighted {
				p.Weights = w
			}
			var gotIdx []int
			var gotW []float64
			batches := 0
			for bi, bw := range p.Batches(b) {
				if len(bi) != len(bw) || len(bi) == 0 || len(bi) > b {
					t.Fatalf("b = %d: a batch of %d indices and %d weights", b, len(bi), len(bw))
				}
				gotIdx, gotW = append(gotIdx, bi...), append(gotW, bw...)
				batches++
			}
			if want := (len(idx) + b - 1) / b; batches != want || !slices.Equal(gotIdx, idx) {
				t.Fatalf("b = %d: %d batches %v, want %d batches %v", b, batches, gotIdx, want, idx)
			}
			for k := range gotW {
				want := 1 / float64(b)
				if weighted {
					want = w[k]
				}
				if gotW[k] != want {
					t.Fatalf("b = %d, weighted %v: weight %d is %v, want %v", b, weighted, k, gotW[k], want)
				}
			}
		}
	}
	n := 0
	for range (Plan{Indices: idx}).Batches(2) {
		n++
		break
	}
	if n != 1 {
		t.Fatalf("break after the first batch ran %d", n)
	}
	for range (Plan{}).Batches(4) {
		t.Fatal("an empty plan yielded a batch")
	}
	for _, bad := range []func(){
		func() { (Plan{Indices: idx}).Batches(0) },
		func() { (Plan{Indices: idx, Weights: w[:2]}).Batches(2) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("Batches of a bad size or plan did not panic")
				}
			}()
			bad()
		}()
	}
}

// TestReadmeExample checks that the README's copy of ExampleSchedule is
// the example's body as it is in example_test.go.
func TestReadmeExample(t *testing.T) {
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Skip("no README next to the package:", err)
	}
	body, ok := strings.CutPrefix(string(src)[strings.Index(string(src), "func ExampleSchedule() {\n"):], "func ExampleSchedule() {\n")
	if !ok {
		t.Fatal("example_test.go has no ExampleSchedule")
	}
	body = body[:strings.Index(body, "\t// Output:")]
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
		lines = append(lines, strings.TrimPrefix(l, "\t"))
	}
	if want := strings.Join(lines, "\n"); !strings.Contains(string(readme), "```go\n"+want+"\n```") {
		t.Fatalf("README.md does not hold ExampleSchedule's body:\n%s", want)
	}
}
