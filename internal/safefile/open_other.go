//go:build !unix

package safefile

import "os"

// openNonblock opens path read-only; without O_NONBLOCK the Stat before it
// is the only guard against special files.
func openNonblock(path string) (*os.File, error) { return os.Open(path) }
