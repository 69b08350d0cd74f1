//go:build cuda && !sgdsfake

package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"gorgonia.org/cu"
)

// Compiled reports whether this build contains the CUDA path.
const Compiled = true

// Fake reports whether kernels run on the host stand-in (-tags sgdsfake).
const Fake = false

// wrap turns a CUDA result into an error naming the operation; a missing
// device also matches ErrNoDevice.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, cu.NoDevice) || errors.Is(err, cu.InvalidDevice) {
		return fmt.Errorf("cuda: %s: %w: %w", op, ErrNoDevice, err)
	}
	return fmt.Errorf("cuda: %s: %w", op, err)
}

// DriverVersion returns the CUDA version of the installed driver as
// 1000·major + 10·minor (13000 for CUDA 13.0).
func DriverVersion() (int, error) {
	v := cu.Version()
	if v < 0 {
		return 0, errors.New("cuda: cannot read the driver version")
	}
	return v, nil
}

// Devices lists the CUDA devices the driver sees, or ErrNoDevice.
func Devices() ([]DeviceInfo, error) {
	n, err := cu.NumDevices()
	if err != nil {
		return nil, wrap("counting devices", err)
	}
	if n == 0 {
		return nil, ErrNoDevice
	}
	out := make([]DeviceInfo, 0, n)
	for i := 0; i < n; i++ {
		d, err := deviceInfo(i)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func deviceInfo(ordinal int) (DeviceInfo, error) {
	n, err := cu.NumDevices()
	if err != nil {
		return DeviceInfo{}, wrap("counting devices", err)
	}
	if ordinal < 0 || ordinal >= n {
		return DeviceInfo{}, fmt.Errorf("cuda: device %d: %w (the driver sees %d)", ordinal, ErrNoDevice, n)
	}
	dev, err := cu.GetDevice(ordinal)
	if err != nil {
		return DeviceInfo{}, wrap(fmt.Sprintf("device %d", ordinal), err)
	}
	info := DeviceInfo{Ordinal: ordinal}
	if info.Name, err = dev.Name(); err != nil {
		return DeviceInfo{}, wrap("device name", err)
	}
	if info.TotalMem, err = dev.TotalMem(); err != nil {
		return DeviceInfo{}, wrap("device memory", err)
	}
	attrs := []struct {
		a   cu.DeviceAttribute
		dst *int
	}{
		{cu.ComputeCapabilityMajor, &info.Major}, {cu.ComputeCapabilityMinor, &info.Minor},
		{cu.MultiprocessorCount, &info.SMs}, {cu.ClockRate, &info.ClockKHz},
		{cu.MemoryClockRate, &info.MemClockKHz}, {cu.GlobalMemoryBusWidth, &info.BusWidth},
	}
	for _, at := range attrs {
		if *at.dst, err = dev.Attribute(at.a); err != nil {
			return DeviceInfo{}, wrap("device attribute", err)
		}
	}
	return info, nil
}

// Context is the primary context of one device, retained for the life of
// the value. Several Contexts on one device share the driver's primary
// context (as the CUDA runtime does).
type Context struct {
	mu     sync.Mutex
	dev    cu.Device
	cuctx  cu.CUContext
	info   DeviceInfo
	closed bool
}

// NewContext retains the primary context of device ordinal.
func NewContext(ordinal int) (*Context, error) {
	info, err := deviceInfo(ordinal)
	if err != nil {
		return nil, err
	}
	dev, err := cu.GetDevice(ordinal)
	if err != nil {
		return nil, wrap("device", err)
	}
	cuctx, err := dev.RetainPrimaryCtx()
	if err != nil {
		return nil, wrap("retaining the primary context", err)
	}
	return &Context{dev: dev, cuctx: cuctx, info: info}, nil
}

// Info describes the context's device.
func (c *Context) Info() DeviceInfo { return c.info }

// enter pins the goroutine to its OS thread and makes c current there; the
// caller must call exit after its driver calls, also on error.
func (c *Context) enter() error {
	if c == nil {
		return ErrClosed
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return ErrClosed
	}
	runtime.LockOSThread()
	if err := cu.SetCurrentContext(c.cuctx); err != nil {
		runtime.UnlockOSThread()
		return wrap("making the context current", err)
	}
	return nil
}

func (c *Context) exit() { runtime.UnlockOSThread() }

// do runs f with c current on a pinned OS thread.
func (c *Context) do(op string, f func() error) error {
	if err := c.enter(); err != nil {
		return err
	}
	defer c.exit()
	return wrap(op, f())
}

// Synchronize waits for all work of the context to finish.
func (c *Context) Synchronize() error { return c.do("synchronize", cu.Synchronize) }

// MemInfo returns the free and total device memory in bytes.
func (c *Context) MemInfo() (free, total int64, err error) {
	err = c.do("memory info", func() error {
		var e error
		free, total, e = cu.MemInfo()
		return e
	})
	return free, total, err
}

// Close waits for the context's work and releases the primary context.
// Buffers, modules, streams and events of the context must be released
// before. Close is idempotent.
func (c *Context) Close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	err := c.do("synchronize before close", cu.Synchronize)
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	if e := c.dev.ReleasePrimaryCtx(); e != nil && err == nil {
		err = wrap("releasing the primary context", e)
	}
	return err
}

// Stream is a CUDA stream; a nil *Stream means the legacy default stream,
// which orders with every stream created here.
type Stream struct {
	ctx *Context
	s   cu.Stream
	ok  bool
}

// NewStream creates a stream that synchronises with the default stream.
func (c *Context) NewStream() (*Stream, error) {
	st := &Stream{ctx: c}
	err := c.do("creating a stream", func() error {
		var e error
		st.s, e = cu.MakeStream(cu.DefaultStream)
		return e
	})
	if err != nil {
		return nil, err
	}
	st.ok = true
	return st, nil
}

// raw returns the driver stream (the default stream for nil).
func (s *Stream) raw() (cu.Stream, error) {
	if s == nil {
		return cu.Stream{}, nil
	}
	if !s.ok {
		return cu.Stream{}, ErrClosed
	}
	return s.s, nil
}

// Synchronize waits for the stream's work to finish.
func (s *Stream) Synchronize() error {
	if s == nil {
		return errors.New("cuda: Synchronize on the default stream: use Context.Synchronize")
	}
	if !s.ok {
		return ErrClosed
	}
	return s.ctx.do("stream synchronize", s.s.Synchronize)
}

// Close waits for the stream's work and destroys it; it is idempotent.
func (s *Stream) Close() error {
	if s == nil || !s.ok {
		return nil
	}
	err := s.ctx.do("destroying a stream", func() error {
		if e := s.s.Synchronize(); e != nil {
			return e
		}
		return s.s.Destroy()
	})
	s.ok = false
	return err
}

// Event is a CUDA event with timing, for measuring kernels.
type Event struct {
	ctx *Context
	e   cu.Event
	ok  bool
}

// NewEvent creates an event that records time stamps.
func (c *Context) NewEvent() (*Event, error) {
	ev := &Event{ctx: c}
	err := c.do("creating an event", func() error {
		var e error
		ev.e, e = cu.MakeEvent(cu.DefaultEvent)
		return e
	})
	if err != nil {
		return nil, err
	}
	ev.ok = true
	return ev, nil
}

// Record enqueues the event on s (nil: the default stream).
func (e *Event) Record(s *Stream) error {
	if e == nil || !e.ok {
		return ErrClosed
	}
	raw, err := s.raw()
	if err != nil {
		return err
	}
	return e.ctx.do("recording an event", func() error { return e.e.Record(raw) })
}

// Synchronize waits until the event has happened.
func (e *Event) Synchronize() error {
	if e == nil || !e.ok {
		return ErrClosed
	}
	return e.ctx.do("event synchronize", e.e.Synchronize)
}

// Close destroys the event; it is idempotent.
func (e *Event) Close() error {
	if e == nil || !e.ok {
		return nil
	}
	e.ok = false
	return e.ctx.do("destroying an event", func() error { return cu.DestroyEvent(&e.e) })
}

// Elapsed returns the milliseconds between two recorded events, after both
// have happened.
func Elapsed(start, end *Event) (float64, error) {
	if start == nil || end == nil || !start.ok || !end.ok {
		return 0, ErrClosed
	}
	var ms float64
	err := start.ctx.do("elapsed time", func() error {
		if e := end.e.Synchronize(); e != nil {
			return e
		}
		var e error
		ms, e = start.e.Elapsed(end.e)
		return e
	})
	return ms, err
}

// Module is a loaded PTX module.
type Module struct {
	ctx  *Context
	name string
	mod  cu.Module
	ok   bool
}

// LoadModule JIT-compiles PTX source for the context's device; name is used
// in errors only.
func (c *Context) LoadModule(name, ptx string) (*Module, error) {
	m := &Module{ctx: c, name: name}
	err := c.do("loading module "+name, func() error {
		var e error
		m.mod, e = cu.LoadData(ptx)
		return e
	})
	if err != nil {
		return nil, err
	}
	m.ok = true
	return m, nil
}

// Function returns the kernel called name (an extern "C" __global__).
func (m *Module) Function(name string) (*Function, error) {
	if m == nil || !m.ok {
		return nil, ErrClosed
	}
	f := &Function{ctx: m.ctx, name: name, mod: m}
	err := m.ctx.do("module "+m.name+": function "+name, func() error {
		var e error
		f.fn, e = m.mod.Function(name)
		return e
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Close unloads the module; its Functions must not be used afterwards. It
// is idempotent.
func (m *Module) Close() error {
	if m == nil || !m.ok {
		return nil
	}
	m.ok = false
	return m.ctx.do("unloading module "+m.name, m.mod.Unload)
}

// Function is a kernel of a loaded module.
type Function struct {
	ctx  *Context
	mod  *Module
	name string
	fn   cu.Function
}

// Name returns the kernel's name.
func (f *Function) Name() string { return f.name }

// maxArgs bounds the parameters of one kernel.
const maxArgs = 32

// Launch enqueues the kernel on s (nil: the default stream) with the given
// grid and block shapes, dynamic shared memory in bytes, and parameters.
// Every parameter is 8 bytes (see Arg). A grid with no blocks is a no-op.
func (f *Function) Launch(grid, block Dim3, sharedBytes int, s *Stream, args ...Arg) error {
	if f == nil || f.mod == nil || !f.mod.ok {
		return ErrClosed
	}
	grid, block = grid.norm(), block.norm()
	if grid.X < 0 || grid.Y < 0 || grid.Z < 0 || block.X < 0 || block.Y < 0 || block.Z < 0 || sharedBytes < 0 {
		return fmt.Errorf("cuda: launching %s: negative grid %+v, block %+v or shared memory %d", f.name, grid, block, sharedBytes)
	}
	if grid.X == 0 || grid.Y == 0 || grid.Z == 0 {
		return nil
	}
	if len(args) > maxArgs {
		return fmt.Errorf("cuda: launching %s: %d parameters, at most %d", f.name, len(args), maxArgs)
	}
	raw, err := s.raw()
	if err != nil {
		return err
	}
	var vals [maxArgs]uint64
	var ptrs [maxArgs]unsafe.Pointer
	for i, a := range args {
		vals[i] = uint64(a)
		ptrs[i] = unsafe.Pointer(&vals[i])
	}
	if err := f.ctx.enter(); err != nil {
		return err
	}
	defer f.ctx.exit()
	err = f.fn.Launch(grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, sharedBytes, raw, ptrs[:len(args)])
	if err != nil {
		return fmt.Errorf("cuda: launching %s (grid %d×%d×%d, block %d×%d×%d): %w",
			f.name, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, err)
	}
	return nil
}

// Alloc allocates n elements of device memory (uninitialised). n = 0 gives
// an empty buffer that holds no memory.
func Alloc[T Elem](c *Context, n int) (*Buffer[T], error) {
	if n < 0 {
		return nil, fmt.Errorf("cuda: allocating %d elements", n)
	}
	b := &Buffer[T]{ctx: c, n: n}
	if n == 0 {
		return b, c.enterExit()
	}
	err := c.do(fmt.Sprintf("allocating %d bytes", int64(n)*elemSize[T]()), func() error {
		p, e := cu.MemAlloc(int64(n) * elemSize[T]())
		b.ptr = uintptr(p)
		return e
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// enterExit checks that c is usable.
func (c *Context) enterExit() error {
	if err := c.enter(); err != nil {
		return err
	}
	c.exit()
	return nil
}

// Free releases the buffer's memory; a view's Free, and a second Free, do
// nothing.
func (b *Buffer[T]) Free() error {
	if b == nil || b.view || b.ptr == 0 {
		return nil
	}
	p := b.ptr
	b.ptr = 0
	return b.ctx.do("freeing device memory", func() error { return cu.MemFree(cu.DevicePtr(p)) })
}

// CopyFrom copies src into the first len(src) elements of b, in order on s
// (nil: the default stream). src may be reused when CopyFrom returns.
func (b *Buffer[T]) CopyFrom(s *Stream, src []T) error {
	if err := b.checkHost("copy to device", len(src)); err != nil {
		return err
	}
	if len(src) == 0 {
		return nil
	}
	raw, err := s.raw()
	if err != nil {
		return err
	}
	return b.ctx.do("copy to device", func() error {
		e := cu.MemcpyHtoDAsync(cu.DevicePtr(b.ptr), unsafe.Pointer(&src[0]), int64(len(src))*elemSize[T](), raw)
		runtime.KeepAlive(src)
		return e
	})
}

// CopyTo copies the first len(dst) elements of b into dst after the work
// already enqueued on s (nil: the default stream) and returns when dst
// holds them.
func (b *Buffer[T]) CopyTo(s *Stream, dst []T) error {
	if err := b.checkHost("copy to host", len(dst)); err != nil {
		return err
	}
	if len(dst) == 0 {
		return nil
	}
	raw, err := s.raw()
	if err != nil {
		return err
	}
	return b.ctx.do("copy to host", func() error {
		if e := cu.MemcpyDtoHAsync(unsafe.Pointer(&dst[0]), cu.DevicePtr(b.ptr), int64(len(dst))*elemSize[T](), raw); e != nil {
			return e
		}
		e := raw.Synchronize()
		runtime.KeepAlive(dst)
		return e
	})
}

// CopyFromDevice copies src (no longer than b) into the start of b on s.
func (b *Buffer[T]) CopyFromDevice(s *Stream, src *Buffer[T]) error {
	if err := b.checkHost("device copy", src.Len()); err != nil {
		return err
	}
	if src.Len() == 0 {
		return nil
	}
	raw, err := s.raw()
	if err != nil {
		return err
	}
	return b.ctx.do("device copy", func() error {
		return cu.MemcpyDtoDAsync(cu.DevicePtr(b.ptr), cu.DevicePtr(src.ptr), int64(src.n)*elemSize[T](), raw)
	})
}

// Fill sets every element of b to v on s.
func (b *Buffer[T]) Fill(s *Stream, v T) error {
	if err := b.checkHost("fill", 0); err != nil {
		return err
	}
	if b.n == 0 {
		return nil
	}
	raw, err := s.raw()
	if err != nil {
		return err
	}
	bits := *(*uint32)(unsafe.Pointer(&v))
	return b.ctx.do("fill", func() error {
		return cu.MemsetD32Async(cu.DevicePtr(b.ptr), uint(bits), int64(b.n), raw)
	})
}
