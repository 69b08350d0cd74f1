package cuda

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// UseHostAsync is UseHost with the host driver in its asynchronous mode,
// which behaves as a GPU does towards the code that drives it: kernel
// launches, copies to the device, device copies, fills and event records
// are enqueued and return at once; a worker runs them in order; a copy to
// the host, Synchronize and an event's Synchronize wait for the work
// enqueued before them, and report the first error of that work (a kernel
// that failed after its launch returned). Every kernel takes at least
// kernelTime (a stand-in for device time, 0 for none), and a launch waits
// while 1024 operations are pending, as a GPU's queue makes it.
//
// A copy from Pinned memory reads the memory when the worker reaches it, as
// a GPU's does, so a caller that writes Pinned memory again before the
// stream has passed the copy races with the worker (go test -race sees it);
// a copy from other host memory reads it before CopyFrom returns.
//
// Its use is testing the code above the driver: a benchmark that stops its
// clock before the device's work is done reports an impossible time with
// kernelTime set, and a caller that reuses page-locked memory too early is
// caught. Contexts keep the driver they were made with.
func UseHostAsync(kernelTime time.Duration) (restore func()) {
	return choose(newAsyncHost(kernelTime))
}

// asyncDepth is how many operations may be pending before an enqueue waits.
const asyncDepth = 1024

// asyncHost is the host driver's asynchronous mode (UseHostAsync): the
// memory and kernels of the host driver, and one queue of work for every
// stream of its contexts, which runs it in enqueue order (an order every
// CUDA schedule of the same streams allows).
type asyncHost struct {
	*hostDriver
	kernelTime time.Duration
	id         int64 // tells the instances apart (DriverID)

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []func() error
	enq     uint64 // operations enqueued so far
	done    uint64 // operations finished so far
	err     error  // the first error of finished work not reported yet
	started bool
}

var _ driver = (*asyncHost)(nil)

// asyncHosts counts the instances of the asynchronous mode.
var asyncHosts atomic.Int64

func newAsyncHost(kernelTime time.Duration) *asyncHost {
	a := &asyncHost{hostDriver: host, kernelTime: kernelTime, id: asyncHosts.Add(1)}
	a.cond = sync.NewCond(&a.mu)
	return a
}

func (*asyncHost) name() string { return "host-async" }

// enqueue adds op to the queue, waiting while it is full, and returns its
// sequence number.
func (a *asyncHost) enqueue(op func() error) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.started {
		a.started = true
		go a.work()
	}
	for len(a.queue) >= asyncDepth {
		a.cond.Wait()
	}
	a.queue = append(a.queue, op)
	a.enq++
	a.cond.Broadcast()
	return a.enq
}

// work runs the queue's operations in order, for the life of the process.
func (a *asyncHost) work() {
	a.mu.Lock()
	for {
		for len(a.queue) == 0 {
			a.cond.Wait()
		}
		op := a.queue[0]
		a.mu.Unlock()
		err := op()
		a.mu.Lock()
		a.queue[0] = nil
		a.queue = a.queue[1:]
		a.done++
		if err != nil && a.err == nil {
			a.err = err
		}
		a.cond.Broadcast()
	}
}

// wait waits until operation seq has finished and returns the first error
// of the work finished so far that no earlier wait reported.
func (a *asyncHost) wait(seq uint64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.done < seq {
		a.cond.Wait()
	}
	err := a.err
	a.err = nil
	if err != nil {
		return fmt.Errorf("host driver (async): earlier work failed: %w", err)
	}
	return nil
}

// drain waits for everything enqueued so far.
func (a *asyncHost) drain() error {
	a.mu.Lock()
	seq := a.enq
	a.mu.Unlock()
	return a.wait(seq)
}

func (a *asyncHost) sync(_, _ handle) error { return a.drain() }
func (a *asyncHost) release(handle) error   { return a.drain() }

// asyncEvent is an event of the asynchronous mode: the sequence number of
// its last record and the time the worker reached it.
type asyncEvent struct {
	seq uint64
	at  time.Time
}

