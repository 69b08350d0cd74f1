package data_test

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/engine/data/datatest"
)

// cut20x24 is a 20×24 crop of real MNIST with the digits folded to 3
// classes: a non-square, non-10-class data set.
var cut20x24 = datatest.Cut{Train: 300, Test: 100, Top: 4, Left: 2, Rows: 20, Cols: 24, Label: datatest.Mod(3)}

func mustLoad(t *testing.T, dir string, o data.Options) (train, test *data.Set) {
	t.Helper()
	train, test, err := data.LoadWith(data.Custom, dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return train, test
}

// labels16 and labels32 encode labels as big-endian int16 and int32.
func labels16(ls []int) []byte {
	b := make([]byte, 2*len(ls))
	for i, l := range ls {
		binary.BigEndian.PutUint16(b[2*i:], uint16(int16(l)))
	}
	return b
}

func labels32(ls []int) []byte {
	b := make([]byte, 4*len(ls))
	for i, l := range ls {
		binary.BigEndian.PutUint32(b[4*i:], uint32(int32(l)))
	}
	return b
}

func ints(b []byte) []int {
	out := make([]int, len(b))
	for i, v := range b {
		out[i] = int(v)
	}
	return out
}

// TestCustomHeaderVariants: the same real images and labels written as
// IDX3, as IDX4 with the channel first or last, and with int16 or int32
// labels load to the same Set: shape and classes from the files.
func TestCustomHeaderVariants(t *testing.T) {
	dir := t.TempDir()
	s := datatest.WriteMNISTCut(t, dir, cut20x24)
	ref, refTest := mustLoad(t, dir, data.Options{})
	if ref.Rows != 20 || ref.Cols != 24 || ref.Classes != 3 || ref.N != 300 || refTest.N != 100 || refTest.Classes != 3 || ref.Name != "idx-train" {
		t.Fatalf("loaded %s %dx%d, %d classes, %d/%d samples", ref.Name, ref.Rows, ref.Cols, ref.Classes, ref.N, refTest.N)
	}
	for i, l := range ref.Labels {
		if int(l) != int(s.TrainLabels[i]) {
			t.Fatalf("label %d is %d, wrote %d", i, l, s.TrainLabels[i])
		}
	}
	variants := []struct {
		name  string
		write func(dir string)
	}{
		{"idx4 (N, 1, rows, cols)", func(dir string) {
			datatest.WriteIDX(t, filepath.Join(dir, datatest.TrainImages), datatest.MagicImages4, []int{300, 1, 20, 24}, s.TrainImages)
			datatest.WriteIDX(t, filepath.Join(dir, datatest.TestImages), datatest.MagicImages4, []int{100, 1, 20, 24}, s.TestImages)
		}},
		{"idx4 (N, rows, cols, 1)", func(dir string) {
			datatest.WriteIDX(t, filepath.Join(dir, datatest.TrainImages), datatest.MagicImages4, []int{300, 20, 24, 1}, s.TrainImages)
		}},
		{"int16 labels", func(dir string) {
			datatest.WriteIDX(t, filepath.Join(dir, datatest.TrainLabels), datatest.MagicLabels16, []int{300}, labels16(ints(s.TrainLabels)))
			datatest.WriteIDX(t, filepath.Join(dir, datatest.TestLabels), datatest.MagicLabels16, []int{100}, labels16(ints(s.TestLabels)))
		}},
		{"int32 labels", func(dir string) {
			datatest.WriteIDX(t, filepath.Join(dir, datatest.TrainLabels), datatest.MagicLabels32, []int{300}, labels32(ints(s.TrainLabels)))
		}},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			dir := t.TempDir()
			datatest.WriteMNISTCut(t, dir, cut20x24)
			v.write(dir)
			train, test := mustLoad(t, dir, data.Options{})
			if !reflect.DeepEqual(train, ref) || !reflect.DeepEqual(test, refTest) {
				t.Fatalf("differs from the IDX3 / byte-label load: %dx%d %d classes", train.Rows, train.Cols, train.Classes)
			}
		})
	}
}

