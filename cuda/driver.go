package cuda

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"unsafe"
)

// handle is a driver's own value for a context, stream, event, module or
// function. A nil stream handle is the default stream.
type handle = any

// driver is one implementation of the driver-API calls this package makes:
// cgoDriver (the CUDA driver through gorgonia.org/cu, in builds with the cuda
// tag) or hostDriver (host memory and registered Go kernels, always built).
// The exported types check their arguments and their own state, then call
// it; a driver only translates. Context-bound calls receive the context's
// handle; copies and kernels are ordered on the stream handle s.
type driver interface {
	name() string
	version() (int, error)
	devices() ([]DeviceInfo, error)

	retain(ordinal int) (ctx handle, err error)
	release(ctx handle) error
	// sync waits for the work of stream s, or of the whole context when s
	// is nil.
	sync(ctx, s handle) error
	memInfo(ctx handle) (free, total int64, err error)

	newStream(ctx handle) (handle, error)
	destroyStream(ctx, s handle) error
	newEvent(ctx handle) (handle, error)
	record(ctx, e, s handle) error
	syncEvent(ctx, e handle) error
	destroyEvent(ctx, e handle) error
	elapsed(ctx, start, end handle) (ms float64, err error)

	loadModule(ctx handle, ptx string) (handle, error)
	unloadModule(ctx, m handle) error
	function(ctx, m handle, name string) (handle, error)
	launch(ctx, f handle, grid, block Dim3, sharedBytes int, s handle, args []Arg) error

	alloc(ctx handle, bytes int64) (uintptr, error)
	free(ctx handle, p uintptr) error
	// allocHost returns page-locked host memory, which copies can read and
	// write without staging; freeHost releases it.
	allocHost(ctx handle, bytes int64) (unsafe.Pointer, error)
	freeHost(ctx handle, p unsafe.Pointer) error
	// copyIn enqueues a host-to-device copy; src may be reused on return.
	copyIn(ctx handle, dst uintptr, src unsafe.Pointer, bytes int64, s handle) error
	// copyOut copies device memory to the host after the work enqueued on
	// s and returns when dst holds it.
	copyOut(ctx handle, dst unsafe.Pointer, src uintptr, bytes int64, s handle) error
	copyDevice(ctx handle, dst, src uintptr, bytes int64, s handle) error
	fill32(ctx handle, dst uintptr, bits uint32, n int64, s handle) error
}

var (
	selMu    sync.Mutex
	selected driver // set by UseHost; nil: the build's own driver
)

// current returns the driver new contexts use: the host driver while
// UseHost is in force, else the build's own (ErrNotCompiled without the
// cuda tag).
func current() (driver, error) {
	selMu.Lock()
	d := selected
	selMu.Unlock()
	if d != nil {
		return d, nil
	}
	return compiledDriver()
}

// UseHost makes the host driver the one that DriverVersion, Devices and
// NewContext use, in every build, until the returned function restores the
// previous choice. The host driver keeps buffers in host memory and runs,
// for each kernel, the Go function registered under its name with
// RegisterHost; it exists so that everything above the kernels (launchers,
// the GPU backend, the GPU check's scripts) is tested without a GPU. It
// measures nothing about a device. Contexts keep the driver they were made
// with.
func UseHost() (restore func()) { return choose(host) }

// choose selects d (nil: the build's own driver) and returns the function
// that restores the previous choice.
func choose(d driver) (restore func()) {
	selMu.Lock()
	prev := selected
	selected = d
	selMu.Unlock()
	return func() {
		selMu.Lock()
		selected = prev
		selMu.Unlock()
	}
}

// DriverName names the driver NewContext uses now: "cuda" (the CUDA
// driver), "host" (UseHost is in force), "host-async" (UseHostAsync) or
// "none" (a build without the cuda tag, where NewContext returns
// ErrNotCompiled).
func DriverName() string {
	d, err := current()
	if err != nil {
		return "none"
	}
	return d.name()
}

// DriverID is DriverName, made unique for each UseHostAsync, whose drivers
// differ in their kernel time and queue: a key for what is opened once per
// driver and device (a loaded kernel library, say).
func DriverID() string {
	d, err := current()
	if err != nil {
		return "none"
	}
	if a, ok := d.(*asyncHost); ok {
		return fmt.Sprintf("%s#%d", a.name(), a.id)
	}
	return d.name()
}

// Use selects a driver by name, as a test binary's -driver flag does:
// "host" (UseHost), "host-async" (UseHostAsync with no kernel time), "cuda" (the CUDA driver: ErrNotCompiled without the
// cuda tag), "auto" (cuda when compiled in, else host) or "build" (the
// build's own driver, whatever it is: the state before any selection). The
// returned function restores the previous choice.
func Use(name string) (restore func(), err error) {
	switch {
	case name == "host" || (name == "auto" && !Compiled):
		return UseHost(), nil
	case name == "host-async":
		return UseHostAsync(0), nil
	case name == "build":
		return choose(nil), nil
	case name == "cuda" || name == "auto":
		if _, err := compiledDriver(); err != nil {
			return nil, err
		}
		return choose(nil), nil
	}
	return nil, fmt.Errorf("cuda: unknown driver %q (host, host-async, cuda, auto or build)", name)
}

// jitError adds the JIT compiler's error log (NUL-terminated in log) to the
// error of a failed module load: the driver's code alone (e.g. "a PTX JIT
// compilation failed") does not say which line or why.
func jitError(err error, log []byte) error {
	if i := bytes.IndexByte(log, 0); i >= 0 {
		log = log[:i]
	}
	if msg := strings.TrimSpace(string(log)); msg != "" {
		return fmt.Errorf("%w; JIT error log:\n%s", err, msg)
	}
	return err
}