func (*asyncHost) newEvent(handle) (handle, error) { return new(asyncEvent), nil }

func (a *asyncHost) record(_, e, _ handle) error {
	ev := e.(*asyncEvent)
	seq := a.enqueue(func() error {
		a.mu.Lock()
		ev.at = time.Now()
		a.mu.Unlock()
		return nil
	})
	a.mu.Lock()
	ev.seq = seq
	a.mu.Unlock()
	return nil
}

func (a *asyncHost) syncEvent(_, e handle) error {
	a.mu.Lock()
	seq := e.(*asyncEvent).seq
	a.mu.Unlock()
	return a.wait(seq)
}

func (a *asyncHost) elapsed(_, start, end handle) (float64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, e := start.(*asyncEvent), end.(*asyncEvent)
	if s.seq == 0 || e.seq == 0 || a.done < s.seq || a.done < e.seq {
		return 0, errors.New("host driver (async): elapsed time of an event not recorded or not reached")
	}
	return float64(e.at.Sub(s.at).Nanoseconds()) / 1e6, nil
}

func (a *asyncHost) launch(_, f handle, grid, block Dim3, _ int, _ handle, args []Arg) error {
	k := f.(HostKernel)
	args = append([]Arg(nil), args...)
	a.enqueue(func() error {
		start := time.Now()
		err := k(grid, block, args)
		if d := a.kernelTime - time.Since(start); d > 0 {
			time.Sleep(d)
		}
		return err
	})
	return nil
}

// pinnedAt reports whether n bytes at p lie in page-locked memory of the
// host driver.
func (a *asyncHost) pinnedAt(p unsafe.Pointer, n int64) bool {
	a.hostDriver.mu.Lock()
	defer a.hostDriver.mu.Unlock()
	for base, words := range a.hostDriver.pinned {
		lo := uintptr(base)
		if uintptr(p) >= lo && uintptr(p)+uintptr(n) <= lo+4*uintptr(len(words)) {
			return true
		}
	}
	return false
}

func (a *asyncHost) copyIn(_ handle, dst uintptr, src unsafe.Pointer, n int64, _ handle) error {
	d, err := a.bytes(dst, n)
	if err != nil {
		return err
	}
	s := unsafe.Slice((*byte)(src), n)
	if !a.pinnedAt(src, n) { // pageable memory: staged before the call returns
		s = append([]byte(nil), s...)
	}
	a.enqueue(func() error {
		copy(d, s)
		return nil
	})
	return nil
}

func (a *asyncHost) copyOut(_ handle, dst unsafe.Pointer, src uintptr, n int64, _ handle) error {
	s, err := a.bytes(src, n)
	if err != nil {
		return err
	}
	d := unsafe.Slice((*byte)(dst), n)
	return a.wait(a.enqueue(func() error {
		copy(d, s)
		return nil
	}))
}

func (a *asyncHost) copyDevice(_ handle, dst, src uintptr, n int64, _ handle) error {
	d, err := a.bytes(dst, n)
	if err != nil {
		return err
	}
	s, err := a.bytes(src, n)
	if err != nil {
		return err
	}
	a.enqueue(func() error {
		copy(d, s)
		return nil
	})
	return nil
}

func (a *asyncHost) fill32(_ handle, dst uintptr, bits uint32, n int64, _ handle) error {
	d, err := a.bytes(dst, 4*n)
	if err != nil {
		return err
	}
	w := unsafe.Slice((*uint32)(unsafe.Pointer(&d[0])), n)
	a.enqueue(func() error {
		for i := range w {
			w[i] = bits
		}
		return nil
	})
	return nil
}

// free and freeHost wait for the pending work, as cuMemFree does, so that
// no enqueued operation touches freed memory.
func (a *asyncHost) free(ctx handle, p uintptr) error {
	return errors.Join(a.drain(), a.hostDriver.free(ctx, p))
}

func (a *asyncHost) freeHost(ctx handle, p unsafe.Pointer) error {
	return errors.Join(a.drain(), a.hostDriver.freeHost(ctx, p))
}
