package run

import (
	"fmt"
	"io"
	"path/filepath"
	"sync"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/internal/atomicfile"
	"github.com/sgds/sgds/internal/lock"
)

// Folder is an output folder this process holds: created when missing,
// locked against every other process (a second run into it fails at once,
// naming the holder) and cleared of the temporary files a killed writer
// left. Opening a folder the process already holds shares its lock; the
// lock is released when the last holder closes it (or the process ends).
type Folder struct {
	Dir string
	abs string
}

// StaleNames are the files sgds writes atomically into an output folder;
// their temporary files are removed when a folder is opened.
var StaleNames = []string{engine.CheckpointFile, "metrics.jsonl", "summary.json", "evals.jsonl",
	"compare.json", "compare.md", "correlate.json", "patterns.json", "tune.json", "tune.md"}

var (
	heldMu sync.Mutex
	held   = map[string]*heldLock{}
)

type heldLock struct {
	l    *lock.Lock
	refs int
}

// OpenFolder makes dir a writable folder this process holds (see Folder);
// notes receives a line for every stale file removed.
func OpenFolder(dir string, notes io.Writer) (*Folder, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("output folder %s: %w", dir, err)
	}
	heldMu.Lock()
	defer heldMu.Unlock()
	if h := held[abs]; h != nil {
		h.refs++
		return &Folder{Dir: dir, abs: abs}, nil
	}
	if err := atomicfile.PrepareDir(dir); err != nil {
		return nil, err
	}
	l, err := lock.Acquire(dir)
	if err != nil {
		return nil, err
	}
	held[abs] = &heldLock{l: l, refs: 1}
	removed, err := atomicfile.RemoveStale(dir, StaleNames...)
	for _, p := range removed {
		fmt.Fprintf(notes, "sgds: removed %s, a temporary file left by a run that was killed\n", p)
	}
	if err != nil {
		held[abs].refs--
		delete(held, abs)
		l.Release()
		return nil, err
	}
	return &Folder{Dir: dir, abs: abs}, nil
}

// Close gives up this hold of the folder; the lock is released with the
// last one. Closing twice is a no-op.
func (f *Folder) Close() error {
	if f == nil || f.abs == "" {
		return nil
	}
	heldMu.Lock()
	defer heldMu.Unlock()
	abs := f.abs
	f.abs = ""
	h := held[abs]
	if h == nil {
		return nil
	}
	if h.refs--; h.refs > 0 {
		return nil
	}
	delete(held, abs)
	return h.l.Release()
}

// Path is the path of file name inside the folder.
func (f *Folder) Path(name string) string { return filepath.Join(f.Dir, name) }

// LoadFor loads the data set of c from dataDir (LoadData) and checks the
// batch against the training samples.
func LoadFor(c Config, dataDir string) (*Data, error) {
	d, err := LoadData(c, dataDir)
	if err != nil {
		return nil, err
	}
	if c.Batch > d.Train.N {
		return nil, fmt.Errorf("--batch %d: larger than the %d training samples", c.Batch, d.Train.N)
	}
	return d, nil
}
