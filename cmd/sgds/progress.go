package main

import (
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// barProgress draws one progress bar per epoch on stderr.
type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

// newProgress returns a progress bar on stderr, or nil when quiet or when
// stderr is not a terminal.
func newProgress(quiet bool) *barProgress {
	if quiet || !term.IsTerminal(int(os.Stderr.Fd())) {
		return nil
	}
	return &barProgress{w: os.Stderr}
}

func (p *barProgress) StartEpoch(epoch, samples int) {
	p.bar = progressbar.NewOptions(samples,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(fmt.Sprintf("epoch %d", epoch)),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("samples"),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
	)
}

func (p *barProgress) Advance(n int) { p.bar.Add(n) }

func (p *barProgress) EndEpoch() { p.bar.Finish() }
