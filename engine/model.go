package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/sgds/sgds/engine/data"
)

// Models lists the model names LookupModel knows.
func Models() []string { return []string{"mlp", "cnn"} }

// ParamSpec names one parameter tensor and its shape. Dense weights are
// stored (in, out) so that a layer computes z = a·W + b; conv filters are
// stored (out channels, in channels, kh, kw).
type ParamSpec struct {
	Name  string
	Shape []int
	// FanIn is the number of inputs of one output unit; initial values are
	// drawn from U(−1/√FanIn, 1/√FanIn), as PyTorch's default for Linear
	// and Conv2d layers.
	FanIn int
}

// Size is the number of elements of the parameter.
func (p ParamSpec) Size() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// ModelSpec describes one of the seed's models (docs/METHOD.md §4), sized
// for a data set by ModelFor.
type ModelSpec struct {
	// Name is the model's name, sized for data other than MNIST's
	// (ModelFor).
	Name    string
	Input   []int // shape of one sample: (H·W) for mlp, (1, H, W) for cnn; (784) and (1, 28, 28) for MNIST
	Classes int
	Params  []ParamSpec
}

// InputSize is the number of values of one input sample.
func (m ModelSpec) InputSize() int {
	n := 1
	for _, d := range m.Input {
		n *= d
	}
	return n
}

// NumParams is the total number of scalar parameters.
func (m ModelSpec) NumParams() int {
	n := 0
	for _, p := range m.Params {
		n += p.Size()
	}
	return n
}

// LookupModel returns the spec of a model by name: mlp or cnn (one of
// Models) for MNIST-sized data, 28×28 images and 10 classes,
//
//	mlp: 784-256-10, ReLU.
//	cnn: conv 1→10 5×5, max-pool 2, ReLU; conv 10→20 5×5, max-pool 2, ReLU;
//	     dense 320→50, ReLU; dense 50→10.
//
// or a sized name as ModelFor writes it, e.g. cnn:1x20x24:5, which it
// reads back into ModelFor's spec (a checkpoint records the Name of its
// model's spec). Both models end in log-softmax with a per-sample negative
// log-likelihood.
func LookupModel(name string) (ModelSpec, error) {
	base, size, sized := strings.Cut(name, ":")
	if !sized {
		if !slices.Contains(Models(), name) {
			return ModelSpec{}, unknownModel(name)
		}
		return ModelFor(name, mnistInput, mnistClasses)
	}
	bad := func(why string) (ModelSpec, error) {
		return ModelSpec{}, fmt.Errorf("model %q: %s (a sized model name is model:1xHxW:classes, e.g. cnn:1x20x24:5)", name, why)
	}
	shape, k, ok := strings.Cut(size, ":")
	dims := strings.Split(shape, "x")
	if !ok || len(dims) != 3 {
		return bad("not a sized model name")
	}
	number := func(d string) (int, bool) {
		v, err := strconv.Atoi(d)
		return v, err == nil && v >= 0 && v <= 1<<20
	}
	input := make([]int, 3)
	for i, d := range dims {
		if input[i], ok = number(d); !ok {
			return bad(fmt.Sprintf("%q is not a size", d))
		}
	}
	classes, ok := number(k)
	if !ok {
		return bad(fmt.Sprintf("%q is not a number of classes", k))
	}
	m, err := ModelFor(base, input, classes)
	if err != nil {
		return ModelSpec{}, err
	}
	if m.Name != name {
		return bad(fmt.Sprintf("write it %s", m.Name))
	}
	return m, nil
}

// mnistInput and mnistClasses are the data shape of LookupModel's plain
// names.
var mnistInput = []int{1, 28, 28}

const mnistClasses = 10

func unknownModel(name string) error {
	return fmt.Errorf("unknown model %q (known: %s)", name, strings.Join(Models(), ", "))
}

// BaseModel returns the model a (sized) model name names: "cnn" for
// "cnn:1x20x24:5" and for "cnn".
func BaseModel(name string) string {
	base, _, _ := strings.Cut(name, ":")
	return base
}