// TestCustomClasses: the classes are the largest training label plus one
// (labels need not all occur), from 2 up to 1,000 with int16 labels;
// more, a single class, negative labels and test labels outside the
// training classes are errors saying so.
func TestCustomClasses(t *testing.T) {
	// 8×8 real images: a 24×24 crop, 3×3 mean-pooled.
	cut := datatest.Cut{Train: 60, Test: 20, Top: 2, Left: 2, Rows: 24, Cols: 24, Pool: 3, Label: datatest.Mod(10)}
	setLabels := func(t *testing.T, dir string, train, test []int) {
		datatest.WriteIDX(t, filepath.Join(dir, datatest.TrainLabels), datatest.MagicLabels16, []int{len(train)}, labels16(train))
		datatest.WriteIDX(t, filepath.Join(dir, datatest.TestLabels), datatest.MagicLabels16, []int{len(test)}, labels16(test))
	}
	fill := func(n int, f func(i int) int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	good := []struct {
		name        string
		train, test []int
		classes     int
	}{
		{"two classes", fill(60, func(i int) int { return i % 2 }), fill(20, func(i int) int { return 1 }), 2},
		{"gaps: labels 0 and 4", fill(60, func(i int) int { return 4 * (i % 2) }), fill(20, func(i int) int { return 0 }), 5},
		{"1,000 classes", fill(60, func(i int) int { return min(i*17, 999) }), fill(20, func(i int) int { return 999 - i }), 1000},
	}
	for _, c := range good {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			datatest.WriteMNISTCut(t, dir, cut)
			setLabels(t, dir, c.train, c.test)
			train, test := mustLoad(t, dir, data.Options{})
			if train.Classes != c.classes || test.Classes != c.classes || train.Rows != 8 || train.Cols != 8 {
				t.Fatalf("%dx%d, %d/%d classes, want 8x8 and %d", train.Rows, train.Cols, train.Classes, test.Classes, c.classes)
			}
			for i, l := range train.Labels {
				if int(l) != c.train[i] {
					t.Fatalf("label %d is %d, want %d", i, l, c.train[i])
				}
			}
		})
	}
	bad := []struct {
		name        string
		train, test []int
		sentinel    error
		want        []string
	}{
		{"1,001 classes", fill(60, func(i int) int { return 1000 * (i % 2) }), fill(20, func(int) int { return 0 }),
			data.ErrUnsupported, []string{"label 1000 at index 1", "at most 1000 classes", datatest.TrainLabels}},
		{"one class", fill(60, func(int) int { return 3 }), fill(20, func(int) int { return 3 }),
			data.ErrUnsupported, []string{"1 distinct class", "at least 2", datatest.TrainLabels}},
		{"negative label", fill(60, func(i int) int { return i%2 - 2*(i/59) }), fill(20, func(int) int { return 0 }),
			data.ErrCorruptData, []string{"label -1 at index 59 is negative"}},
		{"test label outside the training classes", fill(60, func(i int) int { return i % 3 }), fill(20, func(i int) int { return 3 * (i / 19) }),
			data.ErrCorruptData, []string{"label 3 at index 19 is outside [0, 3) (the classes of the training labels)", datatest.TestLabels}},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			datatest.WriteMNISTCut(t, dir, cut)
			setLabels(t, dir, c.train, c.test)
			_, _, err := data.Load(data.Custom, dir)
			if !errors.Is(err, c.sentinel) {
				t.Fatalf("err = %v, want %v", err, c.sentinel)
			}
			t.Log(strings.ReplaceAll(err.Error(), dir, "DIR"))
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to say %q", err, w)
				}
			}
		})
	}
}

