package cuda

import (
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// ErrNotCompiled is returned by every entry point of a build without the
// cuda tag.
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

// Elem is the element type of a device buffer.
type Elem interface{ ~float32 | ~int32 }

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

// Buffer is a typed block of device memory of Len elements, or a view into
// one (Slice). Buffers are created by Alloc and released by Free; a view
// shares its parent's memory, must not outlive it, and its Free does
// nothing. Buffers may be used from any goroutine, but the caller orders
// the operations on the memory (through streams).
type Buffer[T Elem] struct {
	ctx  *Context
	ptr  uintptr
	n    int
	view bool
}

// Float32s is a device buffer of float32.
type Float32s = Buffer[float32]

// Int32s is a device buffer of int32.
type Int32s = Buffer[int32]

// Len returns the number of elements (0 for a nil or freed buffer).
func (b *Buffer[T]) Len() int {
	if b == nil || b.ptr == 0 {
		return 0
	}
	return b.n
}

// DevicePtr implements Pointer.
func (b *Buffer[T]) DevicePtr() uintptr {
	if b == nil {
		return 0
	}
	return b.ptr
}

// Slice returns a view of n elements starting at element off.
func (b *Buffer[T]) Slice(off, n int) (*Buffer[T], error) {
	if b == nil || (b.ptr == 0 && b.n > 0) {
		return nil, ErrClosed
	}
	if off < 0 || n < 0 || off > b.n || n > b.n-off {
		return nil, fmt.Errorf("cuda: slice [%d:%d] of a buffer of %d elements", off, off+n, b.n)
	}
	var zero T
	return &Buffer[T]{ctx: b.ctx, ptr: b.ptr + uintptr(off)*unsafe.Sizeof(zero), n: n, view: true}, nil
}

// elemSize returns the size of T in bytes (4 for both element types).
func elemSize[T Elem]() int64 {
	var zero T
	return int64(unsafe.Sizeof(zero))
}

// checkHost reports a host slice longer than the buffer.
func (b *Buffer[T]) checkHost(op string, n int) error {
	if b == nil || (b.ptr == 0 && b.n > 0) {
		return ErrClosed
	}
	if n > b.n {
		return fmt.Errorf("cuda: %s: %d elements into a buffer of %d", op, n, b.n)
	}
	return nil
}
