// Package data reads the gzipped IDX files of MNIST, Fashion-MNIST or any
// single-channel image classification set, validates them, and normalises
// the images for training.
//
// # Data sets
//
// "mnist" and "fashion-mnist" are 28×28 with 10 classes and keep their
// published normalisation (Spec.Mean, Spec.Std). "idx" (Custom) is any
// other data set, named by its folder: sgds train --dataset idx --data DIR,
// where DIR holds the four files MNIST ships, gzipped:
//
//	train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
//	t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz
//
// Images are unsigned bytes, one channel: (N, rows, cols) in an IDX3 file
// (magic 0x00000803), or (N, 1, rows, cols) or (N, rows, cols, 1) in an
// IDX4 file (0x00000804); rows and cols are read from the header, in
// [MinSide, MaxSide], the same for both parts. Labels are an IDX1 file of
// unsigned bytes (0x00000801), or of big-endian int16 (0x00000B01) or int32
// (0x00000C01) for more than 256 classes. The classes are 0 … k−1 where
// k−1 is the largest training label, MinClasses ≤ k ≤ MaxClasses; the test
// labels must lie among them. The normalisation x' = (x/255 − Mean)/Std
// is computed from the training images a run trains on (after Options:
// --subset and --val) and recorded in Set.Norm. A set that sgds cannot
// train (more channels, other element types' images, too many classes,
// images too small or too large) is an error wrapping ErrUnsupported that
// says so; one that is malformed wraps ErrCorruptData.
//
// # Bounds
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
	"slices"
	"strings"

	"github.com/sgds/sgds/internal/limits"
	"github.com/sgds/sgds/internal/safefile"
)

// ErrCorruptData is wrapped by every error that reports a malformed data
// file: bad gzip stream, wrong magic number, wrong dimensions, truncated or
// over-long payload, labels out of range, or mismatched counts.
var ErrCorruptData = errors.New("corrupt data")

// ErrUnsupported is wrapped by every error that reports a well-formed data
// set sgds cannot train on: images with more than one channel or of
// another element type than unsigned bytes, more than MaxClasses classes
// or fewer than MinClasses, images smaller than MinSide or larger than
// MaxSide a side.
var ErrUnsupported = errors.New("unsupported data set")

// IDX magic numbers: two zero bytes, the element type (0x08 = unsigned
// byte, 0x0B = int16, 0x0C = int32, all big-endian) and the number of
// dimensions.
const (
	magicLabels   = 0x00000801
	magicLabels16 = 0x00000B01
	magicLabels32 = 0x00000C01
	magicImages   = 0x00000803
	magicImages4  = 0x00000804
)

// idxTypes names the element types of the IDX format and their sizes.
var idxTypes = map[byte]struct {
	name string
	size int
}{
	0x08: {"unsigned bytes", 1}, 0x09: {"signed bytes", 1}, 0x0B: {"int16", 2},
	0x0C: {"int32", 4}, 0x0D: {"float32", 4}, 0x0E: {"float64", 8},
}

// describeMagic says what an IDX magic number announces, e.g.
// "0x00000803 (3-D unsigned bytes)".
func describeMagic(m uint32) string {
	t, ok := idxTypes[byte(m>>8)]
	if m>>16 != 0 || !ok {
		return fmt.Sprintf("0x%08x (not an IDX magic number)", m)
	}
	return fmt.Sprintf("0x%08x (%d-D %s)", m, m&0xff, t.name)
}

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

func unsupported(path, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", path, ErrUnsupported, fmt.Sprintf(format, args...))
}

// idxStream is an IDX file whose header has been read and checked; its
// payload has not been read yet.
type idxStream struct {
	path  string
	r     io.Reader // the decompressed stream after the header
	zr    *gzip.Reader
	magic uint32
	dims  []int
	elem  int // bytes per element
	total int // product of dims times elem: the payload length
	// images makes an over-long payload that holds a whole number of
	// images per image an ErrUnsupported naming the channels.
	images bool
	close  func() error
}

// openIDX opens a gzipped IDX file with one of the given magic numbers
// and reads its header.
func openIDX(path string, magic ...uint32) (*idxStream, error) {
	f, err := safefile.Open(path, MaxFileBytes)
	if err != nil {
		return nil, err
	}
	s, err := newIDXStream(path, f, magic...)
	if err != nil {
		f.Close()
		return nil, err
	}
	s.close = f.Close
	return s, nil
}

