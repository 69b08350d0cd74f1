package training_test

import (
	"context"
	"errors"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/engine/data"
	"github.com/sgds/sgds/sampler"
	"github.com/sgds/sgds/training"
)

// contentHash maps an image to [0, 1) by its pixels alone, so that a value
// derived from it follows the sample, whatever its position in a batch.
func contentHash(img []float32, salt uint32) float64 {
	h := fnv.New64a()
	var b [4]byte
	for _, v := range append([]float32{math.Float32frombits(salt)}, img...) {
		u := math.Float32bits(v)
		b[0], b[1], b[2], b[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
		h.Write(b[:])
	}
	return float64(h.Sum64()>>11) / (1 << 53)
}

// fakeLoss and fakeNorm are the loss and last-layer norm contentNet
// reports for an image: losses in [0.001, 0.251), all confident for
// KAKURENBO's τ = 0.7 (−ln 0.7 ≈ 0.357), norms in [0.01, 1.01).
func fakeLoss(img []float32) float32 { return float32(0.001 + 0.25*contentHash(img, 1)) }
func fakeNorm(img []float32) float32 { return float32(0.01 + contentHash(img, 2)) }

// contentNet is a real Net (its updates, evaluations and checkpoints are
// real) whose Step and Forward report fakeLoss and fakeNorm of each real
// row's pixels, or bump[k] from Forward for dataset index k. It records
// every step's indices and weights.
type contentNet struct {
	engine.Net
	bump          map[int]float32
	stepIdx       [][]int
	stepW         [][]float32
	forwards      int
	losses, norms []float32
}

func (n *contentNet) fake(b *engine.Batch, st engine.StepStats, forward bool) engine.StepStats {
	p := len(b.Images) / len(b.Labels)
	n.losses, n.norms = n.losses[:0], n.norms[:0]
	for i := range b.N {
		img := b.Images[i*p : (i+1)*p]
		l := fakeLoss(img)
		if v, ok := n.bump[b.Indices[i]]; ok && forward {
			l = v
		}
		n.losses = append(n.losses, l)
		n.norms = append(n.norms, fakeNorm(img))
	}
	st.Losses, st.LastNorms = n.losses, n.norms
	return st
}

func (n *contentNet) Step(b *engine.Batch) (engine.StepStats, error) {
	st, err := n.Net.Step(b)
	n.stepIdx = append(n.stepIdx, slices.Clone(b.Indices[:b.N]))
	n.stepW = append(n.stepW, slices.Clone(b.Weights))
	return n.fake(b, st, false), err
}

func (n *contentNet) Forward(b *engine.Batch) (engine.StepStats, error) {
	st, err := n.Net.Forward(b)
	n.forwards++
	return n.fake(b, st, true), err
}

// permOrder visits a fixed random permutation of the data each epoch (so
// that positions are not dataset indices) and remembers every recorded
// score by dataset index.
type permOrder struct {
	perm   []int
	scores map[int]float32
}

func newPermOrder(n int) *permOrder {
	return &permOrder{perm: rand.New(rand.NewPCG(7, 7)).Perm(n), scores: map[int]float32{}}
}

func (o *permOrder) Plan(int) (sampler.Plan, error) {
	return sampler.Plan{Indices: slices.Clone(o.perm)}, nil
}
func (o *permOrder) Record(idx []int, s []float32) error {
	for i, k := range idx {
		o.scores[k] = s[i]
	}
	return nil
}
func (o *permOrder) EndEpoch(int) error { return nil }

// checkRecorded requires every dataset index in idx to have been recorded
// with fakeLoss of its own image.
func checkRecorded(t *testing.T, train *data.Set, scores map[int]float32, idx []int) {
	t.Helper()
	for _, k := range idx {
		got, ok := scores[k]
		if !ok || got != fakeLoss(train.Image(k)) {
			t.Fatalf("dataset index %d: recorded %v (%v), its loss is %v", k, got, ok, fakeLoss(train.Image(k)))
		}
	}
}

// TestSelectiveBackpropBookkeeping trains one epoch of Selective-Backprop
// over a permuted order with losses that follow each image, and replays
// the selector on the same losses: the samples trained on are exactly
// those it selects, in order, B per step with a last padded step; every
// candidate's loss is recorded at its dataset index; forward and backward
// samples are counted.
func TestSelectiveBackpropBookkeeping(t *testing.T) {
	train, test := subset(t, 300)
	const B = 32
	net := &contentNet{Net: newNet(t, "mlp", 0.01, B)}
	cands := newPermOrder(train.N)
	sel, _ := sampler.NewSelectiveBackprop(2, 64, 5)
	o, err := training.NewSelectiveOrder(cands, sel)
	if err != nil {
		t.Fatal(err)
	}
	var trained [][]int
	tr := &training.Trainer{Net: net, Train: train, Test: test, Order: o, Epochs: 1, EvalEvery: B,
		OnStep: func(_ int, idx []int, l []float32) {
			trained = append(trained, slices.Clone(idx))
			for i, k := range idx {
				if l[i] != fakeLoss(train.Image(k)) {
					t.Fatalf("step loss of sample %d is %v, its image's %v", k, l[i], fakeLoss(train.Image(k)))
				}
			}
		}}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkRecorded(t, train, cands.scores, cands.perm)

	replay, _ := sampler.NewSelectiveBackprop(2, 64, 5)
	var want []int
	chosen := make([]bool, B)
	for pos := 0; pos < train.N; pos += B {
		c := cands.perm[pos:min(pos+B, train.N)]
		losses := make([]float32, len(c))
		for j, k := range c {
			losses[j] = fakeLoss(train.Image(k))
		}
		if _, err := replay.Select(losses, chosen); err != nil {
			t.Fatal(err)
		}
		for j, k := range c {
			if chosen[j] {
				want = append(want, k)
			}
		}
	}
	if len(want) == 0 || len(want) == train.N {
		t.Fatalf("%d of %d selected: the test needs a selection", len(want), train.N)
	}
	if got := slices.Concat(trained...); !slices.Equal(got, want) {
		t.Fatalf("trained on %v,\nthe selector chose %v", got, want)
	}
	steps := (len(want) + B - 1) / B
	if len(trained) != steps || len(trained[steps-1]) != len(want)-(steps-1)*B || net.forwards != (train.N+B-1)/B {
		t.Fatalf("%d steps (last %d rows), %d forwards, for %d selected", len(trained), len(trained[len(trained)-1]), net.forwards, len(want))
	}
	for s, w := range net.stepW { // plain 1/B weights, padding 0
		for i, x := range w {
			if want := float32(1) / B; (i < len(trained[s]) && x != want) || (i >= len(trained[s]) && x != 0) {
				t.Fatalf("step %d row %d: weight %v", s, i, x)
			}
		}
	}
	m := tr.History[0]
	sel64 := int64(len(want))
	if m.SamplesSeen != sel64 || m.BackwardSamples != sel64 || m.EpochSamples != len(want) || m.ForwardSamples != int64(train.N)+sel64 {
		t.Fatalf("metrics %+v, want %d backward and %d forward samples", m, sel64, int64(train.N)+sel64)
	}
	for k, e := range tr.Evals {
		if e.BackwardSamples != e.SamplesSeen || e.ForwardSamples <= e.SamplesSeen || e.GridSamples != int64(B*(k+1)) {
			t.Fatalf("evaluation %d: %+v", k, e)
		}
	}
}

// TestKFBookkeeping trains one epoch of KF importance sampling (on from
// the first step) over a permuted order with norms that follow each
// image, and replays the sampler on the same scores: each step trains on
// the dataset indices of the positions it draws, with its weights (scaled
// by b/B in the short last group), and the counts add up.
func TestKFBookkeeping(t *testing.T) {
	train, test := subset(t, 300) // groups of 96: 3 full, then 12
	const B, k = 32, 3
	cfg := sampler.KFConfig{Presample: k, Threshold: 0.5, Momentum: 0}
	net := &contentNet{Net: newNet(t, "mlp", 0.01, B)}
	cands := newPermOrder(train.N)
	kf, _ := sampler.NewKF(cfg, 11)
	o, _ := training.NewKFOrder(cands, kf)
	tr := &training.Trainer{Net: net, Train: train, Test: test, Order: o, Epochs: 1}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkRecorded(t, train, cands.scores, cands.perm)
	replay, _ := sampler.NewKF(cfg, 11)
	pos, w := make([]int, B), make([]float64, B)
	step, backward := 0, 0
	for at := 0; at < train.N; at, step = at+k*B, step+1 {
		c := cands.perm[at:min(at+k*B, train.N)]
		g := make([]float32, len(c))
		for j, i := range c {
			g[j] = fakeNorm(train.Image(i))
		}
		b := min(B, len(c))
		on, err := replay.Choose(g, b, pos, w)
		if err != nil || !on {
			t.Fatalf("replay: on %v, %v", on, err)
		}
		if step >= len(net.stepIdx) {
			t.Fatalf("%d steps, want more", len(net.stepIdx))
		}
		got, gotW := net.stepIdx[step], net.stepW[step]
		for j := range b {
			if got[j] != c[pos[j]] || gotW[j] != float32(w[j]*float64(b)/B) {
				t.Fatalf("step %d row %d: sample %d weight %v, want sample %d (position %d) weight %v",
					step, j, got[j], gotW[j], c[pos[j]], pos[j], w[j]*float64(b)/B)
			}
		}
		backward += b
	}
	if len(net.stepIdx) != step || net.forwards != 3*k+1 {
		t.Fatalf("%d steps and %d forward passes, want %d and %d", len(net.stepIdx), net.forwards, step, 3*k+1)
	}
	m := tr.History[0]
	if m.BackwardSamples != int64(backward) || m.EpochSamples != backward || m.ForwardSamples != int64(train.N+backward) {
		t.Fatalf("metrics %+v, want %d backward, %d forward", m, backward, train.N+backward)
	}
}

// sameHistory requires two runs to have the same losses and accuracies
// epoch by epoch (bit for bit).
func sameHistory(t *testing.T, what string, a, b []training.EpochMetrics) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d epochs vs %d", what, len(a), len(b))
	}
	for e := range a {
		x, y := a[e], b[e]
		if x.TrainLoss != y.TrainLoss || x.TestLoss != y.TestLoss || x.TestAcc != y.TestAcc || x.SamplesSeen != y.SamplesSeen {
			t.Fatalf("%s, epoch %d: %+v vs %+v", what, e+1, x, y)
		}
	}
}

