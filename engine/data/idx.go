// Package data reads the gzipped IDX files of MNIST and Fashion-MNIST,
// validates them, and normalises the images for training.
package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
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

// maxIDXCount bounds the item count we accept, so that a corrupted header
// cannot make us allocate absurd amounts of memory.
const maxIDXCount = 10_000_000

func corrupt(path, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", path, ErrCorruptData, fmt.Sprintf(format, args...))
}

// readIDX reads one gzipped IDX file of unsigned bytes with the given magic
// number and returns its dimensions and payload. The payload length must be
// exactly the product of the dimensions.
func readIDX(path string, magic uint32) (dims []int, payload []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return decodeIDX(path, f, magic)
}

// decodeIDX is readIDX on an open stream; path only names it in errors.
func decodeIDX(path string, r io.Reader, magic uint32) (dims []int, payload []byte, err error) {
	zr, err := gzip.NewReader(bufio.NewReader(r))
	if err != nil {
		if err == io.EOF {
			return nil, nil, corrupt(path, "empty file")
		}
		return nil, nil, corrupt(path, "not a gzip stream: %v", err)
	}
	defer zr.Close()

	var header [4]byte
	if _, err := io.ReadFull(zr, header[:]); err != nil {
		return nil, nil, corrupt(path, "header truncated (%v)", gzipErr(err))
	}
	got := binary.BigEndian.Uint32(header[:])
	if got != magic {
		return nil, nil, corrupt(path, "magic number 0x%08x, want 0x%08x", got, magic)
	}
	ndim := int(magic & 0xff)
	raw := make([]byte, 4*ndim)
	if _, err := io.ReadFull(zr, raw); err != nil {
		return nil, nil, corrupt(path, "dimensions truncated (%v)", gzipErr(err))
	}
	total := 1
	dims = make([]int, ndim)
	for i := range dims {
		d := binary.BigEndian.Uint32(raw[4*i:])
		if d == 0 || d > maxIDXCount {
			return nil, nil, corrupt(path, "dimension %d is %d, want 1..%d", i, d, maxIDXCount)
		}
		dims[i] = int(d)
		total *= int(d)
		if total > 64*maxIDXCount {
			return nil, nil, corrupt(path, "payload of %v bytes is implausibly large", dims)
		}
	}
	payload = make([]byte, total)
	n, err := io.ReadFull(zr, payload)
	if err != nil {
		return nil, nil, corrupt(path, "truncated: %d of %d payload bytes (%v)", n, total, gzipErr(err))
	}
	var extra [1]byte
	if k, err := zr.Read(extra[:]); k > 0 {
		return nil, nil, corrupt(path, "more payload than the %v dimensions announce", dims)
	} else if err != nil && err != io.EOF {
		return nil, nil, corrupt(path, "after payload: %v", gzipErr(err))
	}
	return dims, payload, nil
}

func gzipErr(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.New("unexpected end of file")
	}
	return err
}

// ReadImages reads a gzipped IDX3 image file (magic 0x803) of N×rows×cols
// unsigned bytes.
func ReadImages(path string) (pixels []byte, n, rows, cols int, err error) {
	dims, payload, err := readIDX(path, magicImages)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	return payload, dims[0], dims[1], dims[2], nil
}

// ReadLabels reads a gzipped IDX1 label file (magic 0x801) and checks that
// every label lies in [0, classes).
func ReadLabels(path string, classes int) ([]int32, error) {
	dims, payload, err := readIDX(path, magicLabels)
	if err != nil {
		return nil, err
	}
	labels := make([]int32, dims[0])
	for i, b := range payload {
		if int(b) >= classes {
			return nil, corrupt(path, "label %d at index %d is outside [0, %d)", b, i, classes)
		}
		labels[i] = int32(b)
	}
	return labels, nil
}
