//go:build cuda

package cuda

// #cgo LDFLAGS: -lcuda
// #include <cuda.h>
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"gorgonia.org/cu"
)

// Compiled reports whether this build contains the CUDA driver (the cuda
// build tag).
const Compiled = true

// compiledDriver is the build's own driver: the CUDA driver API.
func compiledDriver() (driver, error) { return cgoDriver{}, nil }

// cgoDriver calls the CUDA driver API through gorgonia.org/cu (and, for
// page-locked host memory, which gorgonia.org/cu does not bind, directly).
// A CUDA context is current per OS thread, so every context-bound call pins
// its goroutine to its thread and makes the context current there first.
type cgoDriver struct{}

var _ driver = (*cgoDriver)(nil)

// cgoCtx is the handle of a retained primary context.
type cgoCtx struct {
	dev cu.Device
	ctx cu.CUContext
}

// check turns a driver result into an error; a missing device also
// matches ErrNoDevice.
func check(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, cu.NoDevice) || errors.Is(err, cu.InvalidDevice) {
		return fmt.Errorf("%w: %w", ErrNoDevice, err)
	}
	return err
}

// do runs f with ctx current on a pinned OS thread.
func (cgoDriver) do(ctx handle, f func() error) error {
	c := ctx.(*cgoCtx)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cu.SetCurrentContext(c.ctx); err != nil {
		return fmt.Errorf("making the context current: %w", check(err))
	}
	return check(f())
}

// in runs f like do and returns its result.
func in[T any](d cgoDriver, ctx handle, f func() (T, error)) (T, error) {
	var v T
	err := d.do(ctx, func() error {
		var e error
		v, e = f()
		return e
	})
	return v, err
}

func stream(s handle) cu.Stream {
	if s == nil {
		return cu.Stream{}
	}
	return s.(cu.Stream)
}

func (cgoDriver) name() string { return "cuda" }

func (cgoDriver) version() (int, error) {
	v := cu.Version()
	if v < 0 {
		return 0, errors.New("cannot read the driver version")
	}
	return v, nil
}

func (cgoDriver) devices() ([]DeviceInfo, error) {
	n, err := cu.NumDevices()
	if err != nil {
		return nil, check(err)
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
	dev, err := cu.GetDevice(ordinal)
	if err != nil {
		return DeviceInfo{}, fmt.Errorf("device %d: %w", ordinal, check(err))
	}
	info := DeviceInfo{Ordinal: ordinal}
	if info.Name, err = dev.Name(); err != nil {
		return DeviceInfo{}, fmt.Errorf("device name: %w", check(err))
	}
	if info.TotalMem, err = dev.TotalMem(); err != nil {
		return DeviceInfo{}, fmt.Errorf("device memory: %w", check(err))
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
			return DeviceInfo{}, fmt.Errorf("device attribute: %w", check(err))
		}
	}
	return info, nil
}

func (cgoDriver) retain(ordinal int) (handle, error) {
	dev, err := cu.GetDevice(ordinal)
	if err != nil {
		return nil, check(err)
	}
	ctx, err := dev.RetainPrimaryCtx()
	if err != nil {
		return nil, check(err)
	}
	return &cgoCtx{dev: dev, ctx: ctx}, nil
}

func (cgoDriver) release(ctx handle) error { return check(ctx.(*cgoCtx).dev.ReleasePrimaryCtx()) }

func (d cgoDriver) sync(ctx, s handle) error {
	if s == nil {
		return d.do(ctx, cu.Synchronize)
	}
	return d.do(ctx, stream(s).Synchronize)
}

func (d cgoDriver) memInfo(ctx handle) (free, total int64, err error) {
	err = d.do(ctx, func() error {
		var e error
		free, total, e = cu.MemInfo()
		return e
	})
	return free, total, err
}

func (d cgoDriver) newStream(ctx handle) (handle, error) {
	return in(d, ctx, func() (cu.Stream, error) { return cu.MakeStream(cu.DefaultStream) })
}

func (d cgoDriver) destroyStream(ctx, s handle) error {
	st := stream(s)
	return d.do(ctx, st.Destroy)
}

func (d cgoDriver) newEvent(ctx handle) (handle, error) {
	return in(d, ctx, func() (cu.Event, error) { return cu.MakeEvent(cu.DefaultEvent) })
}

