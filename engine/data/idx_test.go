package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idxBytes builds an IDX payload: magic, dims, then body.
func idxBytes(magic uint32, dims []uint32, body []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(body)
	return b.Bytes()
}

func gz(t testing.TB, raw []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(raw); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return b.Bytes()
}

// writeSet writes a valid n-image IDX pair into dir with the MNIST names.
func writeSet(t testing.TB, dir, prefix string, n int) {
	t.Helper()
	img := make([]byte, n*28*28)
	lab := make([]byte, n)
	for i := range img {
		img[i] = byte(i * 7)
	}
	for i := range lab {
		lab[i] = byte(i % 10)
	}
	must(t, os.WriteFile(filepath.Join(dir, prefix+"-images-idx3-ubyte.gz"), gz(t, idxBytes(magicImages, []uint32{uint32(n), 28, 28}, img)), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, prefix+"-labels-idx1-ubyte.gz"), gz(t, idxBytes(magicLabels, []uint32{uint32(n)}, lab)), 0o644))
}

// mnistDir returns a fresh folder holding a small MNIST: train training
// and test test images and labels (see writeSet).
func mnistDir(t testing.TB, train, test int) string {
	t.Helper()
	dir := t.TempDir()
	writeSet(t, dir, "train", train)
	writeSet(t, dir, "t10k", test)
	return dir
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestLoadValidSmallSet(t *testing.T) {
	dir := mnistDir(t, 20, 5)
	train, test, err := Load("mnist", dir)
	must(t, err)
	if train.N != 20 || test.N != 5 || len(train.Images) != 20*784 || train.Labels[13] != 3 {
		t.Fatalf("bad shapes: train %d test %d", train.N, test.N)
	}
	want := float32((float64(byte(5*7))/255 - 0.1307) / 0.3081)
	if train.Images[5] != want {
		t.Fatalf("pixel 5 = %v, want %v", train.Images[5], want)
	}
}

// TestCorruptFiles feeds every kind of malformed IDX file through Load and
// expects ErrCorruptData naming the file and the fault.
func TestCorruptFiles(t *testing.T) {
	good := make([]byte, 3*784)
	cases := []struct {
		name, file string
		content    []byte
		want       string
	}{
		{"empty images", "train-images-idx3-ubyte.gz", nil, "empty file"},
		{"empty gzip", "train-images-idx3-ubyte.gz", gz(t, nil), "header truncated"},
		{"not gzip", "train-images-idx3-ubyte.gz", []byte("hello, not gzip at all"), "not a gzip stream"},
		{"wrong magic", "train-images-idx3-ubyte.gz", gz(t, idxBytes(0x00000802, []uint32{3, 28, 28}, good)), "magic number"},
		{"labels magic in images", "train-images-idx3-ubyte.gz", gz(t, idxBytes(magicLabels, []uint32{3}, good[:3])), "magic number"},
		{"truncated payload", "train-images-idx3-ubyte.gz", gz(t, idxBytes(magicImages, []uint32{3, 28, 28}, good[:1000])), "truncated"},
		{"truncated dims", "train-images-idx3-ubyte.gz", gz(t, idxBytes(magicImages, []uint32{3}, nil)), "dimensions truncated"},
		{"trailing bytes", "train-images-idx3-ubyte.gz", gz(t, idxBytes(magicImages, []uint32{3, 28, 28}, append(good, 1))), "more payload"},
		{"zero count", "train-images-idx3-ubyte.gz", gz(t, idxBytes(magicImages, []uint32{0, 28, 28}, nil)), "dimension 0 is 0"},
		{"wrong dimension", "train-images-idx3-ubyte.gz", gz(t, idxBytes(magicImages, []uint32{3, 27, 29}, good[:3*27*29])), "want 28x28"},
		{"count mismatch", "train-labels-idx1-ubyte.gz", gz(t, idxBytes(magicLabels, []uint32{4}, []byte{1, 2, 3, 4})), "4 labels for 3 images"},
		{"label out of range", "train-labels-idx1-ubyte.gz", gz(t, idxBytes(magicLabels, []uint32{3}, []byte{1, 12, 3})), "label 12 at index 1"},
		{"huge dims", "train-images-idx3-ubyte.gz", gz(t, idxBytes(magicImages, []uint32{9_000_000, 1000, 1000}, nil)), "implausibly large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := mnistDir(t, 3, 3)
			must(t, os.WriteFile(filepath.Join(dir, c.file), c.content, 0o644))
			_, _, err := Load("mnist", dir)
			if !errors.Is(err, ErrCorruptData) {
				t.Fatalf("err = %v, want ErrCorruptData", err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.file) {
				t.Fatalf("err = %q, want it to name %q and %q", err, c.file, c.want)
			}
		})
	}
}

func TestTruncatedGzipStream(t *testing.T) {
	dir := mnistDir(t, 50, 3)
	p := filepath.Join(dir, "train-images-idx3-ubyte.gz")
	b, err := os.ReadFile(p)
	must(t, err)
	must(t, os.WriteFile(p, b[:len(b)/2], 0o644))
	_, _, err = Load("mnist", dir)
	if !errors.Is(err, ErrCorruptData) || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("err = %v, want truncated ErrCorruptData", err)
	}
}

