package run

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/internal/limits"
)

// Input is the shape of one sample of d: (1, rows, cols).
func (d *Data) Input() []int { return []int{1, d.Train.Rows, d.Train.Cols} }

// Classes is the number of classes of d.
func (d *Data) Classes() int { return d.Train.Classes }

// DataInfo describes the data set of a run for its results files.
type DataInfo struct {
	// Name is the data set's name (--dataset).
	Name    string `json:"name"`
	Rows    int    `json:"rows"`
	Cols    int    `json:"cols"`
	Classes int    `json:"classes"`
	Train   int    `json:"train"`
	Val     int    `json:"val,omitempty"`
	Test    int    `json:"test"`
	// Normalisation is the map every image went through: the published
	// constants of MNIST and Fashion-MNIST, or the statistics of the
	// training images of a custom (--dataset idx) data set.
	Normalisation data.Normalisation `json:"normalisation"`
}

// Info describes d for a results file.
func (d *Data) Info() DataInfo {
	i := DataInfo{Rows: d.Train.Rows, Cols: d.Train.Cols, Classes: d.Train.Classes,
		Train: d.Train.N, Test: d.Test.N, Normalisation: d.Train.Norm}
	if d.Val != nil {
		i.Val = d.Val.N
	}
	return i
}

// Model returns the spec of c's model sized for d (engine.ModelFor): its
// Name is c.Model for 28×28 images of 10 classes, else the sized name
// (e.g. cnn:1x20x24:5) that checkpoints record and engine.LookupModel
// reads back.
func Model(c Config, d *Data) (engine.ModelSpec, error) {
	m, err := engine.ModelFor(c.Model, d.Input(), d.Classes())
	if err != nil {
		return engine.ModelSpec{}, fmt.Errorf("--model %s on %s: %w", c.Model, c.Dataset, err)
	}
	return m, nil
}

// NewNetFor builds the Net of c's model sized for d (Model) on c's
// device, with initial parameters init (engine.InitParams of c.Seed when
// nil), which must be of that model.
func NewNetFor(c Config, d *Data, init []engine.Param) (engine.Net, error) {
	m, err := Model(c, d)
	if err != nil {
		return nil, err
	}
	if err := CheckNets(c, d, 1, 0, ""); err != nil {
		return nil, err
	}
	return newNet(c, m, init)
}

// NetBytes is the memory one net of model m takes to train batches of
// batch samples: four float32 copies of every parameter (the initial
// values, the weights, their gradients and momentum) and the batch's
// buffers (engine.BatchBytesPerSample); false when it exceeds an int64.
func NetBytes(m engine.ModelSpec, batch int) (int64, bool) {
	params, ok1 := limits.Mul(int64(m.NumParams()), 16)
	buf, ok2 := limits.Mul(int64(batch), engine.BatchBytesPerSample(m))
	return params + buf, ok1 && ok2 && params <= 1<<62 && buf <= 1<<62
}

// CheckNets checks that nets nets of c's model sized for d, built at
// once, and parked runs held between their epochs (their parameters and
// momentum: compare builds one net per seed in training, --parallel
// seeds at a time, and parks its other methods) fit the memory budget
// (internal/limits) before any is allocated; why names what builds them
// ("" for one run).
func CheckNets(c Config, d *Data, nets, parked int, why string) error {
	m, err := Model(c, d)
	if err != nil {
		return err
	}
	each, ok := NetBytes(m, c.Batch)
	total, ok2 := limits.Mul(each, int64(nets))
	park, ok3 := limits.Mul(int64(m.NumParams()), 8, int64(parked))
	what := fmt.Sprintf("--model %s on %d×%d images (%d parameters) at --batch %d", c.Model, d.Train.Rows, d.Train.Cols, m.NumParams(), c.Batch)
	if why != "" {
		what += fmt.Sprintf(", %d nets and %d parked runs at once (%s)", nets, parked, why)
	}
	if !ok || !ok2 || !ok3 || total > 1<<62 || park > 1<<62 {
		return fmt.Errorf("%s: needs more than 8 EiB, %w (set %s to change it)", what, limits.ErrOverBudget, limits.EnvBudget)
	}
	return limits.CheckTotal(what, total+park)
}

// DataPrint identifies the data a run trained on: the image size, the
// classes, the samples of each part and a SHA-256 of every label (train,
// then validation, then test, as little-endian int32). Checkpoints and
// compare.json record it, and a resume checks the data it is given
// against it.
type DataPrint struct {
	Rows    int    `json:"rows"`
	Cols    int    `json:"cols"`
	Classes int    `json:"classes"`
	Train   int    `json:"train"`
	Val     int    `json:"val"`
	Test    int    `json:"test"`
	Labels  string `json:"labels_sha256"`
}

// Print is the DataPrint of d.
func (d *Data) Print() DataPrint {
	h := sha256.New()
	var buf [4]byte
	p := DataPrint{Rows: d.Train.Rows, Cols: d.Train.Cols, Classes: d.Train.Classes, Train: d.Train.N, Test: d.Test.N}
	for _, s := range []*data.Set{d.Train, d.Val, d.Test} {
		if s == nil {
			continue
		}
		for _, l := range s.Labels {
			binary.LittleEndian.PutUint32(buf[:], uint32(l))
			h.Write(buf[:])
		}
	}
	if d.Val != nil {
		p.Val = d.Val.N
	}
	p.Labels = hex.EncodeToString(h.Sum(nil))
	return p
}

// CheckData reports how the data given to a resume (got) differs from the
// data the run trained on (p), blaming --data (where: the folder given,
// "" for the default search): another image size, other counts, or other
// labels.
func (p DataPrint) CheckData(got DataPrint, where string) error {
	if where == "" {
		where = "(the default data folder)"
	}
	var diff string
	switch {
	case got.Rows != p.Rows || got.Cols != p.Cols:
		diff = fmt.Sprintf("its images are %d×%d, the run trained on %d×%d", got.Rows, got.Cols, p.Rows, p.Cols)
	case got.Classes != p.Classes:
		diff = fmt.Sprintf("it has %d classes, the run trained on %d", got.Classes, p.Classes)
	case got.Train != p.Train || got.Val != p.Val || got.Test != p.Test:
		diff = fmt.Sprintf("it gives %d training, %d validation and %d test samples, the run trained on %d, %d and %d", got.Train, got.Val, got.Test, p.Train, p.Val, p.Test)
	case got.Labels != p.Labels:
		diff = "its labels differ from those the run trained on (another data set, or the same files in another order)"
	default:
		return nil
	}
	return fmt.Errorf("--data %s: not the data the run trained on: %s; give --data the folder the run was trained from", where, diff)
}
