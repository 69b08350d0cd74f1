// Package cuda is the only package of sgds that touches cgo and the CUDA
// driver API (through gorgonia.org/cu): device discovery (name, memory,
// compute capability), a context on one device, streams, events, typed
// device buffers (float32 and int32), page-locked host buffers, PTX module
// loading and kernel launches. Driver errors come back as Go errors;
// nothing panics and nothing relies on finalizers: every Context, Stream,
// Event, Module, Buffer and Pinned buffer has an explicit Close or Free.
//
// One set of types (cuda.go, buffer.go) runs over an unexported driver
// interface (driver.go) with two implementations:
//
//   - cgo.go (build tag cuda): the CUDA driver. It needs cgo, cuda.h and
//     libcuda at build time and an NVIDIA driver at run time;
//     gorgonia.org/cu initialises the driver in its package init and exits
//     the process when no GPU is present, so a binary built with -tags cuda
//     only starts on a machine with an NVIDIA GPU. Without the tag,
//     nocgo.go leaves the build without a driver: DriverVersion, Devices
//     and NewContext return ErrNotCompiled, and the default build is pure
//     Go;
//   - host.go (always built): the host driver, selected explicitly with
//     UseHost (or Use("host")). Buffers live in host memory and a launch
//     runs the Go function registered under the kernel's name
//     (RegisterHost; package kernels/device registers one per kernel), so
//     that the launchers, the GPU backend and the GPU check's scripts are
//     tested without a GPU. It measures nothing about a device.
//
// gorgonia.org/gorgonia and gorgonia.org/tensor have their own cuda-tagged
// files that need cuDNN, so the gorgonia backend (engine/gorgonia) is left
// out of cuda builds.
//
// Kernel parameters: gorgonia.org/cu's Function.Launch copies every kernel
// parameter as 8 bytes, so kernels take only pointers and 64-bit scalars
// (long long, double); Arg values are built with Ptr, Int and Float.
//
// Threads: a CUDA context is current per OS thread. Every call of the CUDA
// driver pins its goroutine to its OS thread and makes its context current
// for the duration of the call, so the types may be used from any goroutine.
package cuda