// TestPeersOffModeIsUniform: Selective-Backprop with β = 0 selects every
// candidate, and KF with k = 1 below its threshold trains on each group as
// it comes, so both train exactly as uniform with the same shuffles, and
// only forward more.
func TestPeersOffModeIsUniform(t *testing.T) {
	train, test := subset(t, 256)
	const seed = 4
	run := func(o sampler.Order) []training.EpochMetrics {
		tr := &training.Trainer{Net: newNet(t, "mlp", 0.05, 64), Train: train, Test: test, Order: o, Epochs: 2}
		if err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		return tr.History
	}
	u, _ := sampler.NewShuffled(train.N, seed)
	uniform := run(u)
	c1, _ := sampler.NewShuffled(train.N, seed)
	sel, _ := sampler.NewSelectiveBackprop(0, 1024, 1)
	sb, _ := training.NewSelectiveOrder(c1, sel)
	c2, _ := sampler.NewShuffled(train.N, seed)
	kf, _ := sampler.NewKF(sampler.KFConfig{Presample: 1, Threshold: 1e9, Momentum: 0.9}, 1)
	kfo, _ := training.NewKFOrder(c2, kf)
	for name, o := range map[string]sampler.Order{"selective-backprop β=0": sb, "kf-is off": kfo} {
		h := run(o)
		sameHistory(t, name, uniform, h)
		if last := h[1]; last.ForwardSamples != 2*last.BackwardSamples || last.BackwardSamples != 2*256 {
			t.Fatalf("%s: forward %d, backward %d", name, last.ForwardSamples, last.BackwardSamples)
		}
	}
	if kf.On() {
		t.Fatal("kf switched on")
	}
}

