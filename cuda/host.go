package cuda

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
	"unsafe"
)

// HostKernel is the Go implementation of a kernel for the host driver: it
// receives the launch shape and the 8-byte parameters in the kernel's
// order, reads and writes memory through HostFloat32s and HostInt32s, and
// runs to completion before Launch returns.
type HostKernel func(grid, block Dim3, args []Arg) error

// RegisterHost makes kernel name launchable on the host driver (package
// kernels/device registers one per CUDA kernel).
func RegisterHost(name string, k HostKernel) {
	host.mu.Lock()
	defer host.mu.Unlock()
	host.kernels[name] = k
}

// hostDriver keeps device memory in Go memory and runs registered Go
// kernels; see UseHost. Work runs when it is enqueued, so streams and
// events only check their state.
type hostDriver struct {
	mu      sync.Mutex
	kernels map[string]HostKernel
	allocs  []hostAlloc                 // by base address
	pinned  map[unsafe.Pointer][]uint32 // keeps page-locked stand-ins alive
}

type hostAlloc struct {
	base  uintptr
	words []uint32
}

// host is the one host driver of the process.
var host = &hostDriver{kernels: map[string]HostKernel{}, pinned: map[unsafe.Pointer][]uint32{}}

var _ driver = (*hostDriver)(nil)

// hostInfo describes the host driver's one device: nominal figures in the
// range of a current GPU, so that launch shapes are realistic.
var hostInfo = DeviceInfo{Name: "host driver (no GPU)", TotalMem: 1 << 34, Major: 8, SMs: 132,
	ClockKHz: 1, MemClockKHz: 1, BusWidth: 8}

// words returns the memory of the allocation holding address p, from p to
// the allocation's end.
func (h *hostDriver) words(p uintptr) ([]uint32, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := sort.Search(len(h.allocs), func(i int) bool { return h.allocs[i].base > p }) - 1
	if i < 0 {
		return nil, fmt.Errorf("host driver: address %#x is not allocated", p)
	}
	a := h.allocs[i]
	off := (p - a.base) / 4
	if off >= uintptr(len(a.words)) || (p-a.base)%4 != 0 {
		return nil, fmt.Errorf("host driver: address %#x is outside every allocation", p)
	}
	return a.words[off:], nil
}

// bytes returns n bytes of host-driver memory at p.
func (h *hostDriver) bytes(p uintptr, n int64) ([]byte, error) {
	w, err := h.words(p)
	if err != nil {
		return nil, err
	}
	if n > 4*int64(len(w)) {
		return nil, fmt.Errorf("host driver: %d bytes at %#x overrun the allocation", n, p)
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), n), nil
}

// hostSlice returns the memory from the pointer parameter a to the end of
// its allocation, as T (nil for the null pointer).
func hostSlice[T Elem](a Arg) ([]T, error) {
	if a == 0 {
		return nil, nil
	}
	w, err := host.words(uintptr(a))
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&w[0])), len(w)), nil
}

// HostFloat32s returns the float32 memory of the host driver from the
// pointer parameter a to the end of its allocation (nil for the null
// pointer).
func HostFloat32s(a Arg) ([]float32, error) { return hostSlice[float32](a) }

// HostInt32s is HostFloat32s for int32 memory.
func HostInt32s(a Arg) ([]int32, error) { return hostSlice[int32](a) }

func (*hostDriver) name() string                   { return "host" }
func (*hostDriver) version() (int, error)          { return 0, nil }
func (*hostDriver) devices() ([]DeviceInfo, error) { return []DeviceInfo{hostInfo}, nil }
func (*hostDriver) retain(int) (handle, error)     { return struct{}{}, nil }
func (*hostDriver) release(handle) error           { return nil }
func (*hostDriver) sync(_, _ handle) error         { return nil }

func (*hostDriver) memInfo(handle) (free, total int64, err error) {
	return hostInfo.TotalMem, hostInfo.TotalMem, nil
}

