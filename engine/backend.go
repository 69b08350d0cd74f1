// Package engine holds what every backend shares: model specs (model.go),
// the Backend and Net interfaces and the backend registry (backend.go), the
// one reading of a model's layer topology (layers.go), batch gathering
// (gather.go) and the evaluation accumulator (evaluate.go): the contract a
// backend implements. It imports neither the sampler nor the cuda package;
// the training loop over it is package training.
package engine

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/sgds/sgds/engine/data"
)

// Batch is one mini-batch gathered on the host. Rows beyond N are padding:
// their weight must be 0 so they do not touch the gradient.
type Batch struct {
	Images  []float32 // B × input size
	Labels  []int32   // B
	Weights []float32 // B: the weight w_i of L_i in the batch cost Σ w_i·L_i
	Indices []int     // N: the dataset index of each real row
	N       int       // real rows
}

// StepStats is what one training step, or a forward pass alone
// (Net.Forward), returns.
type StepStats struct {
	// Losses holds L_i for the N real rows, from this step's forward pass
	// (before the update). It is owned by the Net and valid until its next
	// call.
	Losses []float32
	// LastNorms holds ||softmax_i − onehot_i||, the norm of L_i's gradient
	// with respect to the logits, for the N real rows.
	LastNorms []float32
	// GradNorms holds ||∇θ L_i||, the exact per-sample gradient norm over
	// all parameters, when Config.GradNorms is set (else nil).
	GradNorms []float32
	// Cost is the batch cost Σ w_i·L_i that was differentiated (by
	// Forward: that a Step would differentiate).
	Cost float64
}

// Config holds what a Net needs besides its model.
type Config struct {
	Batch    int     // rows per step, fixed for the Net's life
	LR       float64 // learning rate η
	Momentum float64 // momentum μ: v ← μ·v + g, θ ← θ − η·v
	// GradNorms makes every Step also return per-sample gradient norms.
	GradNorms bool
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Batch <= 0:
		return fmt.Errorf("batch size must be > 0, got %d", c.Batch)
	case !(c.LR > 0) || c.LR > 1e6:
		return fmt.Errorf("learning rate must be in (0, 1e6], got %v", c.LR)
	case !(c.Momentum >= 0 && c.Momentum < 1):
		return fmt.Errorf("momentum must be in [0, 1), got %v", c.Momentum)
	}
	return nil
}

// Net is one model instance on one backend, with its optimiser state.
type Net interface {
	// Spec returns the model spec the Net was built from.
	Spec() ModelSpec
	// BatchSize is the fixed number of rows of every Step.
	BatchSize() int
	// Step runs forward and backward on b, applies one SGD-momentum update
	// of the cost Σ w_i·L_i, and returns the per-sample losses.
	Step(b *Batch) (StepStats, error)
	// SetLR sets the learning rate of the next Steps (a schedule's rate);
	// it must be finite and > 0 (Config.LR's rule) or 0.
	SetLR(lr float64) error
	// Forward runs the forward pass alone on b and returns the per-sample
	// losses L_i and last-layer norms ||softmax_i − onehot_i|| of its N
	// real rows, and Cost = Σ w_i·L_i; GradNorms is nil. There is no
	// backward pass: the parameters, the momentum buffers and the gradients
	// are unchanged, so the losses are those a Step on b would return now.
	// The slices are owned by the Net and valid until its next call.
	Forward(b *Batch) (StepStats, error)
	// Gradients returns ∇θ Σ w_i·L_i and the per-sample losses of b
	// without changing the parameters or the optimiser state.
	Gradients(b *Batch) (grads []Param, losses []float32, err error)
	// GradNorms returns ||∇θ L_i|| for the N real rows of b, from one
	// forward and one backward pass, without changing the parameters.
	GradNorms(b *Batch) ([]float32, error)
	// Evaluate returns accuracy and mean loss over a data set, without
	// changing the parameters.
	Evaluate(set *data.Set) (acc, loss float64, err error)
	// Params returns a copy of the parameters; SetParams replaces them.
	// Params fails after Close or when the parameters cannot be read back
	// (a device error).
	Params() ([]Param, error)
	SetParams(ps []Param) error
	// Velocity returns a copy of the momentum buffers (same layout as
	// Params); SetVelocity replaces them.
	Velocity() ([]Param, error)
	SetVelocity(vs []Param) error
	// Close releases the Net's resources.
	Close() error
}

// Scorer is implemented by Nets that can return every per-sample score of
// a batch (loss, last-layer norm, exact gradient norm) from one forward and
// one backward pass without changing the parameters. Net.Forward gives the
// first two without the backward pass.
type Scorer interface {
	Score(b *Batch) (StepStats, error)
}