// newKakurenbo returns a trainer of KAKURENBO (F = 0.3) over 200 samples
// whose losses follow their images, all confident; bump makes Forward
// report a loss for some dataset indices. plans collects each epoch's
// trained samples.
func newKakurenbo(t *testing.T, train, test *data.Set, bump map[int]float32, plans map[int][]int) (*training.Trainer, *sampler.Kakurenbo) {
	o, err := sampler.NewKakurenbo(train.N, sampler.KakurenboConfig{BatchSize: 32, MaxHide: 0.3, Confidence: 0.7}, 3)
	if err != nil {
		t.Fatal(err)
	}
	net := &contentNet{Net: newNet(t, "mlp", 0.01, 32), bump: bump}
	tr := &training.Trainer{Net: net, Train: train, Test: test, Order: o, Epochs: 3,
		OnStep: func(epoch int, idx []int, _ []float32) { plans[epoch] = append(plans[epoch], idx...) }}
	return tr, o
}

// TestKakurenboRefreshMovesBack: the sample with the lowest loss is hidden
// in epoch 2; the refresh at the end of epoch 2 finds it no longer
// confident (Forward reports a high loss), so epoch 3 trains on it again,
// while without the bump it stays hidden. The refresh's rows count as
// forward samples.
func TestKakurenboRefreshMovesBack(t *testing.T) {
	train, test := subset(t, 200)
	lowest := 0
	for k := range train.N {
		if fakeLoss(train.Image(k)) < fakeLoss(train.Image(lowest)) {
			lowest = k
		}
	}
	for _, bumped := range []bool{true, false} {
		bump := map[int]float32{}
		if bumped {
			bump[lowest] = 5
		}
		plans := map[int][]int{}
		tr, o := newKakurenbo(t, train, test, bump, plans)
		if err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		H := 60 // ⌊0.3·200⌋
		if len(plans[1]) != 200 || len(plans[2]) != 200-H || slices.Contains(plans[2], lowest) {
			t.Fatalf("epoch 1 trains %d, epoch 2 %d samples (lowest-loss sample %d in it: %v)", len(plans[1]), len(plans[2]), lowest, slices.Contains(plans[2], lowest))
		}
		if got := slices.Contains(plans[3], lowest); got != bumped {
			t.Fatalf("bumped %v: sample %d trained on in epoch 3: %v", bumped, lowest, got)
		}
		if s, _ := o.Score(lowest); s != fakeLoss(train.Image(lowest)) { // epoch 3's: trained on, or refreshed again
			t.Fatalf("sample %d's last loss is %v", lowest, s)
		}
		h := tr.History
		for e, m := range h {
			hidden := int64(0)
			if e > 0 {
				hidden = int64(H) * int64(e)
			}
			if m.ForwardSamples != m.BackwardSamples+hidden || m.EpochSamples != len(plans[e+1]) {
				t.Fatalf("epoch %d: forward %d, backward %d, want %d hidden refreshed", e+1, m.ForwardSamples, m.BackwardSamples, hidden)
			}
		}
	}
}

