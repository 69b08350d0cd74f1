package enginetest_test

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"testing"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/cpu"
	"github.com/sgds/sgds/engine/enginetest"
)

func TestMaxRelDiffFailsOnMismatch(t *testing.T) {
	x := []engine.Param{{Name: "w", Shape: []int{2}, Data: []float32{1, 2}}}
	for name, pair := range map[string][2][]engine.Param{
		"nil against a list":  {nil, x},
		"a list against nil":  {x, nil},
		"shorter parameter":   {{{Name: "w", Shape: []int{1}, Data: []float32{1}}}, x},
		"other name":          {{{Name: "v", Shape: []int{2}, Data: []float32{1, 2}}}, x},
		"NaN value":           {{{Name: "w", Shape: []int{2}, Data: []float32{float32(math.NaN()), 2}}}, x},
		"different by 1 in 2": {{{Name: "w", Shape: []int{2}, Data: []float32{2, 2}}}, x},
	} {
		if d := enginetest.MaxRelDiff(pair[0], pair[1]); !(d > 0.1) {
			t.Errorf("%s: MaxRelDiff = %g, want a failing difference", name, d)
		}
	}
	if d := enginetest.MaxRelDiff(x, x); d != 0 {
		t.Errorf("MaxRelDiff(x, x) = %g, want 0", d)
	}
}

// recorder is a testing.TB that records failures instead of failing the
// test that runs it; FailNow ends the check's goroutine.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed bool
	msgs   []string
}

func (r *recorder) fail(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.msgs = append(r.msgs, msg)
}
func (r *recorder) Error(args ...any)                 { r.fail(fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, args ...any) { r.fail(fmt.Sprintf(format, args...)) }
func (r *recorder) Fail()                             { r.fail("Fail") }
func (r *recorder) Failed() bool                      { r.mu.Lock(); defer r.mu.Unlock(); return r.failed }
func (r *recorder) FailNow()                          { r.fail("FailNow"); runtime.Goexit() }
func (r *recorder) Fatal(args ...any)                 { r.fail(fmt.Sprint(args...)); runtime.Goexit() }
func (r *recorder) Fatalf(format string, args ...any) {
	r.fail(fmt.Sprintf(format, args...))
	runtime.Goexit()
}

// runCheck runs one check against b and reports whether it failed.
func runCheck(t *testing.T, c enginetest.Check, b engine.Backend) (bool, []string) {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(r, b)
	}()
	<-done
	return r.Failed(), r.msgs
}

var errBroken = errors.New("broken step")

// brokenBackend builds cpu Nets whose Step always fails.
type brokenBackend struct{ cpu.Backend }

func (brokenBackend) Name() string { return "broken" }
func (b brokenBackend) New(m engine.ModelSpec, init []engine.Param, cfg engine.Config) (engine.Net, error) {
	n, err := b.Backend.New(m, init, cfg)
	if err != nil {
		return nil, err
	}
	return brokenNet{n}, nil
}

type brokenNet struct{ engine.Net }

func (brokenNet) Step(*engine.Batch) (engine.StepStats, error) { return engine.StepStats{}, errBroken }

// TestSuiteFailsABrokenBackend runs the suite's checks against a backend
// whose Step always errors: every check that trains must fail, so the suite
// cannot pass a backend that ignores its errors.
func TestSuiteFailsABrokenBackend(t *testing.T) {
	if testing.Short() {
		t.Skip("trains several nets on real MNIST")
	}
	mustFail := map[string]bool{"GradNormsMatchBruteForce": true, "SameSeedSameRun": true, "ShortTrainingLearns": true, "ParamsRoundTrip": true}
	anyFailed := false
	for _, c := range enginetest.Checks() {
		failed, msgs := runCheck(t, c, brokenBackend{})
		anyFailed = anyFailed || failed
		if mustFail[c.Name] && !failed {
			t.Errorf("%s passed on a backend whose Step always errors", c.Name)
		}
		if failed {
			t.Logf("%s failed as it should: %v", c.Name, msgs[0])
		}
	}
	if !anyFailed {
		t.Fatal("the suite passed a backend whose Step always errors")
	}
}
