// Package datatest writes IDX data sets for tests: real MNIST cut and
// reshaped into a custom data set (--dataset idx), and single IDX files.
package datatest

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sgds/sgds/engine/data"
)

// IDX magic numbers: unsigned-byte labels (1-D), images (3-D) and 4-D
// images; int16 and int32 labels.
const (
	MagicLabels   = 0x00000801
	MagicLabels16 = 0x00000B01
	MagicLabels32 = 0x00000C01
	MagicImages   = 0x00000803
	MagicImages4  = 0x00000804
)

// The four files of a data set, as MNIST names them.
const (
	TrainImages = "train-images-idx3-ubyte.gz"
	TrainLabels = "train-labels-idx1-ubyte.gz"
	TestImages  = "t10k-images-idx3-ubyte.gz"
	TestLabels  = "t10k-labels-idx1-ubyte.gz"
)

// IDX returns the gzipped IDX file of magic, dims and payload (written as
// given: the header need not match the payload).
func IDX(magic uint32, dims []int, payload []byte) []byte {
	var raw bytes.Buffer
	binary.Write(&raw, binary.BigEndian, magic)
	for _, d := range dims {
		binary.Write(&raw, binary.BigEndian, uint32(d))
	}
	raw.Write(payload)
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(raw.Bytes()) // a bytes.Buffer does not fail
	w.Close()
	return b.Bytes()
}