// TestCustomUnsupported: more channels (IDX4 with 3 channels either way,
// an IDX3 header over RGB bytes, an IDX3 magic over 4 dimensions), images
// of another element type, too small or too large, test images of another
// shape and constant images are errors that say what sgds reads.
func TestCustomUnsupported(t *testing.T) {
	dir0 := t.TempDir()
	s := datatest.WriteMNISTCut(t, dir0, cut20x24)
	rgb := make([]byte, 0, 3*len(s.TrainImages))
	for _, b := range s.TrainImages {
		rgb = append(rgb, b, b, b)
	}
	// 4-D images under an IDX3 magic: the 4th dimension is read as payload.
	fourDims := append(binary.BigEndian.AppendUint32(nil, 3), rgb...)
	cases := []struct {
		name     string
		file     string
		magic    uint32
		dims     []int
		payload  []byte
		sentinel error
		want     []string
	}{
		{"idx4 with 3 channels first", datatest.TrainImages, datatest.MagicImages4, []int{300, 3, 20, 24}, rgb,
			data.ErrUnsupported, []string{"[300 3 20 24]", "more than one channel", "single-channel", "grayscale"}},
		{"idx4 with 3 channels last", datatest.TrainImages, datatest.MagicImages4, []int{300, 20, 24, 3}, rgb,
			data.ErrUnsupported, []string{"[300 20 24 3]", "more than one channel"}},
		{"idx3 header over RGB bytes", datatest.TrainImages, datatest.MagicImages, []int{300, 20, 24}, rgb,
			data.ErrUnsupported, []string{"3 bytes per pixel", "3 channels", "single-channel"}},
		{"idx3 magic over 4 dimensions", datatest.TrainImages, datatest.MagicImages, []int{300, 20, 24}, fourDims,
			data.ErrCorruptData, []string{"more payload than the [300 20 24] dimensions announce", "4th dimension", "single-channel"}},
		{"float32 images", datatest.TrainImages, 0x00000D03, []int{300, 20, 24}, make([]byte, 4*300*20*24),
			data.ErrCorruptData, []string{"magic number 0x00000d03 (3-D float32)", "want 0x00000803 (3-D unsigned bytes) or 0x00000804 (4-D unsigned bytes)"}},
		{"7x9 images", datatest.TrainImages, datatest.MagicImages, []int{300, 7, 9}, make([]byte, 300*7*9),
			data.ErrUnsupported, []string{"images are 7x9", "8x8 to 4096x4096"}},
		{"8x5000 images", datatest.TrainImages, datatest.MagicImages, []int{300, 8, 5000}, nil, // refused before the payload
			data.ErrUnsupported, []string{"images are 8x5000"}},
		{"test images of another shape", datatest.TestImages, datatest.MagicImages, []int{100, 24, 20}, s.TestImages,
			data.ErrCorruptData, []string{"images are 24x20, the training images 20x24", datatest.TestImages}},
		{"constant images", datatest.TrainImages, datatest.MagicImages, []int{300, 20, 24}, make([]byte, 300*20*24),
			data.ErrUnsupported, []string{"every pixel of the 300 training images kept is 0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			datatest.WriteMNISTCut(t, dir, cut20x24)
			datatest.WriteIDX(t, filepath.Join(dir, c.file), c.magic, c.dims, c.payload)
			_, _, err := data.Load(data.Custom, dir)
			if !errors.Is(err, c.sentinel) {
				t.Fatalf("err = %v, want %v", err, c.sentinel)
			}
			t.Log(strings.ReplaceAll(err.Error(), dir, "DIR"))
			for _, w := range append(c.want, c.file) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to say %q", err, w)
				}
			}
		})
	}
}

// TestCustomMissing: the idx data set needs --data, and every missing file
// is named with the four names it reads.
func TestCustomMissing(t *testing.T) {
	_, _, err := data.Load(data.Custom, "")
	if !errors.Is(err, data.ErrMissingData) || !strings.Contains(err.Error(), "--dataset idx needs --data DIR") {
		t.Fatalf("no folder: err = %v", err)
	}
	for _, f := range []string{datatest.TrainImages, datatest.TrainLabels, datatest.TestImages, datatest.TestLabels} {
		dir := t.TempDir()
		datatest.WriteMNISTCut(t, dir, cut20x24)
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
		_, _, err := data.Load(data.Custom, dir)
		if !errors.Is(err, data.ErrMissingData) || !strings.Contains(err.Error(), filepath.Join(dir, f)) ||
			!strings.Contains(err.Error(), "t10k-labels-idx1-ubyte.gz (single-channel images") {
			t.Errorf("without %s: err = %v", f, err)
		}
	}
	if _, err := data.Lookup("cifar"); err == nil || !strings.Contains(err.Error(), "mnist, fashion-mnist, idx") {
		t.Errorf("unknown data set: err = %v", err)
	}
}

