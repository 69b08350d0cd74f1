package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// barProgress draws the progress of each epoch on one line of stderr:
//
//	epoch 2/5 [#########.........]  45%  27008/60000 samples  elapsed 3.2s  remaining 3.9s  8440 samples/s
//
// then "evaluating" while the epoch's accuracy is measured. The line is
// cleared before the epoch's report is printed; an error or an interrupt
// ends it first (endLine), so that the message starts on its own line.
type barProgress struct {
	w      io.Writer
	epochs int
	now    func() time.Time

	epoch, total, done int
	base               int // samples already done when the epoch started (a resumed epoch)
	first              bool
	start, last        time.Time
}

// lineMu guards lineOpen: whether a progress line is on the terminal
// without its newline.
var (
	lineMu   sync.Mutex
	lineOpen bool
)

// endLine ends a progress line left open on w, so that what follows
// starts on its own line.
func endLine(w io.Writer) {
	lineMu.Lock()
	defer lineMu.Unlock()
	if lineOpen {
		fmt.Fprintln(w)
		lineOpen = false
	}
}

// newProgress returns a progress bar on stderr for a run of epochs epochs,
// or nil when quiet or when stderr is not a terminal.
func newProgress(quiet bool, epochs int) *barProgress {
	if quiet || !term.IsTerminal(int(os.Stderr.Fd())) {
		return nil
	}
	return &barProgress{w: os.Stderr, epochs: epochs, now: time.Now}
}

func (p *barProgress) StartEpoch(epoch, samples int) {
	p.epoch, p.total, p.done, p.base, p.first = epoch, samples, 0, 0, true
	p.start = p.now()
	p.last = time.Time{}
	p.draw(true)
}

func (p *barProgress) Advance(n int) {
	p.done += n
	if p.first { // the trainer's first call reports the position of a resumed epoch
		p.base, p.first = p.done, false
	}
	p.draw(p.done >= p.total)
}

func (p *barProgress) EndEpoch() {
	p.show(fmt.Sprintf("epoch %d/%d  trained %d samples in %s; evaluating…", p.epoch, p.epochs, p.total, seconds(p.now().Sub(p.start))))
}

// clear erases the progress line (before an epoch's report).
func (p *barProgress) clear() {
	if p == nil {
		return
	}
	lineMu.Lock()
	defer lineMu.Unlock()
	if lineOpen {
		fmt.Fprint(p.w, "\r\033[K")
		lineOpen = false
	}
}

// draw redraws the bar, at most ten times a second unless force.
func (p *barProgress) draw(force bool) {
	now := p.now()
	if !force && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	p.show(p.frame(now))
}

func (p *barProgress) show(s string) {
	lineMu.Lock()
	defer lineMu.Unlock()
	fmt.Fprint(p.w, "\r\033[K"+s)
	lineOpen = true
}

// frame is the bar's text at time now.
func (p *barProgress) frame(now time.Time) string {
	const width = 24
	frac := 1.0
	if p.total > 0 {
		frac = min(1, float64(p.done)/float64(p.total))
	}
	filled := int(frac * width)
	bar := strings.Repeat("#", filled) + strings.Repeat(".", width-filled)
	elapsed := now.Sub(p.start)
	s := fmt.Sprintf("epoch %d/%d [%s] %3.0f%%  %d/%d samples  elapsed %s", p.epoch, p.epochs, bar, 100*frac, p.done, p.total, seconds(elapsed))
	counted := p.done - p.base
	if counted <= 0 || elapsed < 50*time.Millisecond {
		return s + "  remaining –  – samples/s"
	}
	rate := float64(counted) / elapsed.Seconds()
	left := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
	return s + fmt.Sprintf("  remaining %s  %.0f samples/s", seconds(left), rate)
}

// seconds formats d as 3.2s, 4m05s or 1h02m.
func seconds(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
