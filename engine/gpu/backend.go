package gpu

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/sgds/sgds/cuda"
	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/kernels/device"
)

func init() { engine.Register(Backend{}) }

// Backend builds Nets on device 0 (or the one SGDS_CUDA_DEVICE names) of
// the driver in use; see the package comment.
type Backend struct{}

// Name implements engine.Backend.
func (Backend) Name() string { return "cuda" }

// New implements engine.Backend.
func (Backend) New(m engine.ModelSpec, init []engine.Param, cfg engine.Config) (engine.Net, error) {
	return NewNet(m, init, cfg)
}

// Available implements engine.Availability: nil when the driver sees a
// device; an error wrapping cuda.ErrNotCompiled and engine.ErrNotCompiled
// in a build without the cuda tag (unless the host driver is selected), or
// cuda.ErrNoDevice.
func (Backend) Available() error {
	if err := envDriver(); err != nil {
		return notCompiled(err)
	}
	if _, err := cuda.Devices(); err != nil {
		return notCompiled(fmt.Errorf("gpu: %w", err))
	}
	return nil
}

// notCompiled makes an error that wraps cuda.ErrNotCompiled wrap
// engine.ErrNotCompiled too, with the same message; other errors pass.
func notCompiled(err error) error {
	if errors.Is(err, cuda.ErrNotCompiled) && !errors.Is(err, engine.ErrNotCompiled) {
		return notCompiledError{err}
	}
	return err
}

// notCompiledError is an error of a build without the cuda tag.
type notCompiledError struct{ err error }

func (e notCompiledError) Error() string   { return e.err.Error() }
func (e notCompiledError) Unwrap() []error { return []error{e.err, engine.ErrNotCompiled} }

var (
	envOnce sync.Once
	envErr  error
)

// envDriver selects the driver SGDS_CUDA_DRIVER names (host, cuda or auto),
// once; unset, it leaves the choice alone.
func envDriver() error {
	envOnce.Do(func() {
		if name := os.Getenv("SGDS_CUDA_DRIVER"); name != "" {
			if _, err := cuda.Use(name); err != nil {
				envErr = fmt.Errorf("gpu: SGDS_CUDA_DRIVER: %w", err)
			}
		}
	})
	return envErr
}

// gpuDevice is an opened device with the kernels loaded, shared by every
// Net of the process on it and kept for the life of the process, and the
// data sets resident on it (sets.go).
type gpuDevice struct {
	ctx *cuda.Context
	lib *device.Lib

	mu   sync.Mutex
	sets map[setKey]*devSet
	tick int // counts releases, to free the least recently used idle set first
}

var (
	devMu   sync.Mutex
	devices = map[string]*gpuDevice{} // by driver (cuda.DriverID) and ordinal
)

// openDevice opens the device on first use (per driver).
func openDevice() (*gpuDevice, error) {
	if err := envDriver(); err != nil {
		return nil, err
	}
	ordinal := 0
	if s := os.Getenv("SGDS_CUDA_DEVICE"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("gpu: SGDS_CUDA_DEVICE=%q is not a device number", s)
		}
		ordinal = n
	}
	key := fmt.Sprintf("%s:%d", cuda.DriverID(), ordinal)
	devMu.Lock()
	defer devMu.Unlock()
	if d, ok := devices[key]; ok {
		return d, nil
	}
	ctx, err := cuda.NewContext(ordinal)
	if err != nil {
		return nil, fmt.Errorf("gpu: %w", err)
	}
	lib, err := device.Load(ctx)
	if err != nil {
		if e := ctx.Close(); e != nil {
			err = fmt.Errorf("%w (closing the context: %v)", err, e)
		}
		return nil, fmt.Errorf("gpu: %w", err)
	}
	d := &gpuDevice{ctx: ctx, lib: lib, sets: map[setKey]*devSet{}}
	devices[key] = d
	return d, nil
}

// Device describes the device the backend runs on (opening it if needed).
func Device() (cuda.DeviceInfo, error) {
	d, err := openDevice()
	if err != nil {
		return cuda.DeviceInfo{}, err
	}
	return d.ctx.Info(), nil
}
