//go:build cuda && sgdsfake

package cuda

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
	"unsafe"
)

// This file is a host-memory stand-in for the device, built with
// -tags cuda,sgdsfake. It needs no GPU, no cgo and no CUDA toolkit:
// buffers live in Go memory and a kernel launch runs the Go function
// registered under the kernel's name (package kernels registers its
// twins). It exists to test everything above the kernels (the launchers'
// argument lists, the GPU backend's buffers and wiring) on machines
// without a GPU, CI included. It measures nothing about a real device.

// Compiled reports whether this build contains the CUDA path (the host
// stand-in counts).
const Compiled = true

// Fake reports that this build runs kernels on the host stand-in.
const Fake = true

// FakeKernel is the Go stand-in of a kernel: it receives the launch shape
// and the 8-byte parameters in the kernel's order.
type FakeKernel func(grid, block Dim3, args []Arg) error

var (
	fakeMu      sync.Mutex
	fakeKernels = map[string]FakeKernel{}
	fakeAllocs  []fakeAlloc // sorted by base
)

type fakeAlloc struct {
	base  uintptr
	words []uint32
}

// RegisterFake makes name launchable on the host stand-in.
func RegisterFake(name string, k FakeKernel) {
	fakeMu.Lock()
	defer fakeMu.Unlock()
	fakeKernels[name] = k
}

// fakeWords returns the words of the allocation holding address p, from p
// to the allocation's end.
func fakeWords(p uintptr) ([]uint32, error) {
	fakeMu.Lock()
	defer fakeMu.Unlock()
	i := sort.Search(len(fakeAllocs), func(i int) bool { return fakeAllocs[i].base > p }) - 1
	if i < 0 {
		return nil, fmt.Errorf("cuda (host stand-in): address %#x is not allocated", p)
	}
	a := fakeAllocs[i]
	off := (p - a.base) / 4
	if p < a.base || off >= uintptr(len(a.words)) || (p-a.base)%4 != 0 {
		return nil, fmt.Errorf("cuda (host stand-in): address %#x is outside every allocation", p)
	}
	return a.words[off:], nil
}

// FakeFloat32s returns the float32 memory from the device pointer a to
// the end of its allocation (nil for the null pointer).
func FakeFloat32s(a Arg) ([]float32, error) {
	if a == 0 {
		return nil, nil
	}
	w, err := fakeWords(uintptr(a))
	if err != nil || len(w) == 0 {
		return nil, err
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&w[0])), len(w)), nil
}

// FakeInt32s is FakeFloat32s for int32 memory.
func FakeInt32s(a Arg) ([]int32, error) {
	if a == 0 {
		return nil, nil
	}
	w, err := fakeWords(uintptr(a))
	if err != nil || len(w) == 0 {
		return nil, err
	}
	return unsafe.Slice((*int32)(unsafe.Pointer(&w[0])), len(w)), nil
}

func (b *Buffer[T]) host() []T {
	w, err := fakeWords(b.ptr)
	if err != nil {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&w[0])), b.n)
}

func fakeInfo() DeviceInfo {
	return DeviceInfo{Name: "host stand-in (sgdsfake)", TotalMem: 1 << 34, Major: 8, Minor: 0, SMs: 132,
		ClockKHz: 1, MemClockKHz: 1, BusWidth: 8}
}

// DriverVersion returns 0: there is no driver.
func DriverVersion() (int, error) { return 0, nil }

// Devices lists the one host stand-in.
func Devices() ([]DeviceInfo, error) { return []DeviceInfo{fakeInfo()}, nil }

// Context is the host stand-in's context.
type Context struct {
	mu     sync.Mutex
	closed bool
}

// NewContext returns the stand-in context (ordinal 0 only).
func NewContext(ordinal int) (*Context, error) {
	if ordinal != 0 {
		return nil, fmt.Errorf("cuda: device %d: %w", ordinal, ErrNoDevice)
	}
	return &Context{}, nil
}

func (c *Context) check() error {
	if c == nil {
		return ErrClosed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	return nil
}

// Info describes the stand-in.
func (c *Context) Info() DeviceInfo { return fakeInfo() }

// Synchronize does nothing: host kernels finish before Launch returns.
func (c *Context) Synchronize() error { return c.check() }

// MemInfo reports the stand-in's nominal memory.
func (c *Context) MemInfo() (free, total int64, err error) { return 1 << 34, 1 << 34, c.check() }

// Close marks the context closed.
func (c *Context) Close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return nil
}

// Stream is the stand-in's stream (work runs at once).
type Stream struct {
	ctx *Context
	ok  bool
}

// NewStream creates a stream.
func (c *Context) NewStream() (*Stream, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	return &Stream{ctx: c, ok: true}, nil
}

func (s *Stream) check() error {
	if s == nil {
		return nil
	}
	if !s.ok {
		return ErrClosed
	}
	return nil
}

// Synchronize does nothing.
func (s *Stream) Synchronize() error {
	if s == nil {
		return errors.New("cuda: Synchronize on the default stream: use Context.Synchronize")
	}
	return s.check()
}

// Close closes the stream.
func (s *Stream) Close() error {
	if s != nil {
		s.ok = false
	}
	return nil
}

// Event records host time.
type Event struct {
	t  time.Time
	ok bool
}

// NewEvent creates an event.
func (c *Context) NewEvent() (*Event, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	return &Event{ok: true}, nil
}

// Record stores the current time.
func (e *Event) Record(s *Stream) error {
	if e == nil || !e.ok {
		return ErrClosed
	}
	e.t = time.Now()
	return s.check()
}