// WriteIDX writes IDX(magic, dims, payload) to path.
func WriteIDX(t testing.TB, path string, magic uint32, dims []int, payload []byte) {
	t.Helper()
	if err := os.WriteFile(path, IDX(magic, dims, payload), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Cut describes a data set cut and reshaped from real MNIST.
type Cut struct {
	// Train and Test are the images kept of each part: the first ones
	// whose digit Label keeps.
	Train, Test int
	// Top, Left, Rows, Cols is the crop window of the 28×28 images (Rows
	// 0: the whole image).
	Top, Left, Rows, Cols int
	// Pool > 1 mean-pools Pool×Pool blocks of the crop (rounded to the
	// nearest byte); the crop's sides must be multiples of Pool.
	Pool int
	// Label maps a digit to its new label, or to −1 to leave the image out.
	Label func(digit int) int
}

// Set is what WriteMNISTCut wrote: the shape, the classes (the largest
// label plus one) and the payloads of the four files.
type Set struct {
	Rows, Cols, Classes     int
	TrainImages, TestImages []byte
	TrainLabels, TestLabels []byte
}

// WriteMNISTCut writes c of real MNIST into dir as the four gzipped IDX
// files of a custom data set, and returns them. It fails the test when real
// MNIST is missing (run ./build.sh) or c does not fit it.
func WriteMNISTCut(t testing.TB, dir string, c Cut) *Set {
	t.Helper()
	src, err := data.Locate("mnist", "")
	if err != nil {
		t.Fatalf("real MNIST is required (run ./build.sh): %v", err)
	}
	spec, _ := data.Lookup("mnist")
	if c.Rows == 0 {
		c.Top, c.Left, c.Rows, c.Cols = 0, 0, spec.Rows, spec.Cols
	}
	c.Pool = max(c.Pool, 1)
	if c.Top < 0 || c.Left < 0 || c.Rows < 1 || c.Cols < 1 || c.Top+c.Rows > spec.Rows || c.Left+c.Cols > spec.Cols || c.Rows%c.Pool != 0 || c.Cols%c.Pool != 0 {
		t.Fatalf("cut %+v does not fit %dx%d images", c, spec.Rows, spec.Cols)
	}
	s := &Set{Rows: c.Rows / c.Pool, Cols: c.Cols / c.Pool}
	part := func(imagesFile, labelsFile string, n int) (img, lab []byte) {
		r, err := readMNIST(src, imagesFile, labelsFile)
		if err != nil {
			t.Fatal(err)
		}
		pix, count, rows, cols, digits := r.pix, len(r.digits), r.rows, r.cols, r.digits
		for i := 0; i < count && len(lab) < n; i++ {
			l := c.Label(int(digits[i]))
			if l < 0 {
				continue
			}
			if l > 255 {
				t.Fatalf("label %d does not fit a byte", l)
			}
			lab = append(lab, byte(l))
			s.Classes = max(s.Classes, l+1)
			im := pix[i*rows*cols:][:rows*cols]
			for r := 0; r < s.Rows; r++ {
				for q := 0; q < s.Cols; q++ {
					sum := 0
					for dr := 0; dr < c.Pool; dr++ {
						for dq := 0; dq < c.Pool; dq++ {
							sum += int(im[(c.Top+r*c.Pool+dr)*cols+c.Left+q*c.Pool+dq])
						}
					}
					k := c.Pool * c.Pool
					img = append(img, byte((sum+k/2)/k))
				}
			}
		}
		if len(lab) < n {
			t.Fatalf("%s: only %d images kept, want %d", imagesFile, len(lab), n)
		}
		return img, lab
	}
	s.TrainImages, s.TrainLabels = part(TrainImages, TrainLabels, c.Train)
	s.TestImages, s.TestLabels = part(TestImages, TestLabels, c.Test)
	for _, f := range []struct {
		name    string
		magic   uint32
		dims    []int
		payload []byte
	}{
		{TrainImages, MagicImages, []int{c.Train, s.Rows, s.Cols}, s.TrainImages},
		{TrainLabels, MagicLabels, []int{c.Train}, s.TrainLabels},
		{TestImages, MagicImages, []int{c.Test, s.Rows, s.Cols}, s.TestImages},
		{TestLabels, MagicLabels, []int{c.Test}, s.TestLabels},
	} {
		WriteIDX(t, filepath.Join(dir, f.name), f.magic, f.dims, f.payload)
	}
	return s
}

// mnistPart is one part of real MNIST as read from its files.
type mnistPart struct {
	pix        []byte
	rows, cols int
	digits     []int32
}

var (
	mnistMu    sync.Mutex
	mnistParts = map[string]*mnistPart{}
)

// readMNIST reads a part of real MNIST once per process (the test binary
// cuts many data sets from it).
func readMNIST(dir, imagesFile, labelsFile string) (*mnistPart, error) {
	mnistMu.Lock()
	defer mnistMu.Unlock()
	key := filepath.Join(dir, imagesFile)
	if p, ok := mnistParts[key]; ok {
		return p, nil
	}
	pix, _, rows, cols, err := data.ReadImages(key)
	if err != nil {
		return nil, err
	}
	digits, err := data.ReadLabels(filepath.Join(dir, labelsFile), 10)
	if err != nil {
		return nil, err
	}
	if len(digits)*rows*cols != len(pix) {
		return nil, fmt.Errorf("%s: %d labels for %d bytes of %dx%d images", dir, len(digits), len(pix), rows, cols)
	}
	p := &mnistPart{pix: pix, rows: rows, cols: cols, digits: digits}
	mnistParts[key] = p
	return p, nil
}

// Digits keeps the digits below n with their own label (n classes).
func Digits(n int) func(int) int {
	return func(d int) int {
		if d < n {
			return d
		}
		return -1
	}
}

// Mod folds every digit to digit mod n (n classes).
func Mod(n int) func(int) int { return func(d int) int { return d % n } }

// Stats returns the mean and the population standard deviation of the
// pixels x/255 of pix, in float64 by the two-pass formula (a reference
// independent of the loader's histogram).
func Stats(pix []byte) (mean, std float64) {
	if len(pix) == 0 {
		panic(fmt.Sprintf("datatest.Stats of %d pixels", len(pix)))
	}
	for _, b := range pix {
		mean += float64(b) / 255
	}
	mean /= float64(len(pix))
	var ss float64
	for _, b := range pix {
		d := float64(b)/255 - mean
		ss += d * d
	}
	return mean, math.Sqrt(ss / float64(len(pix)))
}