func TestMissingFolderAndFiles(t *testing.T) {
	if _, _, err := Load("mnist", filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Fatal("missing folder accepted")
	}
	_, _, err := Load("mnist", t.TempDir())
	if !errors.Is(err, ErrMissingData) || !strings.Contains(err.Error(), "build.sh") {
		t.Fatalf("err = %v, want ErrMissingData with a hint", err)
	}
	if _, err := Lookup("cifar"); err == nil || !strings.Contains(err.Error(), "cifar") {
		t.Fatalf("unknown dataset: err = %v", err)
	}
}

func TestSplit(t *testing.T) {
	dir := mnistDir(t, 10, 2)
	train, _, err := Load("mnist", dir)
	must(t, err)
	a, b, err := train.Split(3)
	must(t, err)
	if a.N != 7 || b.N != 3 || b.Labels[0] != train.Labels[7] || &b.Images[0] != &train.Images[7*784] {
		t.Fatal("split is not the tail of the set")
	}
	if _, _, err := train.Split(10); err == nil {
		t.Fatal("holding out everything must fail")
	}
}

// TestRealMNIST loads the real data set that build.sh fetched through the Go
// module proxy and checks its well-known shape and statistics.
func TestRealMNIST(t *testing.T) {
	train, test, err := Load("mnist", "")
	if err != nil {
		t.Fatalf("real MNIST must be present (run ./build.sh): %v", err)
	}
	if train.N != 60000 || test.N != 10000 {
		t.Fatalf("sizes %d/%d", train.N, test.N)
	}
	var counts [10]int
	for _, l := range train.Labels {
		counts[l]++
	}
	if counts[1] != 6742 || counts[5] != 5421 {
		t.Fatalf("label counts %v differ from MNIST's", counts)
	}
	var s float64
	for _, v := range train.Images {
		s += float64(v)
	}
	if m := s / float64(len(train.Images)); math.Abs(m) > 1e-3 {
		t.Fatalf("normalised mean %v, want ≈0", m)
	}
}

// TestFashionStats checks the normalisation constants of Fashion-MNIST
// against its training images (Debian's dataset-fashion-mnist, installed by
// build.sh and .ci/run).
func TestFashionStats(t *testing.T) {
	dir, err := Locate("fashion-mnist", "")
	if err != nil {
		t.Fatalf("Fashion-MNIST must be installed (apt-get install dataset-fashion-mnist): %v", err)
	}
	spec, _ := Lookup("fashion-mnist")
	pix, n, _, _, err := ReadImages(filepath.Join(dir, spec.TrainImages))
	must(t, err)
	if n != 60000 {
		t.Fatalf("%d training images", n)
	}
	mean, std := PixelStats(pix)
	if math.Abs(mean-spec.Mean) > 1e-6 || math.Abs(std-spec.Std) > 1e-6 {
		t.Fatalf("mean/std %v/%v, constants %v/%v", mean, std, spec.Mean, spec.Std)
	}
}

func FuzzDecodeIDX(f *testing.F) {
	f.Add(gz(f, idxBytes(magicLabels, []uint32{3}, []byte{1, 2, 3})))
	f.Add(gz(f, idxBytes(magicImages, []uint32{1, 2, 2}, []byte{1, 2, 3, 4})))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, m := range []uint32{magicLabels, magicImages} {
			dims, payload, err := decodeIDX("fuzz", bytes.NewReader(b), m)
			if err != nil {
				if !errors.Is(err, ErrCorruptData) {
					t.Fatalf("error %v does not wrap ErrCorruptData", err)
				}
				continue
			}
			total := 1
			for _, d := range dims {
				total *= d
			}
			if total != len(payload) {
				t.Fatalf("dims %v but %d bytes", dims, len(payload))
			}
		}
	})
}
