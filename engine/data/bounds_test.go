package data

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sgds/sgds/internal/limits"
	"github.com/sgds/sgds/internal/safefile"
	"github.com/sgds/sgds/internal/testfs"
)

// bombHeader is a gzipped IDX file with MNIST's header layout (magic,
// big-endian dimensions) whose header announces dims but whose payload is
// only body: a reader that sizes its buffers from the header before
// checking it allocates the product of dims.
func bombHeader(t *testing.T, magic uint32, dims []uint32, body []byte) []byte {
	return gz(t, idxBytes(magic, dims, body))
}

// TestDecompressionBombs: headers that announce more than the data set may
// hold are refused before any payload is read, with a few hundred KiB
// allocated (bound: 2 MiB; reading them would allocate 640 MB and 625 MB).
func TestDecompressionBombs(t *testing.T) {
	cases := []struct {
		name         string
		dims         []uint32 // announced by the images' header, over one blank image
		labelCount   int
		want, wantIn string
	}{
		{"816,326 blank images for 60,000 labels", []uint32{816_326, 28, 28}, 60000,
			"header announces 816326 images, the mnist train set has at most 60000", "train-images"},
		{"1×25000×25000 image", []uint32{1, 25000, 25000}, 1, "images are 25000x25000, want 28x28", "train-images"},
		{"images beyond the label count", []uint32{50_000, 28, 28}, 3, "3 labels for 50000 images", "train-labels"},
		{"816,326 labels", []uint32{3, 28, 28}, 816_326,
			"header announces 816326 labels, the mnist train set has at most 60000", "train-labels"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeSet(t, dir, "t10k", 3)
			must(t, os.WriteFile(filepath.Join(dir, "train-images-idx3-ubyte.gz"), bombHeader(t, magicImages, c.dims, make([]byte, 28*28)), 0o644))
			lab := make([]byte, min(c.labelCount, 60000))
			must(t, os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte.gz"),
				gz(t, idxBytes(magicLabels, []uint32{uint32(c.labelCount)}, lab)), 0o644))
			var err error
			testfs.Within(t, 10*time.Second, func() {
				if n := testfs.Allocated(func() { _, _, err = Load("mnist", dir) }); n > 2<<20 {
					t.Errorf("allocated %d bytes to refuse the file", n)
				}
			})
			if !errors.Is(err, ErrCorruptData) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.wantIn) {
				t.Fatalf("err = %v, want ErrCorruptData naming %s: %q", err, c.wantIn, c.want)
			}
		})
	}
}

// TestMemoryBudget: images that do not fit SGDS_MEMORY_BUDGET are refused
// before they are read, naming the file and the variable.
func TestMemoryBudget(t *testing.T) {
	dir := mnistDir(t, 30, 5)
	t.Setenv(limits.EnvBudget, "64KiB") // 20 images of 784 float32 fit, 30 do not
	_, _, err := Load("mnist", dir)
	if !errors.Is(err, limits.ErrOverBudget) || !strings.Contains(err.Error(), "train-images") || !strings.Contains(err.Error(), limits.EnvBudget) {
		t.Fatalf("err = %v, want ErrOverBudget naming the file and %s", err, limits.EnvBudget)
	}
	if _, _, err := LoadWith("mnist", dir, Options{Subset: 20}); err != nil {
		t.Fatalf("a subset within the budget: %v", err)
	}
	t.Setenv(limits.EnvBudget, "0x10000")
	if _, _, err := Load("mnist", dir); err == nil || !strings.Contains(err.Error(), limits.EnvBudget) {
		t.Fatalf("malformed budget: err = %v", err)
	}
}

// TestOptionsKeepSubsetAndVal: LoadWith keeps the first Subset images and
// the last Val, in that order, so that Split(Val) gives both; the images
// are the same values Load gives.
func TestOptionsKeepSubsetAndVal(t *testing.T) {
	dir := mnistDir(t, 50, 4)
	full, fullTest, err := Load("mnist", dir)
	must(t, err)
	for _, o := range []Options{{}, {Subset: 10}, {Val: 5}, {Subset: 10, Val: 5}, {Subset: 45, Val: 5}, {Subset: 1, Val: 49}} {
		train, test, err := LoadWith("mnist", dir, o)
		must(t, err)
		head := 50 - o.Val
		if o.Subset > 0 {
			head = o.Subset
		}
		want := append(append([]int(nil), seq(0, head)...), seq(50-o.Val, 50)...)
		if train.N != len(want) || len(train.Labels) != len(want) || len(train.Images) != len(want)*784 || test.N != fullTest.N {
			t.Fatalf("%+v: N %d, want %d", o, train.N, len(want))
		}
		for k, i := range want {
			if train.Labels[k] != full.Labels[i] || !slices.Equal(train.Image(k), full.Image(i)) {
				t.Fatalf("%+v: kept image %d is not image %d", o, k, i)
			}
		}
		if o.Val > 0 {
			a, b, err := train.Split(o.Val)
			must(t, err)
			if a.N != head || b.N != o.Val {
				t.Fatalf("%+v: split %d/%d", o, a.N, b.N)
			}
		}
	}
	bad := []struct {
		o    Options
		want string
	}{
		{Options{Subset: 51}, "--subset 51"},
		{Options{Subset: 46, Val: 5}, "--subset 46"},
		{Options{Val: 50}, "--val 50"},
		{Options{Val: -1}, "--val"},
		{Options{Subset: -1}, "--subset"},
	}
	for _, c := range bad {
		if _, _, err := LoadWith("mnist", dir, c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want one naming %q", c.o, err, c.want)
		}
	}
}