func (*hostDriver) newStream(handle) (handle, error) { return new(int), nil }
func (*hostDriver) destroyStream(_, _ handle) error  { return nil }
func (*hostDriver) newEvent(handle) (handle, error)  { return new(time.Time), nil }
func (*hostDriver) syncEvent(_, _ handle) error      { return nil }
func (*hostDriver) destroyEvent(_, _ handle) error   { return nil }

func (*hostDriver) record(_, e, _ handle) error {
	*e.(*time.Time) = time.Now()
	return nil
}

func (*hostDriver) elapsed(_, start, end handle) (float64, error) {
	return float64(end.(*time.Time).Sub(*start.(*time.Time)).Nanoseconds()) / 1e6, nil
}

func (*hostDriver) loadModule(handle, string) (handle, error) { return struct{}{}, nil }
func (*hostDriver) unloadModule(_, _ handle) error            { return nil }

func (h *hostDriver) function(_, _ handle, name string) (handle, error) {
	h.mu.Lock()
	k, ok := h.kernels[name]
	h.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("host driver: no host implementation of kernel %s", name)
	}
	return k, nil
}

func (*hostDriver) launch(_, f handle, grid, block Dim3, _ int, _ handle, args []Arg) error {
	return f.(HostKernel)(grid, block, args)
}

// poison is what fresh host-driver memory holds: a quiet NaN, as
// uninitialised device memory may hold anything.
const poison = 0x7fc00001

func (h *hostDriver) alloc(_ handle, bytes int64) (uintptr, error) {
	words := make([]uint32, (bytes+3)/4)
	for i := range words {
		words[i] = poison
	}
	p := uintptr(unsafe.Pointer(&words[0]))
	h.mu.Lock()
	defer h.mu.Unlock()
	i := sort.Search(len(h.allocs), func(i int) bool { return h.allocs[i].base > p })
	h.allocs = append(h.allocs, hostAlloc{})
	copy(h.allocs[i+1:], h.allocs[i:])
	h.allocs[i] = hostAlloc{base: p, words: words}
	return p, nil
}

func (h *hostDriver) free(_ handle, p uintptr) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, a := range h.allocs {
		if a.base == p {
			h.allocs = append(h.allocs[:i], h.allocs[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("host driver: freeing %#x, which is not allocated", p)
}

func (h *hostDriver) allocHost(_ handle, bytes int64) (unsafe.Pointer, error) {
	words := make([]uint32, (bytes+3)/4)
	p := unsafe.Pointer(&words[0])
	h.mu.Lock()
	h.pinned[p] = words
	h.mu.Unlock()
	return p, nil
}

func (h *hostDriver) freeHost(_ handle, p unsafe.Pointer) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.pinned[p]; !ok {
		return errors.New("host driver: freeing pinned memory that is not allocated")
	}
	delete(h.pinned, p)
	return nil
}

func (h *hostDriver) copyIn(_ handle, dst uintptr, src unsafe.Pointer, n int64, _ handle) error {
	d, err := h.bytes(dst, n)
	if err != nil {
		return err
	}
	copy(d, unsafe.Slice((*byte)(src), n))
	return nil
}

func (h *hostDriver) copyOut(_ handle, dst unsafe.Pointer, src uintptr, n int64, _ handle) error {
	s, err := h.bytes(src, n)
	if err != nil {
		return err
	}
	copy(unsafe.Slice((*byte)(dst), n), s)
	return nil
}

func (h *hostDriver) copyDevice(_ handle, dst, src uintptr, n int64, _ handle) error {
	d, err := h.bytes(dst, n)
	if err != nil {
		return err
	}
	s, err := h.bytes(src, n)
	if err != nil {
		return err
	}
	copy(d, s)
	return nil
}

func (h *hostDriver) fill32(_ handle, dst uintptr, bits uint32, n int64, _ handle) error {
	d, err := h.bytes(dst, 4*n)
	if err != nil {
		return err
	}
	w := unsafe.Slice((*uint32)(unsafe.Pointer(&d[0])), n)
	for i := range w {
		w[i] = bits
	}
	return nil
}