// TestCustomNormalisation: a custom set is normalised by the mean and the
// standard deviation of the training images kept (after --subset, without
// the --val images), equal to a float64 two-pass reference over the real
// images to 1e-12; every pixel of every part is (x/255 − mean)/std
// rounded once to float32, and the normalised training images have mean 0
// and deviation 1.
func TestCustomNormalisation(t *testing.T) {
	dir := t.TempDir()
	s := datatest.WriteMNISTCut(t, dir, cut20x24)
	const p = 20 * 24
	for _, o := range []data.Options{{}, {Subset: 100}, {Val: 50}, {Subset: 100, Val: 50}, {Subset: 1}} {
		train, test := mustLoad(t, dir, o)
		head := 300 - o.Val
		if o.Subset > 0 {
			head = o.Subset
		}
		mean, std := datatest.Stats(s.TrainImages[:head*p])
		n := train.Norm
		if n.Source != data.NormTraining || n.Images != head || math.Abs(n.Mean-mean) > 1e-12 || math.Abs(n.Std-std) > 1e-12 {
			t.Fatalf("%+v: normalisation %+v, want mean %v std %v over %d images", o, n, mean, std, head)
		}
		if test.Norm != n {
			t.Fatalf("%+v: test normalisation %+v, training %+v", o, test.Norm, n)
		}
		kept := append(seq(0, head), seq(300-o.Val, 300)...)
		for k, i := range kept {
			for j, b := range s.TrainImages[i*p : (i+1)*p] {
				if want := float32((float64(b)/255 - n.Mean) / n.Std); train.Images[k*p+j] != want {
					t.Fatalf("%+v: train image %d pixel %d = %v, want %v", o, i, j, train.Images[k*p+j], want)
				}
			}
		}
		for j, b := range s.TestImages {
			if want := float32((float64(b)/255 - n.Mean) / n.Std); test.Images[j] != want {
				t.Fatalf("%+v: test value %d = %v, want %v", o, j, test.Images[j], want)
			}
		}
		if head > 1 {
			var m, v float64
			for _, x := range train.Images[:head*p] {
				m += float64(x)
			}
			m /= float64(head * p)
			for _, x := range train.Images[:head*p] {
				v += (float64(x) - m) * (float64(x) - m)
			}
			if sd := math.Sqrt(v / float64(head*p)); math.Abs(m) > 1e-5 || math.Abs(sd-1) > 1e-5 {
				t.Errorf("%+v: normalised training images have mean %v, deviation %v", o, m, sd)
			}
		}
	}
}

// TestCustomRealMNIST reads real MNIST as a custom data set: 28×28, 10
// classes, and a computed normalisation near the published constants
// (which round it: 0.1307/0.3081).
func TestCustomRealMNIST(t *testing.T) {
	dir, err := data.Locate("mnist", "")
	if err != nil {
		t.Fatalf("real MNIST must be present (run ./build.sh): %v", err)
	}
	train, test, err := data.LoadWith(data.Custom, dir, data.Options{Subset: 60000 - 1, Val: 1})
	if err != nil {
		t.Fatal(err)
	}
	n := train.Norm
	if train.Rows != 28 || train.Cols != 28 || train.Classes != 10 || test.N != 10000 || n.Images != 59999 ||
		math.Abs(n.Mean-0.1307) > 1e-4 || math.Abs(n.Std-0.3081) > 1e-4 {
		t.Fatalf("%dx%d, %d classes, test %d, normalisation %+v", train.Rows, train.Cols, train.Classes, test.N, n)
	}
}

// TestBuiltInsKeepPublishedNormalisation: MNIST and Fashion-MNIST record
// their published constants, whatever the subset, and MNIST's pixels are
// those constants' map of the bytes, bit for bit.
func TestBuiltInsKeepPublishedNormalisation(t *testing.T) {
	for name, want := range map[string]data.Normalisation{
		"mnist":         {Mean: 0.1307, Std: 0.3081, Source: data.NormPublished},
		"fashion-mnist": {Mean: 0.2860406, Std: 0.3530242, Source: data.NormPublished},
	} {
		train, test, err := data.LoadWith(name, "", data.Options{Subset: 50, Val: 10})
		if err != nil {
			t.Fatalf("%s must be present (./build.sh): %v", name, err)
		}
		if train.Norm != want || test.Norm != want {
			t.Fatalf("%s: normalisation %+v / %+v, want %+v", name, train.Norm, test.Norm, want)
		}
		if name != "mnist" {
			continue
		}
		dir, _ := data.Locate(name, "")
		pix, _, _, _, err := data.ReadImages(filepath.Join(dir, datatest.TestImages))
		if err != nil {
			t.Fatal(err)
		}
		if got := data.Normalise(pix, 0.1307, 0.3081); !reflect.DeepEqual(got, test.Images) {
			t.Fatal("MNIST's test images differ from Normalise(bytes, 0.1307, 0.3081)")
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
