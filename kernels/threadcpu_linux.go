package kernels

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time the calling thread has used
// (getrusage(RUSAGE_THREAD)), and whether it could be read.
func threadCPU() (time.Duration, bool) {
	const rusageThread = 1
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
