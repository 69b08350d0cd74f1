package training

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/sgds/sgds/engine"

	"github.com/sgds/sgds/sampler"
)

// AbandonedError is returned by Run when its context is cancelled inside an
// epoch of a SelectiveOrder or KFOrder, which cannot be resumed inside an
// epoch: the epoch was abandoned and rolled back, so the trainer stands at
// the end of epoch Epoch−1 (its Net and Order as they were then), and a
// checkpoint taken then resumes the run exactly.
type AbandonedError struct {
	Epoch  int
	Method string // the order's method, for the message
	Err    error  // the context's error
}

func (e *AbandonedError) Error() string {
	return fmt.Sprintf("interrupted in epoch %d: %v; the %s sampler cannot resume inside an epoch, so epoch %d was abandoned and the run stands at the end of epoch %d",
		e.Epoch, e.Err, e.Method, e.Epoch, e.Epoch-1)
}

func (e *AbandonedError) Unwrap() error { return e.Err }

// epochStart is what rolls back an abandoned epoch.
type epochStart struct {
	params, velocity []engine.Param
	order            []byte
	evals, hits      int // lengths of Evals and Hits
}

// saveStart records the Net's parameters and momentum and the order's
// state at the start of an epoch.
func (t *Trainer) saveStart() (*epochStart, error) {
	s := epochStart{evals: len(t.Evals), hits: len(t.Hits)}
	var err error
	if s.params, err = t.Net.Params(); err != nil {
		return nil, err
	}
	if s.velocity, err = t.Net.Velocity(); err != nil {
		return nil, err
	}
	if st, ok := t.Order.(sampler.Stateful); ok {
		if s.order, err = st.State(); err != nil {
			return nil, err
		}
	}
	return &s, nil
}

// abandon rolls the epoch back to s and returns the AbandonedError; if the
// rollback fails, the trainer refuses to run on.
func (t *Trainer) abandon(epoch int, method string, s *epochStart, cause error) error {
	err := t.Net.SetParams(s.params)
	if err == nil {
		err = t.Net.SetVelocity(s.velocity)
	}
	if st, ok := t.Order.(sampler.Stateful); ok && err == nil {
		err = st.Restore(s.order)
	}
	if err != nil {
		t.broken = fmt.Errorf("epoch %d was abandoned but could not be rolled back: %w", epoch, err)
		return fmt.Errorf("%w (%v)", &AbandonedError{Epoch: epoch, Method: method, Err: cause}, t.broken)
	}
	t.Evals, t.Hits = t.Evals[:s.evals], t.Hits[:s.hits]
	return &AbandonedError{Epoch: epoch, Method: method, Err: cause}
}

// leftOut returns, ascending, the training samples the plan does not visit.
func (t *Trainer) leftOut(plan sampler.Plan) ([]int, error) {
	visited := make([]bool, t.Train.N)
	for _, k := range plan.Indices {
		if k < 0 || k >= t.Train.N {
			return nil, fmt.Errorf("sample index %d outside the %d samples of %s", k, t.Train.N, t.Train.Name)
		}
		visited[k] = true
	}
	var out []int
	for k, v := range visited {
		if !v {
			out = append(out, k)
		}
	}
	return out, nil
}

// checkHidden returns a Refresher's hidden set after checking that it is
// exactly what its plan leaves out (what an interrupted epoch's resume
// recomputes).
func (t *Trainer) checkHidden(plan sampler.Plan, hidden []int) ([]int, error) {
	want, err := t.leftOut(plan)
	if err != nil {
		return nil, err
	}
	got := slices.Clone(hidden)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		return nil, fmt.Errorf("the order hides %d samples, but its plan leaves out %d others: a Refresher must hide exactly the samples its plan does not visit",
			len(hidden), len(want))
	}
	return got, nil
}

// refresh scores the hidden samples of a Refresher with forward passes in
// batches of B and records their scores, before EndEpoch.
func (t *Trainer) refresh(epoch int, batch *engine.Batch, hidden []int) error {
	B := len(batch.Labels)
	for pos := 0; pos < len(hidden); pos += B {
		idx := hidden[pos:min(pos+B, len(hidden))]
		if err := batch.Gather(t.Train, idx, nil); err != nil {
			return fmt.Errorf("epoch %d, refreshing hidden samples: %w", epoch, err)
		}
		st, err := t.Net.Forward(batch)
		if err != nil {
			return fmt.Errorf("epoch %d, refreshing hidden samples: %w", epoch, err)
		}
		if err := finite(epoch, "the refresh of hidden samples", idx, st.Losses); err != nil {
			return err
		}
		scores, err := engine.PickScore(st, t.Score)
		if err != nil {
			return err
		}
		if err := t.Order.Record(idx, scores); err != nil {
			return fmt.Errorf("epoch %d, refreshing hidden samples: %w", epoch, err)
		}
	}
	return nil
}

