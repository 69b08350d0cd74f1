package engine

import (
	"fmt"
	"math"

	"github.com/sgds/sgds/engine/data"
)

// Eval accumulates accuracy and mean loss over the batches of one
// evaluation: every backend's Evaluate feeds it the rows it computed, so
// the arithmetic (argmax with the lowest class winning ties, the loss mean,
// the non-finite check) is written once.
type Eval struct {
	Correct int
	Rows    int
	LossSum float64
}

// CheckEvalSet reports an evaluation set that is empty or does not fit
// model m (image size, label range).
func CheckEvalSet(m ModelSpec, set *data.Set) error {
	if set == nil || set.N == 0 {
		return fmt.Errorf("evaluating on an empty data set")
	}
	p := m.InputSize()
	if set.Pixels() != p || len(set.Images) < set.N*p || len(set.Labels) < set.N {
		return fmt.Errorf("data set %s has %d values per image (%d images, %d labels for %d samples), model %s wants %d",
			set.Name, set.Pixels(), len(set.Images), len(set.Labels), set.N, m.Name, p)
	}
	for i, l := range set.Labels[:set.N] {
		if l < 0 || int(l) >= m.Classes {
			return fmt.Errorf("data set %s: label %d of sample %d is outside [0, %d)", set.Name, l, i, m.Classes)
		}
	}
	return nil
}

// AddLogits adds rows of logits (rows × C, row-major) with their labels and
// per-sample losses: a row is correct when its first largest logit is its
// label.
func (e *Eval) AddLogits(logits []float32, C int, labels []int32, losses []float32) {
	for i, l := range labels {
		row := logits[i*C : (i+1)*C]
		best := 0
		for c := 1; c < C; c++ {
			if row[c] > row[best] {
				best = c
			}
		}
		e.add(best == int(l), losses[i])
	}
}

// AddPredictions adds rows whose predicted classes were computed elsewhere
// (on a device).
func (e *Eval) AddPredictions(pred, labels []int32, losses []float32) {
	for i, l := range labels {
		e.add(pred[i] == l, losses[i])
	}
}

func (e *Eval) add(correct bool, loss float32) {
	if correct {
		e.Correct++
	}
	e.Rows++
	e.LossSum += float64(loss)
}

// Result returns accuracy = correct/rows and loss = Σ L_i / rows; a
// non-finite mean loss is an error.
func (e *Eval) Result() (acc, loss float64, err error) {
	if e.Rows == 0 {
		return 0, 0, fmt.Errorf("evaluation saw no rows")
	}
	loss = e.LossSum / float64(e.Rows)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return 0, loss, fmt.Errorf("evaluation loss is %v", loss)
	}
	return float64(e.Correct) / float64(e.Rows), loss, nil
}
