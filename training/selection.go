package training

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/sgds/sgds/engine"

	"github.com/sgds/sgds/sampler"
)

// The peer methods that need more of a step than a plan of indices
// (docs/METHOD.md §8) are Orders of their own kinds, which the Trainer
// recognises and runs with Net.Forward beside Net.Step, on every backend:
//
//   - a [Refresher] (sampler.Kakurenbo) is an ordinary order whose plan
//     hides samples; after the epoch's steps the trainer scores the hidden
//     ones with a forward pass and records their losses before EndEpoch;
//   - a [SelectiveOrder] (Selective-Backprop) forwards candidate batches
//     taken from its candidates' plan and backpropagates only the samples
//     its selector picks, B at a time;
//   - a [KFOrder] (Katharopoulos & Fleuret) forwards k·B candidates from its
//     candidates' plan per step and trains on the B it draws from their
//     last-layer norms, with importance weights.
//
// Their forward passes count as training time and in the forward_samples of
// the metrics; see [Trainer].

// Refresher is an Order whose plan leaves out (hides) samples whose scores
// must be refreshed with a forward pass at the end of the epoch, as
// sampler.Kakurenbo's. Hidden lists, after Plan, the dataset indices the
// plan hides: exactly those of 0 … N−1 that the plan does not visit (the
// Trainer checks this, and relies on it to resume an interrupted epoch,
// whose hidden set it recomputes from the plan).
type Refresher interface {
	sampler.Order
	Hidden() []int
}

var (
	_ sampler.Order         = (*SelectiveOrder)(nil)
	_ sampler.Stateful      = (*SelectiveOrder)(nil)
	_ sampler.StatsReporter = (*SelectiveOrder)(nil)
	_ sampler.Order         = (*KFOrder)(nil)
	_ sampler.Stateful      = (*KFOrder)(nil)
	_ sampler.StatsReporter = (*KFOrder)(nil)
)

// SelectiveOrder is Selective-Backprop (Jiang et al., 2019) as an Order.
// Each epoch the trainer walks the candidates' plan in candidate batches of
// B (the Net's batch), forwards each batch (Net.Forward), lets the
// selector choose from their losses, and accumulates the chosen dataset
// indices until B are collected; it then gathers them into a batch with
// the plain weights 1/B and steps. The epoch ends when the plan's
// candidates are exhausted; the chosen samples left over (fewer than B)
// make a last, padded step. The plan's weights are ignored.
//
// Its candidates are every sample once in a fresh shuffled order
// (sampler.Shuffled) for the paper's method.
type SelectiveOrder struct {
	peerOrder[*sampler.SelectiveBackprop]
}

// Selector returns the selector that chooses the samples to backpropagate.
func (o *SelectiveOrder) Selector() *sampler.SelectiveBackprop { return o.sel }

// RunEpoch runs an epoch of Selective-Backprop (EpochRunner).
func (o *SelectiveOrder) RunEpoch(ctx context.Context, t *Trainer, epoch int, batch *engine.Batch) error {
	return t.runSelective(ctx, epoch, batch, o)
}

// candidates is the Order that plans the candidates of each epoch of a
// method that selects from forward passes; every candidate's forward-pass
// score, and every step's, is recorded into it by dataset index. Plan,
// Record, EndEpoch and Stats are its.
type candidates struct {
	Candidates sampler.Order
}

// Plan returns the candidates of epoch.
func (o candidates) Plan(epoch int) (sampler.Plan, error) { return o.Candidates.Plan(epoch) }

// Record stores scores into the candidates' order.
func (o candidates) Record(indices []int, scores []float32) error {
	return o.Candidates.Record(indices, scores)
}

// EndEpoch closes epoch of the candidates' order.
func (o candidates) EndEpoch(epoch int) error { return o.Candidates.EndEpoch(epoch) }

// Stats are the candidates' order's statistics, if it reports them.
func (o candidates) Stats() sampler.Stats { return candidateStats(o.Candidates) }

// NewSelectiveOrder returns Selective-Backprop over cands with selector sel.
func NewSelectiveOrder(cands sampler.Order, sel *sampler.SelectiveBackprop) (*SelectiveOrder, error) {
	p, err := newPeerOrder("selective-backprop", peerSelective, cands, sel, func() (*sampler.SelectiveBackprop, error) {
		return sampler.NewSelectiveBackprop(0, 1, 0) // replaced by the saved β, W and seed
	})
	return &SelectiveOrder{p}, err
}

// KFOrder is the importance sampling of Katharopoulos & Fleuret (ICML 2018)
// as an Order. Each step the trainer takes the next k·B candidates of the
// candidates' plan (k = Sampler.Config().Presample, B the Net's batch),
// forwards them (k forward passes of B rows), scores them by their
// last-layer norms ||softmax − onehot||, lets the sampler choose B
// positions (with repeats) and weights, and steps on the chosen samples
// with those weights. An epoch is one pass over the plan: it forwards
// every candidate once and trains on about N/k samples. A last group of
// n < k·B candidates gives min(B, n) draws, whose weights are scaled by
// min(B, n)/B as the rows of any short last batch (1/B each when off). The
// plan's weights are ignored.
//
// Its candidates are sampler.Shuffled: uniform draws without replacement
// within an epoch.
type KFOrder struct {
	peerOrder[*sampler.KF]
}

// Sampler returns the sampler that chooses each step's batch from the
// candidates' scores.
func (o *KFOrder) Sampler() *sampler.KF { return o.sel }

// RunEpoch runs an epoch of KF importance sampling (EpochRunner).
func (o *KFOrder) RunEpoch(ctx context.Context, t *Trainer, epoch int, batch *engine.Batch) error {
	return t.runKF(ctx, epoch, batch, o)
}