// Synchronize does nothing.
func (e *Event) Synchronize() error {
	if e == nil || !e.ok {
		return ErrClosed
	}
	return nil
}

// Close closes the event.
func (e *Event) Close() error {
	if e != nil {
		e.ok = false
	}
	return nil
}

// Elapsed returns the host milliseconds between the events.
func Elapsed(start, end *Event) (float64, error) {
	if start == nil || end == nil || !start.ok || !end.ok {
		return 0, ErrClosed
	}
	return float64(end.t.Sub(start.t).Nanoseconds()) / 1e6, nil
}

// Module is a stand-in module: its functions are the registered kernels.
type Module struct {
	name string
	ok   bool
}

// LoadModule ignores the PTX.
func (c *Context) LoadModule(name, ptx string) (*Module, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	return &Module{name: name, ok: true}, nil
}

// Function returns the registered stand-in of kernel name.
func (m *Module) Function(name string) (*Function, error) {
	if m == nil || !m.ok {
		return nil, ErrClosed
	}
	fakeMu.Lock()
	k, ok := fakeKernels[name]
	fakeMu.Unlock()
	if !ok {
		return nil, fmt.Errorf("cuda (host stand-in): module %s: no stand-in for kernel %s", m.name, name)
	}
	return &Function{name: name, k: k, mod: m}, nil
}

// Close unloads the module.
func (m *Module) Close() error {
	if m != nil {
		m.ok = false
	}
	return nil
}

// Function is a stand-in kernel.
type Function struct {
	name string
	k    FakeKernel
	mod  *Module
}

// Name returns the kernel's name.
func (f *Function) Name() string { return f.name }

// Launch runs the stand-in kernel at once.
func (f *Function) Launch(grid, block Dim3, sharedBytes int, s *Stream, args ...Arg) error {
	if f == nil || f.mod == nil || !f.mod.ok {
		return ErrClosed
	}
	if err := s.check(); err != nil {
		return err
	}
	grid, block = grid.norm(), block.norm()
	if grid.X < 0 || grid.Y < 0 || grid.Z < 0 || block.X < 0 || block.Y < 0 || block.Z < 0 || sharedBytes < 0 {
		return fmt.Errorf("cuda: launching %s: negative grid %+v, block %+v or shared memory %d", f.name, grid, block, sharedBytes)
	}
	if grid.X == 0 || grid.Y == 0 || grid.Z == 0 {
		return nil
	}
	if block.X*block.Y*block.Z > 1024 {
		return fmt.Errorf("cuda: launching %s: %d threads per block", f.name, block.X*block.Y*block.Z)
	}
	if err := f.k(grid, block, args); err != nil {
		return fmt.Errorf("cuda: launching %s: %w", f.name, err)
	}
	return nil
}

// Alloc allocates n elements of host memory standing in for the device,
// filled with a NaN pattern (as uninitialised device memory would hold
// anything).
func Alloc[T Elem](c *Context, n int) (*Buffer[T], error) {
	if n < 0 {
		return nil, fmt.Errorf("cuda: allocating %d elements", n)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	b := &Buffer[T]{ctx: c, n: n}
	if n == 0 {
		return b, nil
	}
	words := make([]uint32, n)
	for i := range words {
		words[i] = 0x7fc00001
	}
	b.ptr = uintptr(unsafe.Pointer(&words[0]))
	fakeMu.Lock()
	i := sort.Search(len(fakeAllocs), func(i int) bool { return fakeAllocs[i].base > b.ptr })
	fakeAllocs = append(fakeAllocs, fakeAlloc{})
	copy(fakeAllocs[i+1:], fakeAllocs[i:])
	fakeAllocs[i] = fakeAlloc{base: b.ptr, words: words}
	fakeMu.Unlock()
	return b, nil
}

// Free releases the buffer.
func (b *Buffer[T]) Free() error {
	if b == nil || b.view || b.ptr == 0 {
		return nil
	}
	fakeMu.Lock()
	for i, a := range fakeAllocs {
		if a.base == b.ptr {
			fakeAllocs = append(fakeAllocs[:i], fakeAllocs[i+1:]...)
			break
		}
	}
	fakeMu.Unlock()
	b.ptr = 0
	return nil
}

// CopyFrom copies src into the start of b.
func (b *Buffer[T]) CopyFrom(s *Stream, src []T) error {
	if err := b.checkHost("copy to device", len(src)); err != nil {
		return err
	}
	if err := s.check(); err != nil {
		return err
	}
	copy(b.host(), src)
	return nil
}

// CopyTo copies the start of b into dst.
func (b *Buffer[T]) CopyTo(s *Stream, dst []T) error {
	if err := b.checkHost("copy to host", len(dst)); err != nil {
		return err
	}
	if err := s.check(); err != nil {
		return err
	}
	copy(dst, b.host())
	return nil
}

// CopyFromDevice copies src into the start of b.
func (b *Buffer[T]) CopyFromDevice(s *Stream, src *Buffer[T]) error {
	if err := b.checkHost("device copy", src.Len()); err != nil {
		return err
	}
	if src.Len() == 0 {
		return nil
	}
	copy(b.host(), src.host())
	return nil
}

// Fill sets every element to v.
func (b *Buffer[T]) Fill(s *Stream, v T) error {
	if err := b.checkHost("fill", 0); err != nil {
		return err
	}
	h := b.host()
	for i := range h {
		h[i] = v
	}
	return nil
}
