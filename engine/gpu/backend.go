//go:build cuda

package gpu

import (
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/sgds/sgds/cuda"
	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/kernels"
)

func init() { engine.Register(Backend{}) }

// Backend builds Nets on the CUDA device; it is registered as "cuda". The
// device is device 0, or the one SGDS_CUDA_DEVICE names.
type Backend struct{}

// Name implements engine.Backend.
func (Backend) Name() string { return "cuda" }

// New implements engine.Backend.
func (Backend) New(m engine.ModelSpec, init []engine.Param, cfg engine.Config) (engine.Net, error) {
	return NewNet(m, init, cfg)
}

// device is the process's CUDA context with the kernels loaded, shared by
// every Net and kept for the life of the process.
type device struct {
	ctx *cuda.Context
	lib *kernels.Lib
}

var (
	devOnce sync.Once
	dev     *device
	devErr  error
)

// getDevice opens the device on first use.
func getDevice() (*device, error) {
	devOnce.Do(func() {
		ordinal := 0
		if s := os.Getenv("SGDS_CUDA_DEVICE"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				devErr = fmt.Errorf("gpu: SGDS_CUDA_DEVICE=%q is not a device number", s)
				return
			}
			ordinal = n
		}
		ctx, err := cuda.NewContext(ordinal)
		if err != nil {
			devErr = fmt.Errorf("gpu: %w", err)
			return
		}
		lib, err := kernels.Load(ctx)
		if err != nil {
			ctx.Close()
			devErr = fmt.Errorf("gpu: %w", err)
			return
		}
		dev = &device{ctx: ctx, lib: lib}
	})
	return dev, devErr
}

// Device describes the device the backend runs on (opening it if needed).
func Device() (cuda.DeviceInfo, error) {
	d, err := getDevice()
	if err != nil {
		return cuda.DeviceInfo{}, err
	}
	return d.ctx.Info(), nil
}
