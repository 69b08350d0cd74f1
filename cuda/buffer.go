package cuda

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Elem is the element type of a device buffer.
type Elem interface{ ~float32 | ~int32 }

// elemSize returns the size of T in bytes (4 for both element types).
func elemSize[T Elem]() int64 {
	var zero T
	return int64(unsafe.Sizeof(zero))
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

// Alloc allocates n elements of device memory (uninitialised: the host
// driver fills them with a NaN pattern). n = 0 gives an empty buffer that
// holds no memory.
func Alloc[T Elem](c *Context, n int) (*Buffer[T], error) {
	if n < 0 {
		return nil, fmt.Errorf("cuda: allocating %d elements", n)
	}
	if err := c.live(); err != nil {
		return nil, err
	}
	b := &Buffer[T]{ctx: c, n: n}
	if n == 0 {
		return b, nil
	}
	bytes := int64(n) * elemSize[T]()
	err := c.do(fmt.Sprintf("allocating %d bytes", bytes), func() error {
		var e error
		b.ptr, e = c.drv.alloc(c.h, bytes)
		return e
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

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
	return &Buffer[T]{ctx: b.ctx, ptr: b.ptr + uintptr(int64(off)*elemSize[T]()), n: n, view: true}, nil
}

// Free releases the buffer's memory; a view's Free, and a second Free, do
// nothing.
func (b *Buffer[T]) Free() error {
	if b == nil || b.view || b.ptr == 0 {
		return nil
	}
	p := b.ptr
	b.ptr = 0
	return b.ctx.do("freeing device memory", func() error { return b.ctx.drv.free(b.ctx.h, p) })
}

// check reports a freed buffer, a closed stream, or n elements that do not
// fit b; it returns the stream's handle.
func (b *Buffer[T]) check(op string, s *Stream, n int) (handle, error) {
	if b == nil || (b.ptr == 0 && b.n > 0) {
		return nil, ErrClosed
	}
	if n > b.n {
		return nil, fmt.Errorf("cuda: %s: %d elements into a buffer of %d", op, n, b.n)
	}
	return s.handle()
}

// CopyFrom copies src into the first len(src) elements of b, in order on s
// (nil: the default stream). src may be reused when CopyFrom returns unless
// it is Pinned memory, which the copy reads when the stream reaches it.
func (b *Buffer[T]) CopyFrom(s *Stream, src []T) error {
	sh, err := b.check("copy to device", s, len(src))
	if err != nil || len(src) == 0 {
		return err
	}
	return b.ctx.do("copy to device", func() error {
		e := b.ctx.drv.copyIn(b.ctx.h, b.ptr, unsafe.Pointer(&src[0]), int64(len(src))*elemSize[T](), sh)
		runtime.KeepAlive(src)
		return e
	})
}

// CopyTo copies the first len(dst) elements of b into dst after the work
// already enqueued on s (nil: the default stream) and returns when dst
// holds them.
func (b *Buffer[T]) CopyTo(s *Stream, dst []T) error {
	sh, err := b.check("copy to host", s, len(dst))
	if err != nil || len(dst) == 0 {
		return err
	}
	return b.ctx.do("copy to host", func() error {
		e := b.ctx.drv.copyOut(b.ctx.h, unsafe.Pointer(&dst[0]), b.ptr, int64(len(dst))*elemSize[T](), sh)
		runtime.KeepAlive(dst)
		return e
	})
}

// CopyFromDevice copies src (no longer than b) into the start of b on s.
func (b *Buffer[T]) CopyFromDevice(s *Stream, src *Buffer[T]) error {
	sh, err := b.check("device copy", s, src.Len())
	if err != nil || src.Len() == 0 {
		return err
	}
	return b.ctx.do("device copy", func() error {
		return b.ctx.drv.copyDevice(b.ctx.h, b.ptr, src.ptr, int64(src.n)*elemSize[T](), sh)
	})
}

// Fill sets every element of b to v on s.
func (b *Buffer[T]) Fill(s *Stream, v T) error {
	sh, err := b.check("fill", s, 0)
	if err != nil || b.n == 0 {
		return err
	}
	bits := *(*uint32)(unsafe.Pointer(&v))
	return b.ctx.do("fill", func() error { return b.ctx.drv.fill32(b.ctx.h, b.ptr, bits, int64(b.n), sh) })
}

// Pinned is page-locked host memory of Len elements: copies between it and
// a Buffer run without staging and, from it, truly asynchronously, so the
// caller must not write Data again until the stream has passed the copy
// (a later CopyTo or Synchronize on that stream). Free releases it.
type Pinned[T Elem] struct {
	ctx  *Context
	p    unsafe.Pointer
	data []T
}

// AllocPinned allocates n elements of page-locked host memory.
func AllocPinned[T Elem](c *Context, n int) (*Pinned[T], error) {
	if n < 0 {
		return nil, fmt.Errorf("cuda: allocating %d pinned elements", n)
	}
	if err := c.live(); err != nil {
		return nil, err
	}
	h := &Pinned[T]{ctx: c}
	if n == 0 {
		return h, nil
	}
	err := c.do("allocating pinned host memory", func() error {
		var e error
		h.p, e = c.drv.allocHost(c.h, int64(n)*elemSize[T]())
		return e
	})
	if err != nil {
		return nil, err
	}
	h.data = unsafe.Slice((*T)(h.p), n)
	return h, nil
}

// Data returns the memory as a slice (nil after Free).
func (h *Pinned[T]) Data() []T {
	if h == nil {
		return nil
	}
	return h.data
}

// Free releases the memory; a second Free does nothing.
func (h *Pinned[T]) Free() error {
	if h == nil || h.p == nil {
		return nil
	}
	p := h.p
	h.p, h.data = nil, nil
	return h.ctx.do("freeing pinned host memory", func() error { return h.ctx.drv.freeHost(h.ctx.h, p) })
}
