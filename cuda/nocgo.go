//go:build !cuda

package cuda

// Compiled reports whether this build contains the CUDA driver (the cuda
// build tag).
const Compiled = false

// compiledDriver is the build's own driver: none without the cuda tag.
func compiledDriver() (driver, error) { return nil, ErrNotCompiled }