// finite reports the first NaN or infinite loss as divergence.
func finite(epoch int, where string, idx []int, losses []float32) error {
	for i, l := range losses {
		if math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) {
			return fmt.Errorf("%w at epoch %d, in %s: loss of sample %d is %v; the learning rate (--lr) is the most likely cause, try a smaller one",
				ErrDiverged, epoch, where, idx[i], l)
		}
	}
	return nil
}

// peerEpoch is the bookkeeping of an epoch of a SelectiveOrder or KFOrder.
type peerEpoch struct {
	t        *Trainer
	epoch    int
	method   string
	saved    *epochStart // what an abandoned epoch rolls back to
	batch    *engine.Batch
	start    time.Time
	evalTime time.Duration
	every    int64
	steps    int
	fwd, bwd int64 // this epoch's forward and backward samples
	lossSum  float64
	lossN    int
	trainedK []bool // by dataset index: trained on in this epoch
	distinct int
	stats    *sampler.Stats
}

// startPeer saves the state an abandoned epoch rolls back to (saveStart)
// and plans the epoch.
func (t *Trainer) startPeer(epoch int, method string, batch *engine.Batch) (*peerEpoch, sampler.Plan, error) {
	saved, err := t.saveStart()
	if err != nil {
		return nil, sampler.Plan{}, fmt.Errorf("epoch %d: %w", epoch, err)
	}
	if p := t.partial; p != nil && p.Epoch == epoch {
		return nil, sampler.Plan{}, fmt.Errorf("epoch %d: the checkpoint holds an epoch interrupted at step %d, but the %s sampler cannot resume inside an epoch", epoch, p.Steps, method)
	}
	start := time.Now() // the sampler's work (Plan) is training time
	plan, err := t.Order.Plan(epoch)
	if err != nil {
		return nil, plan, fmt.Errorf("epoch %d: %w", epoch, err)
	}
	e := &peerEpoch{t: t, saved: saved, epoch: epoch, method: method, batch: batch, every: int64(t.GridStep()), trainedK: make([]bool, t.Train.N)}
	if sr, ok := t.Order.(sampler.StatsReporter); ok {
		st := sr.Stats()
		e.stats = &st
	}
	if t.Progress != nil {
		t.Progress.StartEpoch(epoch, len(plan.Indices))
	}
	e.start = start
	return e, plan, nil
}

// pace is Trainer.pace at this epoch's samples so far.
func (e *peerEpoch) pace() (bool, error) {
	over, err := e.t.pace(e.t.seen+e.bwd, e.t.fwd+e.fwd)
	if err != nil {
		err = fmt.Errorf("epoch %d: %w", e.epoch, err)
	}
	return over, err
}

// trained returns this epoch's training seconds so far.
func (e *peerEpoch) trained() float64 { return (time.Since(e.start) - e.evalTime).Seconds() }

// forward runs Net.Forward on the candidates idx, adds their losses to the
// train loss and records their scores by dataset index.
func (e *peerEpoch) forward(idx []int) (engine.StepStats, error) {
	t := e.t
	if err := e.batch.Gather(t.Train, idx, nil); err != nil {
		return engine.StepStats{}, fmt.Errorf("epoch %d, candidates: %w", e.epoch, err)
	}
	st, err := t.Net.Forward(e.batch)
	if err != nil {
		return engine.StepStats{}, fmt.Errorf("epoch %d, forward pass of candidates: %w", e.epoch, err)
	}
	if err := finite(e.epoch, "a forward pass of candidates", idx, st.Losses); err != nil {
		return engine.StepStats{}, err
	}
	for _, l := range st.Losses {
		e.lossSum += float64(l)
	}
	e.lossN += len(idx)
	e.fwd += int64(len(idx))
	scores, err := engine.PickScore(st, t.Score)
	if err != nil {
		return engine.StepStats{}, err
	}
	if err := t.Order.Record(idx, scores); err != nil {
		return engine.StepStats{}, fmt.Errorf("epoch %d: %w", e.epoch, err)
	}
	return st, nil
}

// step trains on the samples idx with weights w (nil: 1/B each), records
// their scores, and evaluates the grid points the step reaches.
func (e *peerEpoch) step(idx []int, w []float64) error {
	t := e.t
	if err := e.batch.Gather(t.Train, idx, w); err != nil {
		return fmt.Errorf("epoch %d step %d: %w", e.epoch, e.steps+1, err)
	}
	st, err := t.Net.Step(e.batch)
	if err != nil {
		return fmt.Errorf("epoch %d step %d: %w", e.epoch, e.steps+1, err)
	}
	e.steps++
	if err := finite(e.epoch, fmt.Sprintf("step %d", e.steps), idx, st.Losses); err != nil {
		return err
	}
	scores, err := engine.PickScore(st, t.Score)
	if err != nil {
		return err
	}
	if err := t.Order.Record(idx, scores); err != nil {
		return fmt.Errorf("epoch %d step %d: %w", e.epoch, e.steps, err)
	}
	if t.OnStep != nil {
		t.OnStep(e.epoch, idx, st.Losses)
	}
	for _, k := range idx {
		if !e.trainedK[k] {
			e.trainedK[k] = true
			e.distinct++
		}
	}
	before := t.seen + e.bwd
	e.bwd += int64(len(idx))
	e.fwd += int64(len(idx))
	after := t.seen + e.bwd
	if after/e.every > before/e.every {
		evalStart := time.Now()
		seconds := t.seconds + e.trained()
		if err := t.evalGrid(e.epoch, after/e.every*e.every, after, t.fwd+e.fwd, seconds); err != nil {
			return err
		}
		e.evalTime += time.Since(evalStart)
	}
	return nil
}