// newIDXStream reads and checks the header of the gzipped IDX stream r,
// whose magic number must be one of magic; path only names it in errors.
func newIDXStream(path string, r io.Reader, magic ...uint32) (*idxStream, error) {
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
	if !slices.Contains(magic, got) {
		want := make([]string, len(magic))
		for i, m := range magic {
			want[i] = describeMagic(m)
		}
		return nil, corrupt(path, "magic number %s, want %s", describeMagic(got), strings.Join(want, " or "))
	}
	ndim := int(got & 0xff)
	raw := make([]byte, 4*ndim)
	if _, err := io.ReadFull(zr, raw); err != nil {
		return nil, corrupt(path, "dimensions truncated (%v)", gzipErr(err))
	}
	elem := idxTypes[byte(got>>8)].size
	s := &idxStream{path: path, r: bufio.NewReaderSize(zr, 64<<10), zr: zr, magic: got, dims: make([]int, ndim), elem: elem, total: elem}
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
		return s.overlong()
	} else if err != nil && err != io.EOF {
		return corrupt(s.path, "after payload: %v", gzipErr(err))
	}
	return nil
}

// overlong reports a payload longer than the dimensions announce, after
// its first extra byte. For images it counts the rest (up to 3 times the
// announced payload): c times the payload in all is a set of c-channel
// images (2 ≤ c ≤ 4: gray+alpha, RGB, RGBA), which sgds does not train on.
func (s *idxStream) overlong() error {
	msg := fmt.Sprintf("more payload than the %v dimensions announce", s.dims)
	if !s.images {
		return corrupt(s.path, "%s", msg)
	}
	limit := 3 * int64(s.total)
	n, err := io.Copy(io.Discard, io.LimitReader(s.r, limit))
	n++ // the byte read already
	if err == nil && n <= limit && n%int64(s.total) == 0 {
		return unsupported(s.path, "the payload holds %d bytes per pixel of the %v dimensions: %d channels? sgds reads single-channel images (convert them to grayscale)",
			1+n/int64(s.total), s.dims, 1+n/int64(s.total))
	}
	return corrupt(s.path, "%s (more than one channel, or a 4th dimension under an IDX3 magic number? sgds reads single-channel images)", msg)
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
func decodeIDX(path string, r io.Reader, magic ...uint32) (dims []int, payload []byte, err error) {
	s, err := newIDXStream(path, r, magic...)
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

// ReadLabels reads a gzipped IDX1 label file of unsigned bytes (magic
// 0x801) and checks that every label lies in [0, classes).
func ReadLabels(path string, classes int) ([]int32, error) {
	s, err := openIDX(path, magicLabels)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.labels(maxIDXCount, "", below(s.path, classes, ""))
}

// below returns a label check that reports a label ≥ classes as corrupt,
// the error ending with note.
func below(path string, classes int, note string) func(v int64, i int) error {
	return func(v int64, i int) error {
		if v >= int64(classes) {
			return corrupt(path, "label %d at index %d is outside [0, %d)%s", v, i, classes, note)
		}
		return nil
	}
}

// labels reads the payload of a label file of at most max labels (what,
// when not empty, names the set in the error) of 1, 2 or 4 bytes each;
// a negative label is corrupt, and check reports any other label it does
// not accept.
func (s *idxStream) labels(max int, what string, check func(v int64, i int) error) ([]int32, error) {
	if s.dims[0] > max {
		return nil, corrupt(s.path, "header announces %d labels, %s has at most %d", s.dims[0], what, max)
	}
	if err := limits.Check(s.path, int64(s.dims[0]), int64(s.elem)+4); err != nil {
		return nil, err
	}
	labels := make([]int32, s.dims[0])
	err := s.stream(s.total, func(_ int, b []byte) error {
		for i := range labels {
			var v int64
			switch s.elem {
			case 1:
				v = int64(b[i])
			case 2:
				v = int64(int16(binary.BigEndian.Uint16(b[2*i:])))
			default:
				v = int64(int32(binary.BigEndian.Uint32(b[4*i:])))
			}
			if v < 0 {
				return corrupt(s.path, "label %d at index %d is negative", v, i)
			}
			if err := check(v, i); err != nil {
				return err
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
