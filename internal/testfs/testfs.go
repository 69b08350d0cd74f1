// Package testfs holds the fixtures of the tests of sgds's file readers
// (checkpoints, data files, lock files): the files that are not regular
// files, which a reader must refuse at once, a sparse file, and bounds on
// the time and memory a call may take to refuse them.
package testfs

import (
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Within runs f and fails the test if it has not returned after d: a read
// that blocks (a FIFO, a device) must be caught, not hang the suite.
func Within(t testing.TB, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("still running after %v", d)
	}
}

// Allocated returns the bytes f allocates (runtime.MemStats.TotalAlloc
// before and after: every allocation counts, even one freed at once, and
// so does any other goroutine's).
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Special is a kind of file that is not a regular file.
type Special struct {
	Name string
	// Make makes one at p, which must not exist; an error means the
	// system cannot (the test skips).
	Make func(p string) error
	// Want are what an error refusing it names.
	Want []string
}

// Named reports whether err names all of s.Want.
func (s Special) Named(err error) bool {
	if err == nil {
		return false
	}
	for _, w := range s.Want {
		if !strings.Contains(err.Error(), w) {
			return false
		}
	}
	return true
}

// NotRegular returns the files a reader of regular files must refuse at
// once, without blocking or reading: a named pipe with no writer, a
// symbolic link to /dev/zero, a directory.
func NotRegular() []Special {
	return []Special{
		{"fifo", FIFO, []string{"named pipe (FIFO)"}},
		{"link to /dev/zero", DevZeroLink, []string{"symbolic link to /dev/zero", "a character device"}},
		{"directory", func(p string) error { return os.Mkdir(p, 0o755) }, []string{"a directory"}},
	}
}

// FIFO makes a named pipe at p.
func FIFO(p string) error { return syscall.Mkfifo(p, 0o644) }

// DevZeroLink makes p a symbolic link to /dev/zero, an endless file.
func DevZeroLink(p string) error { return os.Symlink("/dev/zero", p) }

// Sparse makes p (created if need be, its bytes kept) a file of size bytes
// whose tail is a hole; an error means the file system cannot.
func Sparse(p string, size int64) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
