package cpu

import "sync/atomic"

// workers is a persistent pool of goroutines that runs a task over a range
// of work items. The caller's goroutine takes part, so a pool of n runs n−1
// goroutines. Items are handed out dynamically; the results never depend on
// which goroutine runs an item, because every item writes its own outputs
// (Net splits work that way), so the pool keeps results bit-identical.
//
// A pool is used by one goroutine at a time (the Net's caller).
type workers struct {
	n     int
	start []chan struct{}
	done  chan struct{}
	task  func(worker, item int)
	items int
	next  atomic.Int64
}

func newWorkers(n int) *workers {
	p := &workers{n: max(n, 1), done: make(chan struct{})}
	for w := 1; w < p.n; w++ {
		c := make(chan struct{})
		p.start = append(p.start, c)
		go p.loop(w, c)
	}
	return p
}

func (p *workers) loop(w int, start chan struct{}) {
	for range start {
		p.work(w)
		p.done <- struct{}{}
	}
}

func (p *workers) work(w int) {
	for {
		i := int(p.next.Add(1) - 1)
		if i >= p.items {
			return
		}
		p.task(w, i)
	}
}

// run calls task(worker, item) for every item in [0, items) and returns
// when all are done. task must be a long-lived func value (a field set once)
// so that run does not allocate.
func (p *workers) run(items int, task func(worker, item int)) {
	if items <= 0 {
		return
	}
	helpers := min(len(p.start), items-1)
	if helpers == 0 {
		for i := 0; i < items; i++ {
			task(0, i)
		}
		return
	}
	p.task, p.items = task, items
	p.next.Store(0)
	for _, c := range p.start[:helpers] {
		c <- struct{}{}
	}
	p.work(0)
	for range helpers {
		<-p.done
	}
	p.task = nil
}

// close stops the goroutines; the pool must not be used afterwards.
func (p *workers) close() {
	for _, c := range p.start {
		close(c)
	}
	p.start = nil
}