// ModelFor returns the spec of model name (one of Models) for samples of
// shape input, single-channel H×W images as (1, H, W) or (H, W), and
// classes classes:
//
//	mlp: H·W-256-classes, ReLU.
//	cnn: conv 1→10 5×5, max-pool 2, ReLU; conv 10→20 5×5, max-pool 2, ReLU;
//	     dense 20·PH·PW→50, ReLU; dense 50→classes,
//
// where PH = ⌊(⌊(H−4)/2⌋−4)/2⌋ and PW likewise (PH = PW = 4 and 320
// inputs for 28×28). H and W lie in [data.MinSide, data.MaxSide], and the
// cnn needs H, W ≥ 16 so that PH, PW ≥ 1; classes lies in
// [data.MinClasses, data.MaxClasses]. The spec's Name is name for 28×28
// images and 10 classes (LookupModel(name), so that MNIST runs and their
// checkpoints are unchanged), else the sized name name:1xHxW:classes, which
// LookupModel reads back.
func ModelFor(name string, input []int, classes int) (ModelSpec, error) {
	if !slices.Contains(Models(), name) {
		return ModelSpec{}, unknownModel(name)
	}
	var h, w int
	switch {
	case len(input) == 3 && input[0] == 1:
		h, w = input[1], input[2]
	case len(input) == 2:
		h, w = input[0], input[1]
	case len(input) == 3:
		return ModelSpec{}, fmt.Errorf("model %s: input %v has %d channels; the models take single-channel images (1, H, W)", name, input, input[0])
	default:
		return ModelSpec{}, fmt.Errorf("model %s: input %v is not an image shape (1, H, W) or (H, W)", name, input)
	}
	if h < data.MinSide || w < data.MinSide || h > data.MaxSide || w > data.MaxSide {
		return ModelSpec{}, fmt.Errorf("model %s: %dx%d images: the models take %dx%d to %dx%d", name, h, w, data.MinSide, data.MinSide, data.MaxSide, data.MaxSide)
	}
	if classes < data.MinClasses || classes > data.MaxClasses {
		return ModelSpec{}, fmt.Errorf("model %s: %d classes: the models classify %d to %d classes", name, classes, data.MinClasses, data.MaxClasses)
	}
	m := ModelSpec{Name: name, Classes: classes}
	if h != mnistInput[1] || w != mnistInput[2] || classes != mnistClasses {
		m.Name = fmt.Sprintf("%s:1x%dx%d:%d", name, h, w, classes)
	}
	switch name {
	case "mlp":
		m.Input = []int{h * w}
		m.Params = []ParamSpec{
			{"fc1.w", []int{h * w, 256}, h * w}, {"fc1.b", []int{256}, h * w},
			{"fc2.w", []int{256, classes}, 256}, {"fc2.b", []int{classes}, 256},
		}
	case "cnn":
		// conv 5×5 (valid), then max-pool 2, twice.
		oh1, ow1 := h-4, w-4
		ph1, pw1 := oh1/2, ow1/2
		oh2, ow2 := ph1-4, pw1-4
		ph, pw := oh2/2, ow2/2
		if ph < 1 || pw < 1 {
			return ModelSpec{}, fmt.Errorf("model cnn: %dx%d images are too small: conv 5x5 gives %dx%d, max-pool 2 %dx%d, conv 5x5 %dx%d, max-pool 2 %dx%d; "+
				"the cnn needs at least 16x16 (the mlp takes images from %dx%d)", h, w, oh1, ow1, ph1, pw1, max(oh2, 0), max(ow2, 0), max(ph, 0), max(pw, 0), data.MinSide, data.MinSide)
		}
		flat := 20 * ph * pw
		m.Input = []int{1, h, w}
		m.Params = []ParamSpec{
			{"conv1.w", []int{10, 1, 5, 5}, 25}, {"conv1.b", []int{10}, 25},
			{"conv2.w", []int{20, 10, 5, 5}, 250}, {"conv2.b", []int{20}, 250},
			{"fc1.w", []int{flat, 50}, flat}, {"fc1.b", []int{50}, flat},
			{"fc2.w", []int{50, classes}, 50}, {"fc2.b", []int{classes}, 50},
		}
	}
	return m, nil
}

// Param is a named parameter tensor with its values (row-major).
type Param struct {
	Name  string
	Shape []int
	Data  []float32
}

// InitParams draws the initial parameters of a model from a PCG generator
// seeded with seed: every value of a parameter is uniform in
// (−1/√FanIn, 1/√FanIn). The same seed gives the same weights on every
// backend and machine.
func InitParams(m ModelSpec, seed uint64) []Param {
	r := rand.New(rand.NewPCG(seed, 0x5eed5eed))
	out := make([]Param, len(m.Params))
	for i, p := range m.Params {
		bound := 1 / math.Sqrt(float64(p.FanIn))
		data := make([]float32, p.Size())
		for j := range data {
			data[j] = float32((2*r.Float64() - 1) * bound)
		}
		out[i] = Param{Name: p.Name, Shape: append([]int(nil), p.Shape...), Data: data}
	}
	return out
}

// CloneParams returns a deep copy of ps.
func CloneParams(ps []Param) []Param {
	out := make([]Param, len(ps))
	for i, p := range ps {
		out[i] = Param{Name: p.Name, Shape: append([]int(nil), p.Shape...), Data: append([]float32(nil), p.Data...)}
	}
	return out
}

// ExportParams copies backend buffers (one per parameter of m, in order)
// into named Params.
func ExportParams(m ModelSpec, src [][]float32) []Param {
	out := make([]Param, len(m.Params))
	for i, p := range m.Params {
		out[i] = Param{Name: p.Name, Shape: append([]int(nil), p.Shape...), Data: append([]float32(nil), src[i]...)}
	}
	return out
}

// ImportParams checks ps against m and copies their values into the
// backend buffers dst (one per parameter of m, in order).
func ImportParams(m ModelSpec, dst [][]float32, ps []Param) error {
	if err := CheckParams(m, ps); err != nil {
		return err
	}
	for i := range dst {
		copy(dst[i], ps[i].Data)
	}
	return nil
}