// TestKakurenboResumesInsideEpoch interrupts epoch 2 (samples hidden)
// after 3 steps, resumes from the checkpoint, and expects the run, the
// refresh and the next epoch's hidden set of an uninterrupted run.
func TestKakurenboResumesInsideEpoch(t *testing.T) {
	train, test := subset(t, 200)
	bump := map[int]float32{}
	for k := range 40 {
		bump[k] = 2 // refreshed, not confident any more
	}
	refPlans := map[int][]int{}
	ref, refOrder := newKakurenbo(t, train, test, bump, refPlans)
	if err := ref.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	plans := map[int][]int{}
	a, _ := newKakurenbo(t, train, test, bump, plans)
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	inner := a.OnStep
	a.OnStep = func(epoch int, idx []int, l []float32) {
		inner(epoch, idx, l)
		if epoch == 2 {
			if steps++; steps == 3 {
				cancel()
			}
		}
	}
	var ie *training.InterruptedError
	if err := a.Run(ctx); !errors.As(err, &ie) {
		t.Fatalf("err = %v, want an interruption", err)
	}
	ck, err := a.Snapshot("mlp", nil, &ie.Partial)
	if err != nil {
		t.Fatal(err)
	}
	b, bOrder := newKakurenbo(t, train, test, bump, plans)
	if err := b.Restore(ck); err != nil {
		t.Fatal(err)
	}
	if err := b.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameHistory(t, "resumed", ref.History, b.History)
	for e := 1; e <= 3; e++ {
		if !slices.Equal(refPlans[e], plans[e]) {
			t.Fatalf("epoch %d trained on other samples after resuming", e)
		}
	}
	for k := range train.N {
		x, _ := refOrder.Score(k)
		y, _ := bOrder.Score(k)
		if x != y {
			t.Fatalf("sample %d: loss %v after resuming, %v without interruption", k, y, x)
		}
	}
	if r, g := ref.History[2].ForwardSamples, b.History[2].ForwardSamples; r != g {
		t.Fatalf("forward samples %d after resuming, %d without", g, r)
	}
}

// peerOrders returns a Selective-Backprop and a KF order over n samples.
func peerOrders(t *testing.T, n int) map[string]func() sampler.Order {
	return map[string]func() sampler.Order{
		"selective-backprop": func() sampler.Order {
			c, _ := sampler.NewShuffled(n, 2)
			s, _ := sampler.NewSelectiveBackprop(1, 100, 3)
			o, _ := training.NewSelectiveOrder(c, s)
			return o
		},
		"kf-is": func() sampler.Order {
			c, _ := sampler.NewShuffled(n, 2)
			k, _ := sampler.NewKF(sampler.KFConfig{Presample: 2, Threshold: 1.05, Momentum: 0.5}, 3)
			o, _ := training.NewKFOrder(c, k)
			return o
		},
	}
}