func seq(a, b int) []int {
	var s []int
	for i := a; i < b; i++ {
		s = append(s, i)
	}
	return s
}

// TestSubsetValidatesTheWholeFile: images that are not kept are still
// read, so a corrupted gzip checksum is caught with a subset too.
func TestSubsetValidatesTheWholeFile(t *testing.T) {
	dir := mnistDir(t, 20, 2)
	p := filepath.Join(dir, "train-images-idx3-ubyte.gz")
	b, err := os.ReadFile(p)
	must(t, err)
	binary.LittleEndian.PutUint32(b[len(b)-8:], binary.LittleEndian.Uint32(b[len(b)-8:])^1) // the CRC-32
	must(t, os.WriteFile(p, b, 0o644))
	if _, _, err := LoadWith("mnist", dir, Options{Subset: 2}); !errors.Is(err, ErrCorruptData) {
		t.Fatalf("err = %v, want ErrCorruptData", err)
	}
}

// TestSubsetOfRealMNIST: --subset 200 keeps 200 training images; the bytes
// allocated by the whole load (TotalAlloc, an upper bound of the peak) are
// those of the kept images (200 training, 10,000 test) plus at most 8 MiB
// of buffers and the inflater's per-block Huffman tables (3.4 MiB over the
// four files), not the 235 MB of the 60,000 training images as bytes and
// float32.
func TestSubsetOfRealMNIST(t *testing.T) {
	if _, err := Locate("mnist", ""); err != nil {
		t.Fatalf("real MNIST must be present (run ./build.sh): %v", err)
	}
	var train, test *Set
	var err error
	n := testfs.Allocated(func() { train, test, err = LoadWith("mnist", "", Options{Subset: 200}) })
	must(t, err)
	if train.N != 200 || test.N != 10000 || train.Labels[0] != 5 {
		t.Fatalf("sizes %d/%d, first label %d", train.N, test.N, train.Labels[0])
	}
	kept := uint64(train.N+test.N) * (784*4 + 4)
	if n > kept+8<<20 {
		t.Fatalf("allocated %d bytes, bound %d (kept images %d + 8 MiB)", n, kept+8<<20, kept)
	}
	t.Logf("allocated %.1f MiB for %.1f MiB of kept images", float64(n)/(1<<20), float64(kept)/(1<<20))
}

// TestNotRegularDataFiles: a FIFO, a directory or a link to /dev/zero in
// place of a data file is refused at once, naming the file.
func TestNotRegularDataFiles(t *testing.T) {
	for _, c := range testfs.NotRegular() {
		t.Run(c.Name, func(t *testing.T) {
			dir := mnistDir(t, 3, 3)
			p := filepath.Join(dir, "t10k-images-idx3-ubyte.gz")
			os.Remove(p)
			if err := c.Make(p); err != nil {
				t.Skip(err)
			}
			var err error
			testfs.Within(t, 5*time.Second, func() { _, _, err = Load("mnist", dir) })
			if !errors.Is(err, safefile.ErrNotRegular) || !strings.Contains(err.Error(), p) || !c.Named(err) {
				t.Fatalf("err = %v, want ErrNotRegular naming %s as %q", err, p, c.Want)
			}
		})
	}
}

// TestOversizedFile: a data file larger than MaxFileBytes (a sparse file
// here) is refused before it is read.
func TestOversizedFile(t *testing.T) {
	dir := mnistDir(t, 3, 3)
	p := filepath.Join(dir, "train-labels-idx1-ubyte.gz")
	if err := testfs.Sparse(p, MaxFileBytes+1); err != nil {
		t.Skip(err)
	}
	var err error
	testfs.Within(t, 5*time.Second, func() { _, _, err = Load("mnist", dir) })
	if !errors.Is(err, safefile.ErrTooLarge) || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v, want ErrTooLarge naming %s", err, p)
	}
}
