package run

import (
	"fmt"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/data"
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
	return newNet(c, m, init)
}