func (d cgoDriver) record(ctx, e, s handle) error {
	return d.do(ctx, func() error { return e.(cu.Event).Record(stream(s)) })
}

func (d cgoDriver) syncEvent(ctx, e handle) error { return d.do(ctx, e.(cu.Event).Synchronize) }

func (d cgoDriver) destroyEvent(ctx, e handle) error {
	ev := e.(cu.Event)
	return d.do(ctx, func() error { return cu.DestroyEvent(&ev) })
}

func (d cgoDriver) elapsed(ctx, start, end handle) (ms float64, err error) {
	return in(d, ctx, func() (float64, error) { return start.(cu.Event).Elapsed(end.(cu.Event)) })
}

// jitLogBytes is the size of the buffer the JIT compiler writes its error
// log into when a module fails to load.
const jitLogBytes = 16 << 10

func (d cgoDriver) loadModule(ctx handle, ptx string) (handle, error) {
	return in(d, ctx, func() (cu.Module, error) {
		log := make([]byte, jitLogBytes)
		m, err := cu.LoadDataEx(ptx, &cu.JITErrorLogBuffer{Buffer: log})
		runtime.KeepAlive(log)
		if err != nil {
			return m, jitError(err, log)
		}
		return m, nil
	})
}

func (d cgoDriver) unloadModule(ctx, m handle) error { return d.do(ctx, m.(cu.Module).Unload) }

func (d cgoDriver) function(ctx, m handle, name string) (handle, error) {
	return in(d, ctx, func() (cu.Function, error) { return m.(cu.Module).Function(name) })
}

func (d cgoDriver) launch(ctx, f handle, grid, block Dim3, sharedBytes int, s handle, args []Arg) error {
	var vals [maxArgs]uint64
	var ptrs [maxArgs]unsafe.Pointer
	for i, a := range args {
		vals[i] = uint64(a)
		ptrs[i] = unsafe.Pointer(&vals[i])
	}
	return d.do(ctx, func() error {
		return f.(cu.Function).Launch(grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, sharedBytes, stream(s), ptrs[:len(args)])
	})
}

func (d cgoDriver) alloc(ctx handle, bytes int64) (p uintptr, err error) {
	err = d.do(ctx, func() error {
		dp, e := cu.MemAlloc(bytes)
		p = uintptr(dp)
		return e
	})
	return p, err
}

func (d cgoDriver) free(ctx handle, p uintptr) error {
	return d.do(ctx, func() error { return cu.MemFree(cu.DevicePtr(p)) })
}

func (d cgoDriver) allocHost(ctx handle, bytes int64) (p unsafe.Pointer, err error) {
	err = d.do(ctx, func() error {
		if r := C.cuMemAllocHost(&p, C.size_t(bytes)); r != C.CUDA_SUCCESS {
			return fmt.Errorf("cuMemAllocHost: CUDA error %d", int(r))
		}
		return nil
	})
	return p, err
}

func (d cgoDriver) freeHost(ctx handle, p unsafe.Pointer) error {
	return d.do(ctx, func() error { return cu.MemFreeHost(p) })
}

func (d cgoDriver) copyIn(ctx handle, dst uintptr, src unsafe.Pointer, bytes int64, s handle) error {
	return d.do(ctx, func() error { return cu.MemcpyHtoDAsync(cu.DevicePtr(dst), src, bytes, stream(s)) })
}

func (d cgoDriver) copyOut(ctx handle, dst unsafe.Pointer, src uintptr, bytes int64, s handle) error {
	return d.do(ctx, func() error {
		st := stream(s)
		if e := cu.MemcpyDtoHAsync(dst, cu.DevicePtr(src), bytes, st); e != nil {
			return e
		}
		return st.Synchronize()
	})
}

func (d cgoDriver) copyDevice(ctx handle, dst, src uintptr, bytes int64, s handle) error {
	return d.do(ctx, func() error { return cu.MemcpyDtoDAsync(cu.DevicePtr(dst), cu.DevicePtr(src), bytes, stream(s)) })
}

func (d cgoDriver) fill32(ctx handle, dst uintptr, bits uint32, n int64, s handle) error {
	return d.do(ctx, func() error { return cu.MemsetD32Async(cu.DevicePtr(dst), uint(bits), n, stream(s)) })
}
