package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
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

// ModelSpec describes one of the seed's models (docs/METHOD.md §4).
type ModelSpec struct {
	Name    string
	Input   []int // shape of one sample: (784) for mlp, (1, 28, 28) for cnn
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

// LookupModel returns the spec of a model by name:
//
//	mlp: 784-256-10, ReLU.
//	cnn: conv 1→10 5×5, max-pool 2, ReLU; conv 10→20 5×5, max-pool 2, ReLU;
//	     dense 320→50, ReLU; dense 50→10.
//
// Both end in log-softmax with a per-sample negative log-likelihood.
func LookupModel(name string) (ModelSpec, error) {
	switch name {
	case "mlp":
		return ModelSpec{Name: "mlp", Input: []int{784}, Classes: 10, Params: []ParamSpec{
			{"fc1.w", []int{784, 256}, 784}, {"fc1.b", []int{256}, 784},
			{"fc2.w", []int{256, 10}, 256}, {"fc2.b", []int{10}, 256},
		}}, nil
	case "cnn":
		return ModelSpec{Name: "cnn", Input: []int{1, 28, 28}, Classes: 10, Params: []ParamSpec{
			{"conv1.w", []int{10, 1, 5, 5}, 25}, {"conv1.b", []int{10}, 25},
			{"conv2.w", []int{20, 10, 5, 5}, 250}, {"conv2.b", []int{20}, 250},
			{"fc1.w", []int{320, 50}, 320}, {"fc1.b", []int{50}, 320},
			{"fc2.w", []int{50, 10}, 50}, {"fc2.b", []int{10}, 50},
		}}, nil
	}
	return ModelSpec{}, fmt.Errorf("unknown model %q (known: %s)", name, strings.Join(Models(), ", "))
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