// NewKFOrder returns KF importance sampling over cands with sampler kf.
func NewKFOrder(cands sampler.Order, kf *sampler.KF) (*KFOrder, error) {
	p, err := newPeerOrder("kf-is", peerKF, cands, kf, func() (*sampler.KF, error) {
		return sampler.NewKF(sampler.DefaultKFConfig(), 0) // replaced by the saved configuration and seed
	})
	return &KFOrder{p}, err
}

// selector is what a peer order chooses with (sampler.SelectiveBackprop,
// sampler.KF): its state is saved beside the candidates'.
type selector interface {
	comparable
	State() ([]byte, error)
	Restore([]byte) error
}

// peerOrder is the part SelectiveOrder and KFOrder share: the candidates,
// the selector, and their state under kind. fresh makes a selector for
// Restore to fill, so that a failed Restore leaves the order unchanged.
type peerOrder[S selector] struct {
	candidates
	kind  byte
	sel   S
	fresh func() (S, error)
}

// newPeerOrder checks that cands and sel are given (name names the method
// in the error).
func newPeerOrder[S selector](name string, kind byte, cands sampler.Order, sel S, fresh func() (S, error)) (peerOrder[S], error) {
	var none S
	if cands == nil || sel == none {
		return peerOrder[S]{}, fmt.Errorf("%s: candidates and selector are required", name)
	}
	return peerOrder[S]{candidates: candidates{cands}, kind: kind, sel: sel, fresh: fresh}, nil
}

// State saves the candidates' order and the selector (for Selective-Backprop
// its history and the number of selections so far, for KF its draws so far
// and the moving average of τ), so that a run resumed at an epoch boundary
// selects as the uninterrupted one.
func (o *peerOrder[S]) State() ([]byte, error) { return peerState(o.kind, o.Candidates, o.sel.State) }

// Restore resumes an order saved by State; on error the selector is
// unchanged.
func (o *peerOrder[S]) Restore(data []byte) error {
	sel, err := restorePeer(o.kind, data, o.Candidates, o.fresh)
	if err == nil {
		o.sel = sel
	}
	return err
}

// peerState saves the candidates' order and a selector's state (state)
// under kind.
func peerState(kind byte, cands sampler.Order, state func() ([]byte, error)) ([]byte, error) {
	sel, err := state()
	if err != nil {
		return nil, err
	}
	return encodePeerState(kind, cands, sel)
}

// restorePeer restores the candidates' order and a fresh selector (from
// fresh) from a state saved under kind, and returns the selector; on error
// the caller keeps its own.
func restorePeer[S interface{ Restore([]byte) error }](kind byte, data []byte, cands sampler.Order, fresh func() (S, error)) (S, error) {
	var none S
	sel, err := fresh()
	if err != nil {
		return none, err
	}
	if err := decodePeerState(kind, data, cands, sel.Restore); err != nil {
		return none, err
	}
	return sel, nil
}

func candidateStats(o sampler.Order) sampler.Stats {
	if sr, ok := o.(sampler.StatsReporter); ok {
		return sr.Stats()
	}
	return sampler.Stats{}
}

// The state of a SelectiveOrder or KFOrder: magic, kind, then the
// candidates' state and the selector's, each prefixed by its length
// (uint32, little-endian).
const peerMagic = "SGDSPEER"

const (
	peerSelective byte = 1
	peerKF        byte = 2
)

var peerNames = map[byte]string{peerSelective: "selective-backprop", peerKF: "kf-is"}

func encodePeerState(kind byte, cands sampler.Order, sel []byte) ([]byte, error) {
	var cs []byte
	if s, ok := cands.(sampler.Stateful); ok {
		var err error
		if cs, err = s.State(); err != nil {
			return nil, err
		}
	}
	b := make([]byte, 0, len(peerMagic)+1+8+len(cs)+len(sel))
	b = append(b, peerMagic...)
	b = append(b, kind)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(cs)))
	b = append(b, cs...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(sel)))
	return append(b, sel...), nil
}

// decodePeerState restores the candidates from data and hands the
// selector's part to restoreSel, which runs first so that a bad selector
// state leaves the candidates unchanged.
func decodePeerState(kind byte, data []byte, cands sampler.Order, restoreSel func([]byte) error) error {
	name := peerNames[kind]
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s state: %s", sampler.ErrCorruptState, name, fmt.Sprintf(format, args...))
	}
	if len(data) < len(peerMagic)+1 || string(data[:len(peerMagic)]) != peerMagic {
		return bad("not a peer method's state")
	}
	if k := data[len(peerMagic)]; k != kind {
		return fmt.Errorf("%w: the state is of %s, this order is %s", sampler.ErrStateMismatch, peerNames[k], name)
	}
	rest := data[len(peerMagic)+1:]
	take := func() ([]byte, bool) {
		if len(rest) < 4 {
			return nil, false
		}
		n := binary.LittleEndian.Uint32(rest)
		if uint64(n) > uint64(len(rest)-4) {
			return nil, false
		}
		part := rest[4 : 4+n]
		rest = rest[4+n:]
		return part, true
	}
	cs, ok1 := take()
	ss, ok2 := take()
	if !ok1 || !ok2 || len(rest) != 0 {
		return bad("truncated or trailing bytes")
	}
	if err := restoreSel(ss); err != nil {
		return err
	}
	if s, ok := cands.(sampler.Stateful); ok {
		return s.Restore(cs)
	} else if len(cs) != 0 {
		return bad("candidates' state given for an order without one")
	}
	return nil
}
