// Package cuda will be the only package of sgds that touches cgo and the
// CUDA driver API (through gorgonia.org/cu): device discovery, contexts and
// streams, typed device buffers, PTX module loading and kernel launches,
// with CUDA result codes returned as Go errors. Its cuda-tagged files need
// cgo, cuda.h and libcuda; its !cuda twin will return ErrNotCompiled so that
// the default build stays pure Go.
package cuda
