// Package data reads the gzipped IDX files of MNIST and Fashion-MNIST,
// validates them, and normalises the images for training.
//
// Every size is checked before it allocates: a file is opened only if it is
// a regular file of at most MaxFileBytes (internal/safefile), and an IDX
// header is checked against what the data set may be (image shape, number
// of samples, the label file's count) and against the memory budget
// (internal/limits) before its payload is read; only the images a run uses
// are kept and normalised (Options).
package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/sgds/sgds/internal/limits"
	"github.com/sgds/sgds/internal/safefile"
)

// ErrCorruptData is wrapped by every error that reports a malformed data
// file: bad gzip stream, wrong magic number, wrong dimensions, truncated or
// over-long payload, labels out of range, or mismatched counts.
var ErrCorruptData = errors.New("corrupt data")

// IDX magic numbers: two zero bytes, the element type (0x08 = unsigned byte)
// and the number of dimensions.
const (
	magicLabels = 0x00000801
	magicImages = 0x00000803
)

// maxIDXCount bounds every dimension we accept, so that a corrupted header
// cannot make us allocate absurd amounts of memory.
const maxIDXCount = 10_000_000

// MaxFileBytes bounds the size of a (gzipped) IDX file that is read: the
// largest of the supported data sets, 60,000 images of 28×28 stored without
// any compression, is 47 MB.
const MaxFileBytes = 128 << 20

func corrupt(path, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", path, ErrCorruptData, fmt.Sprintf(format, args...))
}

// idxStream is an IDX file whose header has been read and checked; its
// payload has not been read yet.
type idxStream struct {
	path  string
	r     io.Reader // the decompressed stream after the header
	zr    *gzip.Reader
	dims  []int
	total int // product of dims: the payload length
	close func() error
}

// openIDX opens a gzipped IDX file of unsigned bytes with the given magic
// number and reads its header.
func openIDX(path string, magic uint32) (*idxStream, error) {
	f, err := safefile.Open(path, MaxFileBytes)
	if err != nil {
		return nil, err
	}
	s, err := newIDXStream(path, f, magic)
	if err != nil {
		f.Close()
		return nil, err
	}
	s.close = f.Close
	return s, nil
}

// newIDXStream reads and checks the header of the gzipped IDX stream r;
// path only names it in errors.
func newIDXStream(path string, r io.Reader, magic uint32) (*idxStream, error) {
	zr, err := gzip.NewReader(bufio.NewReader(r))
	if err != nil {
		if err == io.EOF {
			return nil, corrupt(path, "empty file")
		}
		return nil, corrupt(path, "not a gzip stream: %v", gzipErr(err))
	}
	var header [4]byte
	if _, err := io.ReadFull(zr, header[:]); err != nil {
		return nil, corrupt(path, "header truncated (%v)", gzipErr(err))
	}
	got := binary.BigEndian.Uint32(header[:])
	if got != magic {
		return nil, corrupt(path, "magic number 0x%08x, want 0x%08x", got, magic)
	}
	ndim := int(magic & 0xff)
	raw := make([]byte, 4*ndim)
	if _, err := io.ReadFull(zr, raw); err != nil {
		return nil, corrupt(path, "dimensions truncated (%v)", gzipErr(err))
	}
	s := &idxStream{path: path, r: bufio.NewReaderSize(zr, 64<<10), zr: zr, dims: make([]int, ndim), total: 1}
	for i := range s.dims {
		d := binary.BigEndian.Uint32(raw[4*i:])
		if d == 0 || d > maxIDXCount {
			return nil, corrupt(path, "dimension %d is %d, want 1..%d", i, d, maxIDXCount)
		}
		s.dims[i] = int(d)
		s.total *= int(d)
		if s.total > 64*maxIDXCount {
			return nil, corrupt(path, "payload of %v bytes is implausibly large", s.dims)
		}
	}
	return s, nil
}

// stream reads the payload in records of rec bytes (rec divides the
// payload length) into one reused buffer, hands each to fn, then checks
// that the stream ends there (which also verifies the gzip checksum).
func (s *idxStream) stream(rec int, fn func(i int, b []byte) error) error {
	buf := make([]byte, rec)
	for i := 0; i < s.total/rec; i++ {
		if n, err := io.ReadFull(s.r, buf); err != nil {
			return corrupt(s.path, "truncated: %d of %d payload bytes (%v)", i*rec+n, s.total, gzipErr(err))
		}
		if err := fn(i, buf); err != nil {
			return err
		}
	}
	var extra [1]byte
	if k, err := s.r.Read(extra[:]); k > 0 {
		return corrupt(s.path, "more payload than the %v dimensions announce", s.dims)
	} else if err != nil && err != io.EOF {
		return corrupt(s.path, "after payload: %v", gzipErr(err))
	}
	return nil
}

// readAll reads the whole payload, after checking it against the memory
// budget.
func (s *idxStream) readAll() ([]byte, error) {
	if err := limits.CheckTotal(s.path, int64(s.total)); err != nil {
		return nil, err
	}
	payload := make([]byte, s.total)
	rec := s.total
	if len(s.dims) > 1 {
		rec = s.total / s.dims[0]
	}
	err := s.stream(rec, func(i int, b []byte) error {
		copy(payload[i*rec:], b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return payload, nil
}

func (s *idxStream) Close() error {
	s.zr.Close()
	if s.close != nil {
		return s.close()
	}
	return nil
}

// decodeIDX reads a whole gzipped IDX stream (for the fuzzer and the
// whole-file readers); path only names it in errors.
func decodeIDX(path string, r io.Reader, magic uint32) (dims []int, payload []byte, err error) {
	s, err := newIDXStream(path, r, magic)
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	payload, err = s.readAll()
	if err != nil {
		return nil, nil, err
	}
	return s.dims, payload, nil
}

func gzipErr(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.New("unexpected end of file")
	}
	return err
}

// ReadImages reads a whole gzipped IDX3 image file (magic 0x803) of
// N×rows×cols unsigned bytes, after checking its size against the memory
// budget.
func ReadImages(path string) (pixels []byte, n, rows, cols int, err error) {
	s, err := openIDX(path, magicImages)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	defer s.Close()
	payload, err := s.readAll()
	if err != nil {
		return nil, 0, 0, 0, err
	}
	return payload, s.dims[0], s.dims[1], s.dims[2], nil
}

// ReadLabels reads a gzipped IDX1 label file (magic 0x801) and checks that
// every label lies in [0, classes).
func ReadLabels(path string, classes int) ([]int32, error) {
	s, err := openIDX(path, magicLabels)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.labels(classes, maxIDXCount, "")
}

// labels reads the payload of a label file of at most max labels (what,
// when not empty, names the set in the error).
func (s *idxStream) labels(classes, max int, what string) ([]int32, error) {
	if s.dims[0] > max {
		return nil, corrupt(s.path, "header announces %d labels, %s has at most %d", s.dims[0], what, max)
	}
	if err := limits.Check(s.path, int64(s.dims[0]), 5); err != nil {
		return nil, err
	}
	labels := make([]int32, s.dims[0])
	err := s.stream(s.total, func(_ int, b []byte) error {
		for i, v := range b {
			if int(v) >= classes {
				return corrupt(s.path, "label %d at index %d is outside [0, %d)", v, i, classes)
			}
			labels[i] = int32(v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return labels, nil
}
