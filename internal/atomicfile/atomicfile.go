// Package atomicfile writes files so that a reader (or a crash) sees either
// the old content or the new one, never a mix: data goes to a temporary file
// in the same folder, is synced, and is renamed over the target.
package atomicfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// tempPrefix is the start of the name of Write's temporary file for a
// target named base; os.CreateTemp appends a decimal random number.
func tempPrefix(base string) string { return "." + base + ".tmp-" }

// IsTemp reports whether name is the name of a temporary file that Write
// creates for a target named base: "." + base + ".tmp-" + decimal digits.
func IsTemp(name, base string) bool {
	rest, ok := strings.CutPrefix(name, tempPrefix(base))
	return ok && len(rest) > 0 && len(rest) <= 20 && strings.Trim(rest, "0123456789") == ""
}

// Write replaces path with data atomically.
func Write(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, tempPrefix(filepath.Base(path))+"*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", path, err)
	}
	if err = os.Chmod(tmp, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("renaming into %s: %w", path, err)
	}
	// Sync the folder so the rename itself survives a crash.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// WriteJSON writes v as indented JSON atomically.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	return Write(path, append(b, '\n'))
}

// WriteJSONLines writes one JSON object per element atomically.
func WriteJSONLines[T any](path string, rows []T) error {
	var out []byte
	for _, r := range rows {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encoding %s: %w", path, err)
		}
		out = append(append(out, b...), '\n')
	}
	return Write(path, out)
}

// PrepareDir creates dir (and parents) and checks that it is a writable
// folder, so that a run fails before training rather than after.
func PrepareDir(dir string) error {
	st, err := os.Stat(dir)
	if err == nil && !st.IsDir() {
		return fmt.Errorf("output folder %s exists and is not a directory", dir)
	}
	if lst, lerr := os.Lstat(dir); err != nil && lerr == nil && lst.Mode()&os.ModeSymlink != 0 {
		target, _ := os.Readlink(dir)
		return fmt.Errorf("output folder %s is a symbolic link to %s, which does not exist: create %s, or remove the link", dir, target, target)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output folder %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("output folder %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// RemoveStale removes from dir the temporary files that Write left behind
// for the targets named in bases (base names such as "checkpoint.bin",
// "metrics.jsonl") when its process was killed between creating and
// renaming them. Only regular files whose names match Write's pattern
// exactly (IsTemp) are removed; anything else, including other files,
// folders and symbolic links with such names, is left alone. It returns
// the paths removed.
//
// A temporary file of a Write still in progress would be removed too, so
// call it only while no other process writes into dir (at the start of a
// run, holding the folder's lock). A missing dir is not an error.
func RemoveStale(dir string, bases ...string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("removing stale temporary files in %s: %w", dir, err)
	}
	var removed []string
	var errs []error
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		for _, base := range bases {
			if base == "" || strings.ContainsRune(base, filepath.Separator) || !IsTemp(e.Name(), base) {
				continue
			}
			p := filepath.Join(dir, e.Name())
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("removing stale temporary file %s: %w", p, err))
			} else if err == nil {
				removed = append(removed, p)
			}
			break
		}
	}
	return removed, errors.Join(errs...)
}
