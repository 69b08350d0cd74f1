// Package lock gives a process exclusive use of a folder while it writes
// into it, so that two sgds runs started with the same --out cannot both
// write there (one of them would silently lose its results).
//
// The lock is an advisory flock(2) on the file ".sgds.lock" inside the
// folder; the holder writes its process id into it so that a second run
// can name it. The kernel releases the lock when the holder exits, however
// it exits (a SIGKILL included), so a lock file left behind never blocks
// a later run.
package lock

import (
	"errors"
	"fmt"
	"path/filepath"
)

// File is the name of the lock file inside a locked folder.
const File = ".sgds.lock"

// ErrHeld is wrapped by the error of Acquire when another process holds the
// folder's lock.
var ErrHeld = errors.New("in use by another sgds run")

// Lock is a held folder lock.
type Lock struct {
	dir string
	rel func() error
}

// Acquire takes the lock of dir (which must exist) without waiting. When
// another process holds it, the error wraps ErrHeld and names that
// process's id when it could be read.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, File)
	rel, pid, err := acquire(path)
	if errors.Is(err, ErrHeld) {
		holder := "another process"
		if pid > 0 {
			holder = fmt.Sprintf("process %d", pid)
		}
		return nil, fmt.Errorf("output folder %s is %w (%s holds %s); wait for it to finish or choose another --out", dir, ErrHeld, holder, path)
	}
	if err != nil {
		return nil, fmt.Errorf("locking output folder %s: %w", dir, err)
	}
	return &Lock{dir: dir, rel: rel}, nil
}

// Dir is the locked folder.
func (l *Lock) Dir() string { return l.dir }

// Release gives the lock up; the lock file stays (it is never a reason to
// refuse a later run).
func (l *Lock) Release() error {
	if l == nil || l.rel == nil {
		return nil
	}
	rel := l.rel
	l.rel = nil
	return rel()
}
