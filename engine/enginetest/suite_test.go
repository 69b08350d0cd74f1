package enginetest_test

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
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
	mustFail := map[string]bool{"GradNormsMatchBruteForce": true, "ForwardMatchesStep": true, "SameSeedSameRun": true, "ShortTrainingLearns": true, "ParamsRoundTrip": true}
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

// postUpdateBackend builds cpu Nets whose Forward takes a Step on the batch
// and returns the losses of a forward pass after that update; with restore
// it then puts the parameters and velocity back, so that only the losses
// give it away.
type postUpdateBackend struct {
	cpu.Backend
	restore bool
}

func (postUpdateBackend) Name() string { return "post-update" }
func (b postUpdateBackend) New(m engine.ModelSpec, init []engine.Param, cfg engine.Config) (engine.Net, error) {
	n, err := b.Backend.New(m, init, cfg)
	if err != nil {
		return nil, err
	}
	return postUpdateNet{n, b.restore}, nil
}

type postUpdateNet struct {
	engine.Net
	restore bool
}

func (n postUpdateNet) Forward(b *engine.Batch) (engine.StepStats, error) {
	ps, err := n.Params()
	if err != nil {
		return engine.StepStats{}, err
	}
	vs, err := n.Velocity()
	if err != nil {
		return engine.StepStats{}, err
	}
	if _, err := n.Step(b); err != nil {
		return engine.StepStats{}, err
	}
	st, err := n.Net.Forward(b)
	if err != nil || !n.restore {
		return st, err
	}
	return st, errors.Join(n.SetParams(ps), n.SetVelocity(vs))
}

// TestForwardCheckFailsPostUpdateLosses runs ForwardMatchesStep against
// backends whose Forward returns the losses after a Step's update: one that
// keeps the update must fail on the parameters, one that undoes it on the
// losses.
func TestForwardCheckFailsPostUpdateLosses(t *testing.T) {
	if testing.Short() {
		t.Skip("trains several nets on real MNIST")
	}
	var check enginetest.Check
	for _, c := range enginetest.Checks() {
		if c.Name == "ForwardMatchesStep" {
			check = c
		}
	}
	if check.Run == nil {
		t.Fatal("the suite has no ForwardMatchesStep check")
	}
	for _, c := range []struct {
		restore bool
		want    string
	}{{false, "Forward changed the parameters"}, {true, "Forward's losses against Step's"}} {
		failed, msgs := runCheck(t, check, postUpdateBackend{restore: c.restore})
		switch {
		case !failed:
			t.Errorf("restore=%v: ForwardMatchesStep passed a Forward that returns post-update losses", c.restore)
		case !strings.Contains(msgs[0], c.want):
			t.Errorf("restore=%v: failed with %q, want a failure about %q", c.restore, msgs[0], c.want)
		default:
			t.Logf("restore=%v failed as it should: %s", c.restore, msgs[0])
		}
	}
}
