// Package safefile opens the files sgds reads (checkpoints, IDX data files)
// so that no file can hang, exhaust memory or be read in full before it is
// known to be what it claims:
//
//   - only regular files are opened: a FIFO, a directory, a device (also
//     behind a symbolic link, such as a link to /dev/zero) or a socket is an
//     error naming the file and what it is;
//   - the open never blocks: the path is checked with Stat first, then
//     opened with O_NONBLOCK (so a FIFO swapped in between cannot hang it)
//     and checked again on the open descriptor;
//   - every byte is read through a limit stated by the caller: a file longer
//     than the limit is an error (ErrTooLarge) after at most limit+1 bytes,
//     whatever Stat says (a file may grow while it is read);
//   - callers check their magic number first, so that a file of the wrong
//     kind is rejected after a few bytes (see ReadHead).
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular is wrapped by the error for a path that is not a regular
// file (or a symbolic link to one).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by the error for a file longer than the limit its
// reader was opened with.
var ErrTooLarge = errors.New("file too large")

// File is an open regular file read through a limit.
type File struct {
	f     *os.File
	path  string
	size  int64 // size when opened
	limit int64
	n     int64 // bytes read so far
}

// Open opens path for reading if it is a regular file of at most limit
// bytes (limit ≥ 0). Reads past limit bytes fail with ErrTooLarge.
func Open(path string, limit int64) (*File, error) {
	f, err := open(path, limit)
	if err != nil {
		return nil, err
	}
	if f.size > limit {
		f.Close()
		return nil, tooLarge(path, f.size, limit)
	}
	return f, nil
}

// open is Open without the size check.
func open(path string, limit int64) (*File, error) {
	if limit < 0 {
		panic("safefile: negative limit")
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := regular(path, st); err != nil {
		return nil, err
	}
	f, err := openNonblock(path)
	if err != nil {
		return nil, err
	}
	fst, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := regular(path, fst); err != nil {
		f.Close()
		return nil, err
	}
	if !os.SameFile(st, fst) {
		f.Close()
		return nil, fmt.Errorf("%s: changed while it was opened", path)
	}
	return &File{f: f, path: path, size: fst.Size(), limit: limit}, nil
}

func tooLarge(path string, size, limit int64) error {
	if size < 0 {
		return fmt.Errorf("%s: %w: more than the limit of %d bytes", path, ErrTooLarge, limit)
	}
	return fmt.Errorf("%s: %w: %d bytes, more than the limit of %d bytes", path, ErrTooLarge, size, limit)
}

// regular returns nil if st (of path, after following links) is a regular
// file, otherwise an error naming what path is.
func regular(path string, st fs.FileInfo) error {
	if st.Mode().IsRegular() {
		return nil
	}
	via := ""
	if lst, err := os.Lstat(path); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
		if target, err := os.Readlink(path); err == nil {
			via = fmt.Sprintf(" (a symbolic link to %s)", target)
		}
	}
	return fmt.Errorf("%s%s: %w: it is %s", path, via, ErrNotRegular, Kind(st.Mode()))
}

// Kind names the type of file of mode m, with its article: "a directory",
// "a named pipe (FIFO)", "a character device", ...
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "not a regular file"
}

// Size is the file's size when it was opened.
func (f *File) Size() int64 { return f.size }

// Name is the path the file was opened with.
func (f *File) Name() string { return f.path }

// Read reads from the file; once limit bytes have been read, a read that
// finds more data fails with ErrTooLarge.
func (f *File) Read(p []byte) (int, error) {
	if f.n >= f.limit {
		var one [1]byte
		k, err := f.f.Read(one[:])
		if k > 0 {
			return 0, tooLarge(f.path, -1, f.limit)
		}
		return 0, err
	}
	if rest := f.limit - f.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	k, err := f.f.Read(p)
	f.n += int64(k)
	return k, err
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// ReadAll reads the whole of path, a regular file of at most limit bytes.
func ReadAll(path string, limit int64) ([]byte, error) {
	f, err := Open(path, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readRest(f, nil)
}

// ReadHead opens path as Open does, reads its first len(head) bytes into
// head and lets check judge them (a magic number, a version) before
// anything else is read or the size is checked, so that a file of the
// wrong kind is reported as such; only then is the rest read. A file
// shorter than head is handed to check as it is (head[:n]); check decides.
func ReadHead(path string, limit int64, head []byte, check func(head []byte) error) ([]byte, error) {
	f, err := open(path, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := check(head[:n]); err != nil {
		return nil, err
	}
	if f.size > limit {
		return nil, tooLarge(path, f.size, limit)
	}
	return readRest(f, head[:n])
}

// readRest appends the rest of f to head, preallocating the size f had when
// opened (bounded by its limit).
func readRest(f *File, head []byte) ([]byte, error) {
	buf := make([]byte, len(head), max(f.size, int64(len(head)))+1)
	copy(buf, head)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		k, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return nil, err
			}
			return nil, fmt.Errorf("%s: %w", f.path, err)
		}
	}
}
