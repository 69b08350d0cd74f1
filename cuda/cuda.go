package cuda

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"sync/atomic"
)

// ErrNotCompiled is returned by DriverVersion, Devices and NewContext in a
// build without the cuda tag, unless UseHost is in force.
var ErrNotCompiled = errors.New("cuda: not compiled into this build (rebuild with -tags cuda, i.e. make cuda)")

// ErrNoDevice reports that the driver found no CUDA device, or that the
// requested device ordinal does not exist.
var ErrNoDevice = errors.New("cuda: no CUDA device")

// ErrClosed reports the use of a Context, Stream, Event, Module or Buffer
// after its Close or Free.
var ErrClosed = errors.New("cuda: use after Close or Free")

// DeviceInfo describes one CUDA device.
type DeviceInfo struct {
	Ordinal  int    // device number, from 0
	Name     string // e.g. "NVIDIA H100 80GB HBM3"
	TotalMem int64  // bytes of device memory
	Major    int    // compute capability, major
	Minor    int    // compute capability, minor
	SMs      int    // streaming multiprocessors
	// ClockKHz and MemClockKHz are the peak core and memory clocks, and
	// BusWidth the memory bus width in bits, as the driver reports them
	// (0 when it does not).
	ClockKHz    int
	MemClockKHz int
	BusWidth    int
}

// PeakBandwidth returns the theoretical memory bandwidth in bytes per second
// from the memory clock and bus width (double data rate), or 0 when the
// driver does not report them.
func (d DeviceInfo) PeakBandwidth() float64 {
	return 2 * float64(d.MemClockKHz) * 1e3 * float64(d.BusWidth) / 8
}

// Arg is one kernel parameter, always 8 bytes: a device pointer, a 64-bit
// integer (long long) or a double. Build it with Ptr, Int or Float.
type Arg uint64

// Int returns the kernel parameter for a long long.
func Int(v int) Arg { return Arg(uint64(int64(v))) }

// Float returns the kernel parameter for a double.
func Float(v float64) Arg { return Arg(math.Float64bits(v)) }

// Pointer is anything that lives in device memory: a Buffer, or a view of
// one.
type Pointer interface {
	// DevicePtr returns the device address, 0 for a nil or freed buffer.
	DevicePtr() uintptr
}

// Ptr returns the kernel parameter for a device pointer; a nil Pointer (or a
// nil *Buffer) gives the null pointer, which kernels may treat as "absent".
func Ptr(p Pointer) Arg {
	if p == nil {
		return 0
	}
	return Arg(uint64(p.DevicePtr()))
}

// Dim3 is a grid or block shape; zero fields count as 1.
type Dim3 struct{ X, Y, Z int }

func (d Dim3) norm() Dim3 {
	if d.X == 0 {
		d.X = 1
	}
	if d.Y == 0 {
		d.Y = 1
	}
	if d.Z == 0 {
		d.Z = 1
	}
	return d
}

// wrap names the operation of a driver error.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("cuda: %s: %w", op, err)
}

// DriverVersion returns the CUDA version of the driver as 1000·major +
// 10·minor (13000 for CUDA 13.0); the host driver reports 0.
func DriverVersion() (int, error) {
	d, err := current()
	if err != nil {
		return 0, err
	}
	v, err := d.version()
	return v, wrap("driver version", err)
}

// Devices lists the devices the driver sees, or ErrNoDevice.
func Devices() ([]DeviceInfo, error) {
	_, devs, err := listDevices()
	if err != nil {
		return nil, err
	}
	if len(devs) == 0 {
		return nil, ErrNoDevice
	}
	return devs, nil
}

// listDevices returns the driver in use and the devices it sees.
func listDevices() (driver, []DeviceInfo, error) {
	d, err := current()
	if err != nil {
		return nil, nil, err
	}
	devs, err := d.devices()
	if err != nil {
		return nil, nil, wrap("listing devices", err)
	}
	return d, devs, nil
}

// Context is the primary context of one device, retained for the life of
// the value. Several Contexts on one device share the driver's primary
// context (as the CUDA runtime does).
type Context struct {
	drv    driver
	h      handle
	info   DeviceInfo
	mu     sync.Mutex
	closed bool
}

// NewContext retains the primary context of device ordinal.
func NewContext(ordinal int) (*Context, error) {
	d, devs, err := listDevices()
	if err != nil {
		return nil, err
	}
	if ordinal < 0 || ordinal >= len(devs) {
		return nil, fmt.Errorf("cuda: device %d: %w (the driver sees %d)", ordinal, ErrNoDevice, len(devs))
	}
	h, err := d.retain(ordinal)
	if err != nil {
		return nil, wrap("retaining the primary context", err)
	}
	return &Context{drv: d, h: h, info: devs[ordinal]}, nil
}

// Info describes the context's device.
func (c *Context) Info() DeviceInfo { return c.info }