// TestPeersResumeAtEpochEnds: a Selective-Backprop or KF run checkpointed
// after epoch 1 and resumed trains epochs 2 and 3 as the uninterrupted
// run (the selector's and sampler's state travel in the order's state).
func TestPeersResumeAtEpochEnds(t *testing.T) {
	train, test := subset(t, 256)
	for name, newOrder := range peerOrders(t, train.N) {
		newTrainer := func() *training.Trainer {
			return &training.Trainer{Net: newNet(t, "mlp", 0.05, 32), Train: train, Test: test, Order: newOrder(), Epochs: 3, EvalEvery: 96}
		}
		ref := newTrainer()
		if err := ref.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		a := newTrainer()
		a.Epochs = 1
		if err := a.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		ck, err := a.Snapshot("mlp", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		b := newTrainer()
		if err := b.Restore(ck); err != nil {
			t.Fatal(err)
		}
		if err := b.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		sameHistory(t, name, ref.History, b.History)
		if r, g := ref.History[2], b.History[2]; r.ForwardSamples != g.ForwardSamples || len(b.Evals) != len(ref.Evals) {
			t.Fatalf("%s: forward %d vs %d, %d vs %d evaluations", name, g.ForwardSamples, r.ForwardSamples, len(b.Evals), len(ref.Evals))
		}
	}
}

// TestPeersAbandonInsideEpoch cancels epoch 2 of Selective-Backprop and
// KF after a few steps: Run returns an AbandonedError wrapping the
// context's error (not an InterruptedError, which would be resumed
// wrongly), the trainer is rolled back to the end of epoch 1 (its grid
// evaluations of epoch 2 dropped), and running on gives the uninterrupted
// run.
func TestPeersAbandonInsideEpoch(t *testing.T) {
	train, test := subset(t, 256)
	for name, newOrder := range peerOrders(t, train.N) {
		newTrainer := func() *training.Trainer {
			return &training.Trainer{Net: newNet(t, "mlp", 0.05, 32), Train: train, Test: test, Order: newOrder(), Epochs: 3, EvalEvery: 32}
		}
		ref := newTrainer()
		if err := ref.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		a := newTrainer()
		ctx, cancel := context.WithCancel(context.Background())
		steps := 0
		a.OnStep = func(epoch int, _ []int, _ []float32) {
			if epoch == 2 {
				if steps++; steps == 2 {
					cancel()
				}
			}
		}
		err := a.Run(ctx)
		var ab *training.AbandonedError
		var ie *training.InterruptedError
		if !errors.As(err, &ab) || errors.As(err, &ie) || !errors.Is(err, context.Canceled) || ab.Epoch != 2 {
			t.Fatalf("%s: err = %v, want an abandoned epoch 2", name, err)
		}
		if a.Done() != 1 || len(a.History) != 1 || len(a.Evals) != len(ref.Evals)-countEpoch(ref.Evals, 2)-countEpoch(ref.Evals, 3) {
			t.Fatalf("%s: after abandoning: %d epochs done, %d evaluations", name, a.Done(), len(a.Evals))
		}
		a.OnStep = nil
		if err := a.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		sameHistory(t, name+" after abandoning", ref.History, a.History)
		for k := range ref.Evals {
			if *ref.Evals[k].TestAcc != *a.Evals[k].TestAcc || ref.Evals[k].ForwardSamples != a.Evals[k].ForwardSamples {
				t.Fatalf("%s: evaluation %d differs", name, k)
			}
		}
	}
}

func countEpoch(evals []training.GridEval, epoch int) int {
	n := 0
	for _, e := range evals {
		if e.Epoch == epoch {
			n++
		}
	}
	return n
}

// TestPeerStateRejectsOthers: a SelectiveOrder refuses a KF state and
// truncated bytes, and keeps its selector.
func TestPeerStateRejectsOthers(t *testing.T) {
	orders := peerOrders(t, 10)
	sb, kf := orders["selective-backprop"]().(*training.SelectiveOrder), orders["kf-is"]()
	st, err := kf.(sampler.Stateful).State()
	if err != nil {
		t.Fatal(err)
	}
	sel := sb.Selector()
	if err := sb.Restore(st); !errors.Is(err, sampler.ErrStateMismatch) {
		t.Fatalf("restoring a KF state: %v", err)
	}
	own, _ := sb.State()
	for _, bad := range [][]byte{nil, own[:len(own)-1], append(slices.Clone(own), 0)} {
		if err := sb.Restore(bad); !errors.Is(err, sampler.ErrCorruptState) {
			t.Fatalf("restoring %d bytes: %v", len(bad), err)
		}
	}
	if sb.Selector() != sel {
		t.Fatal("a failed Restore replaced the selector")
	}
	if err := sb.Restore(own); err != nil {
		t.Fatal(err)
	}
}
