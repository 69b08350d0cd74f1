package run

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/sgds/sgds/internal/atomicfile"
	"github.com/sgds/sgds/internal/lock"
	"github.com/sgds/sgds/training"
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
var StaleNames = []string{training.CheckpointFile, "metrics.jsonl", "summary.json", "evals.jsonl",
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

// ResultNames are the result files of every sgds command: a folder that
// holds one of them holds results (Claim).
var ResultNames = StaleNames

// Claim makes the held folder f the output of a new run. A folder that
// holds results — a file of ResultNames, or one matching a glob pattern
// of own (the command's other outputs, such as its plots) — is refused,
// saying how to continue it (resume, a command line; "" when the command
// cannot continue) and that --force starts over; with force they are
// deleted first, each named on notes. Every command that writes a folder
// claims it, so that no command silently replaces earlier results.
func (f *Folder) Claim(force bool, own []string, resume string, notes io.Writer) error {
	var found []string
	for _, pat := range append(append([]string{}, ResultNames...), own...) {
		m, err := filepath.Glob(f.Path(pat))
		if err != nil {
			return fmt.Errorf("--out %s: %w", f.Dir, err)
		}
		for _, p := range m {
			if !contains(found, p) {
				found = append(found, p)
			}
		}
	}
	if len(found) == 0 {
		return nil
	}
	sort.Strings(found)
	if !force {
		how := ""
		if resume != "" {
			how = "continue it with " + resume + ", "
		}
		names := make([]string, len(found))
		for i, p := range found {
			names[i] = filepath.Base(p)
		}
		return fmt.Errorf("--out %s holds the results of an earlier run (%s): %sstart over with --force (which deletes them), or choose another --out",
			f.Dir, strings.Join(names, ", "), how)
	}
	for _, p := range found {
		if err := os.Remove(p); err == nil {
			fmt.Fprintf(notes, "sgds: --force: removed %s\n", p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("--force: %w", err)
		}
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
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