// Scores names the per-sample scores a sampler can use.
var Scores = []string{"loss", "lastlayer", "gradnorm"}

// PickScore returns the named score of st: L_i ("loss"), ||softmax_i −
// onehot_i|| ("lastlayer") or ||∇θ L_i|| ("gradnorm").
func PickScore(st StepStats, score string) ([]float32, error) {
	switch score {
	case "", "loss":
		return st.Losses, nil
	case "lastlayer":
		return st.LastNorms, nil
	case "gradnorm":
		if st.GradNorms == nil {
			return nil, errors.New("score gradnorm needs a Net built with Config.GradNorms")
		}
		return st.GradNorms, nil
	}
	return nil, fmt.Errorf("unknown score %q (known: loss, lastlayer, gradnorm)", score)
}

// CheckLR reports a learning rate SetLR refuses.
func CheckLR(lr float64) error {
	if !(lr >= 0 && lr <= 1e6) {
		return fmt.Errorf("learning rate %v, want one in [0, 1e6]", lr)
	}
	return nil
}

// Backend builds Nets.
type Backend interface {
	Name() string
	// New builds a Net for model m with initial parameters init.
	New(m ModelSpec, init []Param, cfg Config) (Net, error)
}

// ErrClosed is returned by a Net's methods after Close, on every backend.
var ErrClosed = errors.New("net is closed")

// ErrNotCompiled reports a backend that this build does not contain: a
// build without the cuda tag has no GPU backend to offer. The GPU backend's
// Available wraps it beside the cuda package's own sentinel.
var ErrNotCompiled = errors.New("cuda: not compiled into this build (rebuild with -tags cuda, i.e. make cuda)")

// Availability is implemented by backends that may be registered but unable
// to run here (the GPU backend in a build without the cuda tag, or on a
// machine without a device). Available returns nil when New can succeed.
type Availability interface {
	Available() error
}

var (
	regMu    sync.Mutex
	registry = map[string]Backend{}
)

// Register makes a backend available by name; backends call it from init.
func Register(b Backend) {
	regMu.Lock()
	defer regMu.Unlock()
	registry[b.Name()] = b
}

// Backends lists the registered backend names, sorted.
func Backends() []string {
	regMu.Lock()
	defer regMu.Unlock()
	var names []string
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// available reports whether b can build Nets here.
func available(b Backend) error {
	if a, ok := b.(Availability); ok {
		return a.Available()
	}
	return nil
}

// LookupBackend returns the backend for a device name: "cpu", "gorgonia",
// "cuda", "auto" (cuda when it is built in and a device is present, else
// cpu), or any other registered name. A registered backend that cannot run
// here returns its Available error.
func LookupBackend(device string) (Backend, error) {
	regMu.Lock()
	defer regMu.Unlock()
	if device == "auto" {
		if b, ok := registry["cuda"]; ok && available(b) == nil {
			return b, nil
		}
		device = "cpu"
	}
	if b, ok := registry[device]; ok {
		if err := available(b); err != nil {
			return nil, fmt.Errorf("device %s: %w", device, err)
		}
		return b, nil
	}
	if device == "cuda" {
		return nil, fmt.Errorf("device cuda: %w (build bin/sgds-cuda with `make cuda`, i.e. go build -tags cuda, on a machine with cuda.h and libcuda)", ErrNotCompiled)
	}
	known := []string{"auto"}
	for n := range registry {
		known = append(known, n)
	}
	sort.Strings(known)
	return nil, fmt.Errorf("unknown device %q (known: %s)", device, strings.Join(known, ", "))
}

// CheckNew checks what a Backend's New receives: the configuration, the
// initial parameters against model m, and m's topology, whose layers it
// returns.
func CheckNew(m ModelSpec, init []Param, cfg Config) ([]Layer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := CheckParams(m, init); err != nil {
		return nil, err
	}
	return Layers(m)
}

// CheckParams verifies that ps matches the model's parameter names and shapes.
func CheckParams(m ModelSpec, ps []Param) error {
	if len(ps) != len(m.Params) {
		return fmt.Errorf("model %s has %d parameters, got %d", m.Name, len(m.Params), len(ps))
	}
	for i, p := range m.Params {
		q := ps[i]
		if q.Name != p.Name || fmt.Sprint(q.Shape) != fmt.Sprint(p.Shape) || len(q.Data) != p.Size() {
			return fmt.Errorf("model %s parameter %d: want %s%v, got %s%v with %d values",
				m.Name, i, p.Name, p.Shape, q.Name, q.Shape, len(q.Data))
		}
	}
	return nil
}
