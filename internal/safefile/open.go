package safefile

import (
	"os"
	"syscall"
)

// openNonblock opens path read-only with O_NONBLOCK, so that a FIFO without
// a writer does not block the open (a plain open would wait forever); the
// caller then requires a regular file, whose reads O_NONBLOCK does not
// affect.
func openNonblock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