// Driver names the driver the context runs on: "cuda", "host" or
// "host-async".
func (c *Context) Driver() string { return c.drv.name() }

// live reports a nil or closed context.
func (c *Context) live() error {
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

// do runs the driver call f on the open context c, naming op in its error.
func (c *Context) do(op string, f func() error) error {
	if err := c.live(); err != nil {
		return err
	}
	return wrap(op, f())
}

// Synchronize waits for all work of the context to finish.
func (c *Context) Synchronize() error {
	return c.do("synchronize", func() error { return c.drv.sync(c.h, nil) })
}

// MemInfo returns the free and total device memory in bytes.
func (c *Context) MemInfo() (free, total int64, err error) {
	err = c.do("memory info", func() error {
		var e error
		free, total, e = c.drv.memInfo(c.h)
		return e
	})
	return free, total, err
}

// Close waits for the context's work and releases the primary context.
// Buffers, modules, streams and events of the context must be released
// before. Close is idempotent.
func (c *Context) Close() error {
	if c.live() != nil {
		return nil
	}
	err := c.Synchronize()
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	if e := c.drv.release(c.h); e != nil && err == nil {
		err = wrap("releasing the primary context", e)
	}
	return err
}

// Stream is a CUDA stream; a nil *Stream means the legacy default stream,
// which orders with every stream created here.
type Stream struct {
	ctx *Context
	h   handle
	ok  bool
}

// create runs the driver call that makes a stream, event or module of c.
func (c *Context) create(op string, mk func(ctx handle) (handle, error)) (handle, error) {
	var h handle
	err := c.do(op, func() error {
		var e error
		h, e = mk(c.h)
		return e
	})
	return h, err
}

// NewStream creates a stream that synchronises with the default stream.
func (c *Context) NewStream() (*Stream, error) {
	h, err := c.create("creating a stream", func(ctx handle) (handle, error) { return c.drv.newStream(ctx) })
	if err != nil {
		return nil, err
	}
	return &Stream{ctx: c, h: h, ok: true}, nil
}

// handle returns the driver's stream (nil for the default stream).
func (s *Stream) handle() (handle, error) {
	if s == nil {
		return nil, nil
	}
	if !s.ok {
		return nil, ErrClosed
	}
	return s.h, nil
}

// Synchronize waits for the stream's work to finish.
func (s *Stream) Synchronize() error {
	if s == nil {
		return errors.New("cuda: Synchronize on the default stream: use Context.Synchronize")
	}
	if !s.ok {
		return ErrClosed
	}
	return s.ctx.do("stream synchronize", func() error { return s.ctx.drv.sync(s.ctx.h, s.h) })
}

// Close waits for the stream's work and destroys it; it is idempotent.
func (s *Stream) Close() error {
	if s == nil || !s.ok {
		return nil
	}
	err := s.ctx.do("destroying a stream", func() error {
		if e := s.ctx.drv.sync(s.ctx.h, s.h); e != nil {
			return e
		}
		return s.ctx.drv.destroyStream(s.ctx.h, s.h)
	})
	s.ok = false
	return err
}

// Event is a CUDA event with timing, for measuring kernels.
type Event struct {
	ctx *Context
	h   handle
	ok  bool
}

// NewEvent creates an event that records time stamps.
func (c *Context) NewEvent() (*Event, error) {
	h, err := c.create("creating an event", func(ctx handle) (handle, error) { return c.drv.newEvent(ctx) })
	if err != nil {
		return nil, err
	}
	return &Event{ctx: c, h: h, ok: true}, nil
}

// Record enqueues the event on s (nil: the default stream).
func (e *Event) Record(s *Stream) error {
	if e == nil || !e.ok {
		return ErrClosed
	}
	sh, err := s.handle()
	if err != nil {
		return err
	}
	return e.ctx.do("recording an event", func() error { return e.ctx.drv.record(e.ctx.h, e.h, sh) })
}

// Synchronize waits until the event has happened.
func (e *Event) Synchronize() error {
	if e == nil || !e.ok {
		return ErrClosed
	}
	return e.ctx.do("event synchronize", func() error { return e.ctx.drv.syncEvent(e.ctx.h, e.h) })
}

// Close destroys the event; it is idempotent.
func (e *Event) Close() error {
	if e == nil || !e.ok {
		return nil
	}
	e.ok = false
	return e.ctx.do("destroying an event", func() error { return e.ctx.drv.destroyEvent(e.ctx.h, e.h) })
}

// Elapsed returns the milliseconds between two recorded events of one
// context, after both have happened.
func Elapsed(start, end *Event) (float64, error) {
	if start == nil || end == nil || !start.ok || !end.ok {
		return 0, ErrClosed
	}
	if start.ctx != end.ctx {
		return 0, errors.New("cuda: Elapsed between events of two contexts")
	}
	var ms float64
	err := start.ctx.do("elapsed time", func() error {
		if e := start.ctx.drv.syncEvent(start.ctx.h, end.h); e != nil {
			return e
		}
		var e error
		ms, e = start.ctx.drv.elapsed(start.ctx.h, start.h, end.h)
		return e
	})
	return ms, err
}

// Module is a loaded PTX module.
type Module struct {
	ctx  *Context
	name string
	h    handle
	ok   bool
}

// LoadModule JIT-compiles PTX source for the context's device (the host
// driver ignores it); name is used in errors only.
func (c *Context) LoadModule(name, ptx string) (*Module, error) {
	h, err := c.create("loading module "+name, func(ctx handle) (handle, error) { return c.drv.loadModule(ctx, ptx) })
	if err != nil {
		return nil, err
	}
	return &Module{ctx: c, name: name, h: h, ok: true}, nil
}

// Function returns the kernel called name (an extern "C" __global__).
func (m *Module) Function(name string) (*Function, error) {
	if m == nil || !m.ok {
		return nil, ErrClosed
	}
	h, err := m.ctx.create("module "+m.name+": function "+name, func(ctx handle) (handle, error) {
		return m.ctx.drv.function(ctx, m.h, name)
	})
	if err != nil {
		return nil, err
	}
	return &Function{mod: m, name: name, h: h}, nil
}

// Close unloads the module; its Functions must not be used afterwards. It
// is idempotent.
func (m *Module) Close() error {
	if m == nil || !m.ok {
		return nil
	}
	m.ok = false
	return m.ctx.do("unloading module "+m.name, func() error { return m.ctx.drv.unloadModule(m.ctx.h, m.h) })
}

// Function is a kernel of a loaded module.
type Function struct {
	mod  *Module
	name string
	h    handle
}

// Name returns the kernel's name.
func (f *Function) Name() string { return f.name }

// Launch limits: parameters per kernel and threads per block.
const (
	maxArgs    = 32
	maxThreads = 1024
)

// Launch enqueues the kernel on s (nil: the default stream) with the given
// grid and block shapes, dynamic shared memory in bytes, and parameters.
// Every parameter is 8 bytes (see Arg). A grid with no blocks is a no-op.
func (f *Function) Launch(grid, block Dim3, sharedBytes int, s *Stream, args ...Arg) error {
	if f == nil || f.mod == nil || !f.mod.ok {
		return ErrClosed
	}
	grid, block = grid.norm(), block.norm()
	switch {
	case grid.X < 0 || grid.Y < 0 || grid.Z < 0 || block.X < 0 || block.Y < 0 || block.Z < 0 || sharedBytes < 0:
		return fmt.Errorf("cuda: launching %s: negative grid %+v, block %+v or shared memory %d", f.name, grid, block, sharedBytes)
	case grid.X == 0 || grid.Y == 0 || grid.Z == 0:
		return nil
	case block.X*block.Y*block.Z > maxThreads:
		return fmt.Errorf("cuda: launching %s: %d threads per block, at most %d", f.name, block.X*block.Y*block.Z, maxThreads)
	case len(args) > maxArgs:
		return fmt.Errorf("cuda: launching %s: %d parameters, at most %d", f.name, len(args), maxArgs)
	}
	sh, err := s.handle()
	if err != nil {
		return err
	}
	c := f.mod.ctx
	if err := c.live(); err != nil {
		return err
	}
	// The message is built only on failure: a launch is the hot path.
	if err := c.drv.launch(c.h, f.h, grid, block, sharedBytes, sh, args); err != nil {
		return f.launchErr("launching", grid, block, err)
	}
	if syncLaunches.Load() {
		if err := c.drv.sync(c.h, sh); err != nil {
			return f.launchErr("running (SGDS_CUDA_SYNC)", grid, block, err)
		}
	}
	return nil
}

// launchErr names the kernel and launch shape of a failed launch.
func (f *Function) launchErr(what string, grid, block Dim3, err error) error {
	return fmt.Errorf("cuda: %s %s (grid %d×%d×%d, block %d×%d×%d): %w",
		what, f.name, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, err)
}

// syncLaunches is the debug switch of SyncLaunches and SGDS_CUDA_SYNC.
var syncLaunches atomic.Bool

func init() { syncLaunches.Store(os.Getenv("SGDS_CUDA_SYNC") == "1") }

// SyncLaunches turns the debug switch that synchronises after every launch
// on or off (SGDS_CUDA_SYNC=1 in the environment turns it on at start-up),
// and returns the function that restores the previous setting. With it on,
// Launch waits for the kernel (on its stream, or the whole context for the
// default stream) and returns the kernel's own failure, naming it, instead
// of leaving it to a later call; launches are then serial and slow, so it
// is for finding a failing kernel, never for timing.
func SyncLaunches(on bool) (restore func()) {
	prev := syncLaunches.Swap(on)
	return func() { syncLaunches.Store(prev) }
}
