//go:build unix

package lock

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/sgds/sgds/internal/safefile"
)

// acquire opens path without following a link and without blocking
// (O_NOFOLLOW|O_NONBLOCK, so that a FIFO or a link planted under its name
// cannot hang or redirect it), requires a regular file, and takes an
// exclusive flock without waiting. On success it records the process id.
func acquire(path string) (release func() error, holder int, err error) {
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CREAT|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC|syscall.O_NOCTTY, 0o644)
	for err == syscall.EINTR {
		fd, err = syscall.Open(path, syscall.O_RDWR|syscall.O_CREAT|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC|syscall.O_NOCTTY, 0o644)
	}
	if err != nil {
		if err == syscall.ELOOP {
			return nil, 0, fmt.Errorf("%s is a symbolic link, not a lock file", path)
		}
		return nil, 0, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s: %w: it is %s", path, safefile.ErrNotRegular, safefile.Kind(st.Mode()))
	}
	if err := syscall.SetNonblock(fd, false); err != nil {
		f.Close()
		return nil, 0, err
	}
	for {
		err = syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			break
		}
	}
	if err == syscall.EWOULDBLOCK {
		pid := readPID(f)
		f.Close()
		return nil, pid, ErrHeld
	}
	if err != nil {
		f.Close()
		return nil, 0, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() error {
		syscall.Flock(fd, syscall.LOCK_UN)
		return f.Close()
	}, 0, nil
}

// readPID reads the holder's process id (0 when unreadable).
func readPID(f *os.File) int {
	b, err := io.ReadAll(io.LimitReader(f, 32))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
