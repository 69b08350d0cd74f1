// Package cuda is the only package of sgds that touches cgo and the CUDA
// driver API (through gorgonia.org/cu): device discovery (name, memory,
// compute capability), a context on one device, streams, events, typed
// device buffers (float32 and int32), PTX module loading and kernel
// launches. CUDA result codes come back as Go errors; nothing panics and
// nothing relies on finalizers: every Context, Stream, Event, Module and
// Buffer has an explicit Close or Free.
//
// The build tag is cuda. gorgonia.org/gorgonia and gorgonia.org/tensor have their own cuda-tagged
// files that need cuDNN, so the gorgonia backend (engine/cpu) is left out of
// cuda builds: they carry the native and cuda backends. The files
// tagged cuda need cgo, cuda.h and libcuda at build time and an NVIDIA
// driver at run time. gorgonia.org/cu initialises the driver in its package
// init and exits the process when no GPU is present, so a binary built with
// -tags cuda only starts on a machine with an NVIDIA GPU and driver. The
// opposite-tag twin (!cuda) keeps the default build pure Go: there every
// entry point returns ErrNotCompiled, and Compiled is false.
//
// Kernel parameters: gorgonia.org/cu's Function.Launch copies every kernel
// parameter as 8 bytes, so kernels take only pointers and 64-bit scalars
// (long long, double); Arg values are built with Ptr, Int and Float.
//
// Threads: a CUDA context is current per OS thread. Every method of this
// package pins its goroutine to its OS thread and makes its context current
// for the duration of the call, so the types may be used from any goroutine.
package cuda