// finish adds the epoch to the totals and reports it.
func (e *peerEpoch) finish() error {
	t := e.t
	t.seconds += e.trained()
	t.seen += e.bwd
	t.fwd += e.fwd
	var stats *sampler.Stats
	if e.stats != nil {
		// Kept: the candidates' set; Distinct: the samples trained on.
		st := *e.stats
		st.Distinct = e.distinct
		stats = &st
	}
	return t.endEpoch(e.epoch, int(e.bwd), e.lossSum, e.lossN, stats)
}

// runSelective runs an epoch of Selective-Backprop (see SelectiveOrder).
func (t *Trainer) runSelective(ctx context.Context, epoch int, batch *engine.Batch, o *SelectiveOrder) error {
	const method = "selective-backprop"
	e, plan, err := t.startPeer(epoch, method, batch)
	if err != nil {
		return err
	}
	B := len(batch.Labels)
	chosen := make([]bool, B)
	pending := make([]int, 0, 2*B) // dataset indices selected, not yet trained on
	stepIdx := make([]int, 0, B)
	flush := func() error {
		n := min(B, len(pending))
		stepIdx = append(stepIdx[:0], pending[:n]...)
		pending = pending[:copy(pending, pending[n:])]
		return e.step(stepIdx, nil)
	}
	for pos := 0; pos < len(plan.Indices); pos += B {
		if err := ctx.Err(); err != nil {
			return t.abandon(epoch, method, e.saved, err)
		}
		if over, err := e.pace(); err != nil || over {
			if over {
				pending = pending[:0] // selected, but the budget is spent
				break
			}
			return err
		}
		cand := plan.Indices[pos:min(pos+B, len(plan.Indices))]
		st, err := e.forward(cand)
		if err != nil {
			return err
		}
		if _, err := o.Selector().Select(st.Losses, chosen); err != nil {
			return fmt.Errorf("epoch %d: %w", epoch, err)
		}
		for j, k := range cand {
			if chosen[j] {
				pending = append(pending, k)
			}
		}
		for len(pending) >= B {
			if err := flush(); err != nil {
				return err
			}
		}
		if t.Progress != nil {
			t.Progress.Advance(len(cand))
		}
	}
	if len(pending) > 0 { // the last, padded step
		if err := flush(); err != nil {
			return err
		}
	}
	return e.finish()
}

// runKF runs an epoch of KF importance sampling (see KFOrder).
func (t *Trainer) runKF(ctx context.Context, epoch int, batch *engine.Batch, o *KFOrder) error {
	const method = "kf-is"
	e, plan, err := t.startPeer(epoch, method, batch)
	if err != nil {
		return err
	}
	B := len(batch.Labels)
	group := min(o.Sampler().Config().Presample*B, max(len(plan.Indices), 1))
	scores := make([]float32, group)
	pos, idx := make([]int, B), make([]int, B)
	w := make([]float64, B)
	for at := 0; at < len(plan.Indices); at += group {
		if err := ctx.Err(); err != nil {
			return t.abandon(epoch, method, e.saved, err)
		}
		if over, err := e.pace(); err != nil || over {
			if over {
				break
			}
			return err
		}
		cands := plan.Indices[at:min(at+group, len(plan.Indices))]
		n := len(cands)
		for c := 0; c < n; c += B {
			st, err := e.forward(cands[c:min(c+B, n)])
			if err != nil {
				return err
			}
			copy(scores[c:], st.LastNorms)
		}
		b := min(B, n)
		on, err := o.Sampler().Choose(scores[:n], b, pos, w)
		if err != nil {
			return fmt.Errorf("epoch %d: %w", epoch, err)
		}
		for j := range b {
			idx[j] = cands[pos[j]]
		}
		var weights []float64 // off: a plain batch, 1/B each
		if on {
			weights = w[:b]
			if b < B { // a short last group weighs as a short last batch
				for j := range weights {
					weights[j] *= float64(b) / float64(B)
				}
			}
		}
		if err := e.step(idx[:b], weights); err != nil {
			return err
		}
		if t.Progress != nil {
			t.Progress.Advance(n)
		}
	}
	return e.finish()
}
