package cuda

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var errTestKernel = errors.New("test kernel failed")

func init() {
	RegisterHost("test_add_one", func(_, _ Dim3, args []Arg) error {
		x, err := HostFloat32s(args[0])
		if err != nil {
			return err
		}
		for i := range int(args[1]) {
			x[i]++
		}
		return nil
	})
	RegisterHost("test_fail", func(_, _ Dim3, _ []Arg) error { return errTestKernel })
	RegisterHost("test_noop", func(_, _ Dim3, _ []Arg) error { return nil })
}

// testFunctions loads the test kernels on c.
func testFunctions(t *testing.T, c *Context, names ...string) []*Function {
	t.Helper()
	m, err := c.LoadModule("test", "ignored by the host driver")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { must(t, m.Close()) })
	fs := make([]*Function, len(names))
	for i, n := range names {
		if fs[i], err = m.Function(n); err != nil {
			t.Fatal(err)
		}
	}
	return fs
}

// TestHostAsync checks the asynchronous mode of the host driver: launches
// return before their kernel has run, copies to the host, Synchronize and
// events wait for it, a kernel's failure comes back at the next
// synchronisation, and pageable memory is staged at the call.
func TestHostAsync(t *testing.T) {
	const kt = 30 * time.Millisecond
	defer UseHostAsync(kt)()
	if DriverName() != "host-async" {
		t.Fatalf("DriverName() = %q", DriverName())
	}
	c := newCtx(t)
	fs := testFunctions(t, c, "test_add_one", "test_fail")
	add, fail := fs[0], fs[1]
	b, err := Alloc[float32](c, 4)
	must(t, err)
	t.Cleanup(func() { must(t, b.Free()) })
	src := []float32{1, 2, 3, 4}
	must(t, b.CopyFrom(nil, src))

	start, end := mustEvent(t, c), mustEvent(t, c)
	must(t, start.Record(nil))
	t0 := time.Now()
	for range 3 {
		must(t, add.Launch(Dim3{X: 1}, Dim3{X: 4}, 0, nil, Ptr(b), Int(4)))
	}
	if d := time.Since(t0); d >= kt {
		t.Errorf("three launches took %v: they waited for their kernels (%v each)", d, kt)
	}
	must(t, end.Record(nil))
	src[0] = 100 // pageable memory: the copy above has read it already
	ms, err := Elapsed(start, end)
	must(t, err)
	if ms < 3*kt.Seconds()*1e3 {
		t.Errorf("the events are %.1f ms apart around three kernels of %v", ms, kt)
	}
	got := make([]float32, 4)
	must(t, b.CopyTo(nil, got))
	if got[0] != 4 || got[3] != 7 {
		t.Errorf("after three kernels: %v, want [4 5 6 7]", got)
	}

	must(t, fail.Launch(Dim3{X: 1}, Dim3{X: 1}, 0, nil)) // fails later, as on a GPU
	t1 := time.Now()
	if err := c.Synchronize(); !errors.Is(err, errTestKernel) {
		t.Errorf("Synchronize after a failing kernel: %v, want its error", err)
	}
	if d := time.Since(t1); d < kt/2 {
		t.Errorf("Synchronize returned after %v, before the kernel of %v", d, kt)
	}
	must(t, c.Synchronize()) // reported once
}

func mustEvent(t *testing.T, c *Context) *Event {
	t.Helper()
	e, err := c.NewEvent()
	must(t, err)
	t.Cleanup(func() { must(t, e.Close()) })
	return e
}

// TestSyncLaunches checks the debug switch: with it on, a failing kernel's
// own launch returns its error, naming it.
func TestSyncLaunches(t *testing.T) {
	defer UseHostAsync(0)()
	c := newCtx(t)
	fail := testFunctions(t, c, "test_fail")[0]
	must(t, fail.Launch(Dim3{X: 1}, Dim3{X: 1}, 0, nil))
	if err := c.Synchronize(); !errors.Is(err, errTestKernel) {
		t.Fatalf("Synchronize: %v", err)
	}
	restore := SyncLaunches(true)
	err := fail.Launch(Dim3{X: 1}, Dim3{X: 1}, 0, nil)
	restore()
	if !errors.Is(err, errTestKernel) || !strings.Contains(err.Error(), "test_fail") {
		t.Errorf("Launch with SyncLaunches on: %v, want the kernel's error naming test_fail", err)
	}
	if syncLaunches.Load() {
		t.Error("the restore function left the switch on")
	}
}

// TestLaunchAllocations checks that a launch builds no message (no
// fmt.Sprintf) unless it fails: at most the argument slice is allocated.
func TestLaunchAllocations(t *testing.T) {
	defer UseHost()()
	c := newCtx(t)
	noop := testFunctions(t, c, "test_noop")[0]
	b, err := Alloc[float32](c, 1)
	must(t, err)
	t.Cleanup(func() { must(t, b.Free()) })
	allocs := testing.AllocsPerRun(100, func() {
		if err := noop.Launch(Dim3{X: 7}, Dim3{X: 256}, 0, nil, Ptr(b), Int(1), Int(2)); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("%v allocations per launch, want at most 1", allocs)
	}
}

// TestDriverID checks that every asynchronous host driver has its own ID.
func TestDriverID(t *testing.T) {
	r1 := UseHostAsync(0)
	a := DriverID()
	r2 := UseHostAsync(time.Millisecond)
	b := DriverID()
	r2()
	if DriverID() != a || a == b || !strings.HasPrefix(a, "host-async#") {
		t.Errorf("IDs %q, %q, then %q after the restore", a, b, DriverID())
	}
	r1()
	defer UseHost()()
	if DriverID() != "host" {
		t.Errorf("DriverID() = %q on the host driver", DriverID())
	}
}
