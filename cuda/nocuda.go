//go:build !cuda

package cuda

// Compiled reports whether this build contains the CUDA path.
const Compiled = false

// Fake reports whether kernels run on the host stand-in (-tags sgdsfake).
const Fake = false

// DriverVersion returns ErrNotCompiled in a build without the cuda tag.
func DriverVersion() (int, error) { return 0, ErrNotCompiled }

// Devices returns ErrNotCompiled in a build without the cuda tag.
func Devices() ([]DeviceInfo, error) { return nil, ErrNotCompiled }

// Context is a device context; without the cuda tag none can be made.
type Context struct{}

// NewContext returns ErrNotCompiled in a build without the cuda tag.
func NewContext(ordinal int) (*Context, error) { return nil, ErrNotCompiled }

// Info returns the zero DeviceInfo.
func (c *Context) Info() DeviceInfo { return DeviceInfo{} }

// Synchronize returns ErrNotCompiled.
func (c *Context) Synchronize() error { return ErrNotCompiled }

// MemInfo returns ErrNotCompiled.
func (c *Context) MemInfo() (free, total int64, err error) { return 0, 0, ErrNotCompiled }

// Close returns ErrNotCompiled.
func (c *Context) Close() error { return ErrNotCompiled }

// Stream is a CUDA stream; without the cuda tag none can be made.
type Stream struct{}

// NewStream returns ErrNotCompiled.
func (c *Context) NewStream() (*Stream, error) { return nil, ErrNotCompiled }

// Synchronize returns ErrNotCompiled.
func (s *Stream) Synchronize() error { return ErrNotCompiled }

// Close returns ErrNotCompiled.
func (s *Stream) Close() error { return ErrNotCompiled }

// Event is a CUDA event; without the cuda tag none can be made.
type Event struct{}

// NewEvent returns ErrNotCompiled.
func (c *Context) NewEvent() (*Event, error) { return nil, ErrNotCompiled }

// Record returns ErrNotCompiled.
func (e *Event) Record(s *Stream) error { return ErrNotCompiled }

// Synchronize returns ErrNotCompiled.
func (e *Event) Synchronize() error { return ErrNotCompiled }

// Close returns ErrNotCompiled.
func (e *Event) Close() error { return ErrNotCompiled }

// Elapsed returns ErrNotCompiled.
func Elapsed(start, end *Event) (float64, error) { return 0, ErrNotCompiled }

// Module is a loaded PTX module; without the cuda tag none can be loaded.
type Module struct{}

// LoadModule returns ErrNotCompiled.
func (c *Context) LoadModule(name, ptx string) (*Module, error) { return nil, ErrNotCompiled }

// Function returns ErrNotCompiled.
func (m *Module) Function(name string) (*Function, error) { return nil, ErrNotCompiled }

// Close returns ErrNotCompiled.
func (m *Module) Close() error { return ErrNotCompiled }

// Function is a kernel; without the cuda tag none exists.
type Function struct{}

// Name returns "".
func (f *Function) Name() string { return "" }

// Launch returns ErrNotCompiled.
func (f *Function) Launch(grid, block Dim3, sharedBytes int, s *Stream, args ...Arg) error {
	return ErrNotCompiled
}

// Alloc returns ErrNotCompiled.
func Alloc[T Elem](c *Context, n int) (*Buffer[T], error) { return nil, ErrNotCompiled }

// Free returns ErrNotCompiled.
func (b *Buffer[T]) Free() error { return ErrNotCompiled }

// CopyFrom returns ErrNotCompiled.
func (b *Buffer[T]) CopyFrom(s *Stream, src []T) error { return ErrNotCompiled }

// CopyTo returns ErrNotCompiled.
func (b *Buffer[T]) CopyTo(s *Stream, dst []T) error { return ErrNotCompiled }

// CopyFromDevice returns ErrNotCompiled.
func (b *Buffer[T]) CopyFromDevice(s *Stream, src *Buffer[T]) error { return ErrNotCompiled }

// Fill returns ErrNotCompiled.
func (b *Buffer[T]) Fill(s *Stream, v T) error { return ErrNotCompiled }
