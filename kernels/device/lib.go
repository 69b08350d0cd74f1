package device

import (
	"embed"
	"fmt"
	"math"
	"path"
	"sort"
	"strings"

	"github.com/sgds/sgds/cuda"
)

// ptxFS holds the PTX that `make kernels` generates from the *.cu files of
// this folder (nvcc -ptx -arch=compute_80); the driver JIT-compiles it for
// the device at Load.
//
//go:embed ptx/*.ptx
var ptxFS embed.FS

// Lib holds the loaded kernels of one context. Its launchers check their
// arguments, return errors (never panic) and enqueue the kernel on the
// given stream (nil: the default stream) without waiting for it.
type Lib struct {
	ctx  *cuda.Context
	mods []*cuda.Module
	fns  map[string]*cuda.Function
	sms  int
	// forceTile, when set, overrides SgemmTile (tests run every tile).
	forceTile Tile
}

// Load JIT-compiles every embedded PTX module for ctx's device (on the host
// driver: finds every kernel's host implementation).
func Load(ctx *cuda.Context) (*Lib, error) {
	entries, err := ptxFS.ReadDir("ptx")
	if err != nil {
		return nil, fmt.Errorf("device: reading the embedded PTX: %w", err)
	}
	l := &Lib{ctx: ctx, fns: map[string]*cuda.Function{}, sms: max(1, ctx.Info().SMs)}
	for _, e := range entries {
		if err := l.load(e.Name()); err != nil {
			return nil, fmt.Errorf("device: %w", errorsJoin(err, l.Close()))
		}
	}
	return l, nil
}

// load loads one PTX module and looks up its kernels.
func (l *Lib) load(file string) error {
	src, err := ptxFS.ReadFile(path.Join("ptx", file))
	if err != nil {
		return err
	}
	m, err := l.ctx.LoadModule(file, string(src))
	if err != nil {
		return err
	}
	l.mods = append(l.mods, m)
	for _, name := range entryNames(string(src)) {
		f, err := m.Function(name)
		if err != nil {
			return err
		}
		l.fns[name] = f
	}
	return nil
}

// errorsJoin returns err, with the error of the clean-up after it appended.
func errorsJoin(err, cleanup error) error {
	if cleanup == nil {
		return err
	}
	return fmt.Errorf("%w (and while unloading: %v)", err, cleanup)
}

// entryNames lists the kernels (.entry) a PTX module defines.
func entryNames(ptx string) []string {
	var names []string
	for _, line := range strings.Split(ptx, "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, ".visible .entry "); ok {
			if i := strings.IndexByte(rest, '('); i > 0 {
				names = append(names, rest[:i])
			}
		}
	}
	return names
}

// Kernels lists the names of the loaded kernels, sorted.
func (l *Lib) Kernels() []string {
	names := make([]string, 0, len(l.fns))
	for n := range l.fns {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Context returns the context the kernels are loaded into.
func (l *Lib) Context() *cuda.Context { return l.ctx }

// Close unloads the modules; it is idempotent.
func (l *Lib) Close() error {
	var err error
	for _, m := range l.mods {
		if e := m.Close(); e != nil && err == nil {
			err = e
		}
	}
	l.mods, l.fns = nil, nil
	return err
}

func (l *Lib) fn(name string) (*cuda.Function, error) {
	f, ok := l.fns[name]
	if !ok {
		return nil, fmt.Errorf("device: kernel %s is not loaded", name)
	}
	return f, nil
}

// block is the thread count of the 1-D launches.
const block = 256

// launchRows launches a warp-per-row kernel over rows rows.
func (l *Lib) launchRows(s *cuda.Stream, name string, rows int, args ...cuda.Arg) error {
	f, err := l.fn(name)
	if err != nil || rows == 0 {
		return err
	}
	per := block / 32
	return f.Launch(cuda.Dim3{X: (rows + per - 1) / per}, cuda.Dim3{X: block}, 0, s, args...)
}

// launchFlat launches a grid-stride kernel over total elements.
func (l *Lib) launchFlat(s *cuda.Stream, name string, total int, args ...cuda.Arg) error {
	f, err := l.fn(name)
	if err != nil || total == 0 {
		return err
	}
	blocks := min((total+block-1)/block, l.sms*32)
	return f.Launch(cuda.Dim3{X: blocks}, cuda.Dim3{X: block}, 0, s, args...)
}

// index32 returns name+"_i32", the kernel's variant with 32-bit index
// arithmetic, when every one of the counts leaves room for a grid stride
// in an int32, and name otherwise.
func index32(name string, counts ...int) string {
	for _, n := range counts {
		if n > math.MaxInt32/2 {
			return name
		}
	}
	return name + "_i32"
}

// buf is a device buffer of either element type.
type buf interface {
	DevicePtr() uintptr
	Len() int
}

// arg is one buffer argument of a launcher: the elements it must hold, and
// whether it may be absent (nil).
type arg struct {
	name     string
	b        buf
	n        int
	optional bool
}

func req(name string, b buf, n int) arg { return arg{name, b, n, false} }
func opt(name string, b buf, n int) arg { return arg{name, b, n, true} }

// check reports a negative size, or a buffer that is missing (nil where
// elements are needed and it is not optional) or too short.
func check(op string, sizes []int, args ...arg) error {
	for _, n := range sizes {
		if n < 0 {
			return argErr(op, "negative size %d", n)
		}
	}
	for _, a := range args {
		switch {
		case a.b == nil || a.b.DevicePtr() == 0:
			if a.n > 0 && !a.optional {
				return argErr(op, "%s is missing (need %d elements)", a.name, a.n)
			}
		case a.b.Len() < a.n:
			return argErr(op, "%s has %d elements, need %d", a.name, a.b.Len(), a.n)
		}
	}
	return nil
}

// argErr is the error of a launcher's argument check.
func argErr(op, format string, args ...any) error {
	return fmt.Errorf("device: %s: "+format, append([]any{op}, args...)...)
}

// ptrOf returns the kernel argument of an optional buffer (null when nil).
func ptrOf[T cuda.Elem](b *cuda.Buffer[T]) cuda.Arg {
	if b == nil {
		return 0
	}
	return cuda.Ptr(b)
}

func boolArg(b bool) cuda.Arg {
	if b {
		return 1
	}
	return 0
}
