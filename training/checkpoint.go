package training

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/sgds/sgds/engine"

	"github.com/sgds/sgds/internal/atomicfile"
	"github.com/sgds/sgds/internal/limits"
	"github.com/sgds/sgds/internal/safefile"
	"github.com/sgds/sgds/sampler"
)

// ErrBadCheckpoint is wrapped by every error about an unreadable, corrupted
// or mismatched checkpoint.
var ErrBadCheckpoint = errors.New("bad checkpoint")

// PartialEpoch is the state of an epoch interrupted between two steps.
type PartialEpoch struct {
	Epoch   int          `json:"epoch"`
	Plan    sampler.Plan `json:"plan"`
	Pos     int          `json:"pos"`      // plan positions done
	Steps   int          `json:"steps"`    // steps done
	LossSum float64      `json:"loss_sum"` // Σ L_i over the positions done
	Seconds float64      `json:"seconds"`  // training seconds of the epoch so far
	// Stats are the order's statistics of the plan, if it reports them.
	Stats *sampler.Stats `json:"stats,omitempty"`
}

// CheckpointMeta is the JSON part of a checkpoint.
type CheckpointMeta struct {
	Version int             `json:"version"`
	Model   string          `json:"model"`
	Config  json.RawMessage `json:"config"` // the run's configuration, as the command line recorded it
	History []EpochMetrics  `json:"history"`
	Hits    []TargetHit     `json:"hits"`
	// Evals are the evaluations on the grid so far (Trainer.Evals).
	Evals   []GridEval    `json:"evals,omitempty"`
	Partial *PartialEpoch `json:"partial,omitempty"`
}

// Checkpoint is everything needed to continue a run: parameters, momentum,
// the order's state, the metrics so far and, after an interrupt, the
// position inside the interrupted epoch.
type Checkpoint struct {
	Meta       CheckpointMeta
	Params     []engine.Param
	Velocity   []engine.Param
	OrderState []byte
}

// CheckpointVersion is the format version this sgds writes and reads.
// Version 2 records the SGD-S settings of its configuration with
// snake_case keys and the grid evaluations; a version 1 checkpoint's
// PascalCase settings would silently read as defaults, so it is refused.
const CheckpointVersion = 2

const (
	checkpointMagic   = "SGDSCKPT"
	checkpointVersion = CheckpointVersion
	// MaxCheckpointBytes bounds the checkpoint file that is read. A real one
	// is a few MB (the parameters and momentum of the MLP are 1.6 MB; the
	// SGD-S order's state and an interrupted epoch's plan over 60,000
	// samples about 1.8 MB).
	MaxCheckpointBytes = 256 << 20
)

// MarshalBinary encodes c as: magic, version, then length-prefixed JSON
// meta, parameters, velocity and order state, then the SHA-256 of
// everything before it.
func (c *Checkpoint) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(checkpointMagic)
	binary.Write(&b, binary.LittleEndian, uint32(checkpointVersion))
	c.Meta.Version = checkpointVersion
	meta, err := json.Marshal(c.Meta)
	if err != nil {
		return nil, err
	}
	writeBytes(&b, meta)
	for _, ps := range [][]engine.Param{c.Params, c.Velocity} {
		binary.Write(&b, binary.LittleEndian, uint32(len(ps)))
		for _, p := range ps {
			writeBytes(&b, []byte(p.Name))
			binary.Write(&b, binary.LittleEndian, uint32(len(p.Shape)))
			for _, d := range p.Shape {
				binary.Write(&b, binary.LittleEndian, uint32(d))
			}
			binary.Write(&b, binary.LittleEndian, uint32(len(p.Data)))
			binary.Write(&b, binary.LittleEndian, p.Data)
		}
	}
	writeBytes(&b, c.OrderState)
	sum := sha256.Sum256(b.Bytes())
	b.Write(sum[:])
	return b.Bytes(), nil
}

func writeBytes(b *bytes.Buffer, p []byte) {
	binary.Write(b, binary.LittleEndian, uint32(len(p)))
	b.Write(p)
}

// ckReader decodes with bounds checks; the first error sticks.
type ckReader struct {
	b   []byte
	err error
}

func (r *ckReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrBadCheckpoint, fmt.Sprintf(format, args...))
	}
}

func (r *ckReader) u32(what string) int {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 4 {
		r.fail("truncated in %s", what)
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return int(v)
}

func (r *ckReader) bytes(what string) []byte {
	n := r.u32(what)
	if r.err != nil {
		return nil
	}
	if n > len(r.b) {
		r.fail("%s announces %d bytes, %d left", what, n, len(r.b))
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *ckReader) params(what string) []engine.Param {
	n := r.u32(what)
	if n > 1024 {
		r.fail("%s: %d tensors", what, n)
	}
	var ps []engine.Param
	for i := 0; i < n && r.err == nil; i++ {
		p := engine.Param{Name: string(r.bytes(what + " name"))}
		dims := r.u32(what + " rank")
		if dims > 8 {
			r.fail("%s %s: rank %d", what, p.Name, dims)
		}
		size := 1
		for j := 0; j < dims && r.err == nil; j++ {
			d := r.u32(what + " shape")
			p.Shape = append(p.Shape, d)
			size *= max(d, 1)
		}
		count := r.u32(what + " size")
		if r.err == nil && (count != size || 4*count > len(r.b)) {
			r.fail("%s %s: %d values for shape %v, %d bytes left", what, p.Name, count, p.Shape, len(r.b))
		}
		if r.err != nil {
			break
		}
		p.Data = make([]float32, count)
		for j := range p.Data {
			p.Data[j] = math.Float32frombits(binary.LittleEndian.Uint32(r.b[4*j:]))
		}
		r.b = r.b[4*count:]
		ps = append(ps, p)
	}
	return ps
}

// UnmarshalCheckpoint decodes and verifies a checkpoint.
func UnmarshalCheckpoint(data []byte) (*Checkpoint, error) {
	if len(data) < len(checkpointMagic)+4+sha256.Size {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrBadCheckpoint, len(data))
	}
	if err := checkHead(data); err != nil {
		return nil, err
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if want := sha256.Sum256(body); !bytes.Equal(want[:], sum) {
		return nil, fmt.Errorf("%w: checksum mismatch (the file is corrupted or truncated)", ErrBadCheckpoint)
	}
	r := &ckReader{b: body[len(checkpointMagic)+4:]}
	c := &Checkpoint{}
	meta := r.bytes("meta")
	if r.err == nil {
		if err := json.Unmarshal(meta, &c.Meta); err != nil {
			r.fail("meta: %v", err)
		}
	}
	c.Params = r.params("parameters")
	c.Velocity = r.params("velocity")
	c.OrderState = r.bytes("order state")
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	if r.err == nil && c.Meta.Version != checkpointVersion {
		r.fail("meta: version %d in a version %d checkpoint", c.Meta.Version, checkpointVersion)
	}
	if r.err != nil {
		return nil, r.err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// CheckpointFile is the checkpoint's name inside a run folder.
const CheckpointFile = "checkpoint.bin"

// SaveCheckpoint writes c to path atomically (temp file, fsync, rename).
func SaveCheckpoint(path string, c *Checkpoint) error {
	b, err := c.MarshalBinary()
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b)
}

// LoadCheckpoint reads, verifies and validates a checkpoint file. The file
// must be a regular file (not a FIFO, a device or a link to one) of at most
// MaxCheckpointBytes; its magic number and version are checked on its
// first 12 bytes before the rest is read.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	head := make([]byte, len(checkpointMagic)+4)
	b, err := safefile.ReadHead(path, MaxCheckpointBytes, head, func(h []byte) error {
		if len(h) < len(head) {
			return fmt.Errorf("%w: %d bytes is too short", ErrBadCheckpoint, len(h))
		}
		return checkHead(h)
	})
	if err != nil {
		if errors.Is(err, ErrBadCheckpoint) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrBadCheckpoint, err)
	}
	c, err := UnmarshalCheckpoint(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// checkHead checks the magic number and version at the start of a
// checkpoint.
func checkHead(h []byte) error {
	if string(h[:len(checkpointMagic)]) != checkpointMagic {
		return fmt.Errorf("%w: not an sgds checkpoint (wrong magic)", ErrBadCheckpoint)
	}
	if v := binary.LittleEndian.Uint32(h[len(checkpointMagic):]); v != checkpointVersion {
		if v < checkpointVersion {
			return fmt.Errorf("%w: format version %d, written by an older sgds whose settings this one would misread; this sgds reads version %d: start the run again (sgds train --force)", ErrBadCheckpoint, v, checkpointVersion)
		}
		return fmt.Errorf("%w: format version %d, written by a newer sgds; this sgds reads version %d", ErrBadCheckpoint, v, checkpointVersion)
	}
	return nil
}

// Snapshot captures the trainer's state (after its last completed epoch,
// or inside an interrupted one when partial is non-nil).
func (t *Trainer) Snapshot(model string, config json.RawMessage, partial *PartialEpoch) (*Checkpoint, error) {
	params, err := t.Net.Params()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: reading the parameters: %w", err)
	}
	velocity, err := t.Net.Velocity()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: reading the momentum: %w", err)
	}
	c := &Checkpoint{
		Meta:     CheckpointMeta{Model: model, Config: config, History: t.History, Hits: t.Hits, Evals: t.Evals, Partial: partial},
		Params:   params,
		Velocity: velocity,
	}
	if s, ok := t.Order.(sampler.Stateful); ok {
		st, err := s.State()
		if err != nil {
			return nil, err
		}
		c.OrderState = st
	}
	return c, nil
}

// Restore loads a checkpoint into the trainer's Net and Order and makes the
// next Run continue where the checkpoint stopped.
func (t *Trainer) Restore(c *Checkpoint) error {
	if err := c.Validate(); err != nil {
		return err
	}
	spec := t.Net.Spec()
	if c.Meta.Model != spec.Name {
		return fmt.Errorf("%w: it holds model %s, this run trains %s", ErrBadCheckpoint, c.Meta.Model, spec.Name)
	}
	if err := t.Net.SetParams(c.Params); err != nil {
		return fmt.Errorf("%w: %w", ErrBadCheckpoint, err)
	}
	if err := t.Net.SetVelocity(c.Velocity); err != nil {
		return fmt.Errorf("%w: %w", ErrBadCheckpoint, err)
	}
	if s, ok := t.Order.(sampler.Stateful); ok {
		if err := s.Restore(c.OrderState); err != nil {
			return fmt.Errorf("%w: order state: %w", ErrBadCheckpoint, err)
		}
	}
	t.Resume(c.Meta.History, c.Meta.Hits)
	t.ResumeEvals(c.Meta.Evals)
	if p := c.Meta.Partial; p != nil {
		if p.Epoch != t.done+1 || p.Pos < 0 || p.Pos > len(p.Plan.Indices) ||
			(p.Plan.Weights != nil && len(p.Plan.Weights) != len(p.Plan.Indices)) {
			return fmt.Errorf("%w: inconsistent interrupted epoch %d at position %d", ErrBadCheckpoint, p.Epoch, p.Pos)
		}
		if B := t.Net.BatchSize(); p.Pos != p.Steps*B {
			return fmt.Errorf("%w: interrupted epoch %d: %d steps of batch %d do not reach position %d", ErrBadCheckpoint, p.Epoch, p.Steps, B, p.Pos)
		}
		for _, k := range p.Plan.Indices {
			if k < 0 || k >= t.Train.N {
				return fmt.Errorf("%w: sample index %d outside the %d training samples", ErrBadCheckpoint, k, t.Train.N)
			}
		}
		cp := *p
		t.partial = &cp
	}
	return nil
}

// Bounds of the values a checkpoint may hold.
const (
	// maxLoss bounds a mean per-sample loss: every loss the trainer adds
	// is a finite float32 (it stops at the first that is not), so a mean
	// is at most MaxFloat32 and a sum over n samples n·MaxFloat32.
	maxLoss = math.MaxFloat32
	// maxSeconds bounds training and evaluation times (about 31 years).
	maxSeconds = 1e9
)

// ckField builds the error of an invalid field.
func ckField(field string, format string, args ...any) error {
	return fmt.Errorf("%w: %s %s", ErrBadCheckpoint, field, fmt.Sprintf(format, args...))
}

// numField is a number of a checkpoint that must lie in [0, max].
type numField struct {
	field  string
	x, max float64
}

// checkNumber requires x finite and in [0, hi].
func checkNumber(field string, x, hi float64) error {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return ckField(field, "is %v", x)
	}
	if x < 0 || x > hi {
		return ckField(field, "is %v, want a value in [0, %g]", x, hi)
	}
	return nil
}

// checkTensors requires ps to be the parameters of model m with finite
// values; what names them in errors ("parameters", "momentum").
func checkTensors(what string, m engine.ModelSpec, ps []engine.Param) error {
	if err := engine.CheckParams(m, ps); err != nil {
		return fmt.Errorf("%w: %s do not fit: %w", ErrBadCheckpoint, what, err)
	}
	for _, p := range ps {
		for i, v := range p.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return ckField(fmt.Sprintf("%s %s[%d]", what, p.Name, i), "is %v", v)
			}
		}
	}
	return nil
}

// Validate checks every field of c on its own (without the run's
// configuration, for which see CheckRun), and names the first invalid one:
//
//   - the model is known; parameters and momentum are its tensors, every
//     value finite;
//   - the history is epochs 1, 2, …, n with cumulative seconds and samples
//     that never decrease (samples grow by each epoch's samples), finite
//     non-negative losses and times, accuracies in [0, 1];
//   - each target hit is a target in (0, 1] reached at an epoch of the
//     history, with that epoch's seconds and samples;
//   - an interrupted epoch is the one after the history, at a position
//     inside its plan, with steps ≥ 0 (none only at position 0, at most
//     one per position), non-negative finite seconds and loss sum (at most
//     MaxFloat32 per sample done), indices ≥ 0, and finite non-negative
//     weights, one per index.
//
// UnmarshalCheckpoint and Restore call it.
func (c *Checkpoint) Validate() error {
	m, err := engine.LookupModel(c.Meta.Model)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadCheckpoint, err)
	}
	if err := checkTensors("parameters", m, c.Params); err != nil {
		return err
	}
	if err := checkTensors("momentum", m, c.Velocity); err != nil {
		return err
	}
	h := c.Meta.History
	var prevSeconds float64
	var prevSeen int64
	for i, e := range h {
		f := fmt.Sprintf("history[%d]", i)
		if e.Epoch != i+1 {
			return ckField(f+".epoch", "is %d, want %d (epochs 1, 2, … in order)", e.Epoch, i+1)
		}
		checks := []numField{
			{".train_loss", e.TrainLoss, maxLoss}, {".test_acc", e.TestAcc, 1}, {".test_loss", e.TestLoss, maxLoss},
			{".train_seconds", e.TrainSeconds, maxSeconds}, {".eval_seconds", e.EvalSeconds, maxSeconds},
		}
		if e.ValAcc != nil {
			checks = append(checks, numField{".val_acc", *e.ValAcc, 1})
		}
		if e.ValLoss != nil {
			checks = append(checks, numField{".val_loss", *e.ValLoss, maxLoss})
		}
		for _, k := range checks {
			if err := checkNumber(f+k.field, k.x, k.max); err != nil {
				return err
			}
		}
		if e.TrainSeconds < prevSeconds {
			return ckField(f+".train_seconds", "is %v, less than the %v before it", e.TrainSeconds, prevSeconds)
		}
		if e.EpochSamples < 0 || e.SamplesSeen != prevSeen+int64(e.EpochSamples) {
			return ckField(f+".samples_seen", "is %d after %d and an epoch of %d samples", e.SamplesSeen, prevSeen, e.EpochSamples)
		}
		if e.Kept != nil && *e.Kept < 0 {
			return ckField(f+".kept", "is %d", *e.Kept)
		}
		if e.Distinct != nil && (*e.Distinct < 0 || *e.Distinct > e.EpochSamples) {
			return ckField(f+".distinct", "is %d for %d samples", *e.Distinct, e.EpochSamples)
		}
		prevSeconds, prevSeen = e.TrainSeconds, e.SamplesSeen
	}
	last := len(h) // the last epoch an evaluation may belong to
	if c.Meta.Partial != nil {
		last++
	}
	var prev GridEval
	for i, e := range c.Meta.Evals {
		f := fmt.Sprintf("evals[%d]", i)
		switch {
		case e.GridSamples <= prev.GridSamples:
			return ckField(f+".grid_samples", "is %d after %d (grid points increase)", e.GridSamples, prev.GridSamples)
		case e.SamplesSeen < e.GridSamples || e.SamplesSeen < prev.SamplesSeen:
			return ckField(f+".samples_seen", "is %d at grid point %d after %d", e.SamplesSeen, e.GridSamples, prev.SamplesSeen)
		case e.Epoch < max(prev.Epoch, 1) || e.Epoch > last:
			return ckField(f+".epoch", "is %d, want one of epochs %d..%d", e.Epoch, max(prev.Epoch, 1), last)
		case e.ValAcc == nil && e.TestAcc == nil:
			return ckField(f, "has no accuracy")
		}
		checks := []numField{{".train_seconds", e.TrainSeconds, maxSeconds}, {".eval_seconds", e.EvalSeconds, maxSeconds}}
		for _, p := range []struct {
			name string
			x    *float64
			max  float64
		}{{".val_acc", e.ValAcc, 1}, {".val_loss", e.ValLoss, maxLoss}, {".test_acc", e.TestAcc, 1}, {".test_loss", e.TestLoss, maxLoss}} {
			if p.x != nil {
				checks = append(checks, numField{p.name, *p.x, p.max})
			}
		}
		for _, k := range checks {
			if err := checkNumber(f+k.field, k.x, k.max); err != nil {
				return err
			}
		}
		if e.TrainSeconds < prev.TrainSeconds {
			return ckField(f+".train_seconds", "is %v, less than the %v before it", e.TrainSeconds, prev.TrainSeconds)
		}
		prev = e
	}
	for i, hit := range c.Meta.Hits {
		f := fmt.Sprintf("hits[%d]", i)
		if !(hit.Target > 0 && hit.Target <= 1) {
			return ckField(f+".target", "is %v, want a value in (0, 1]", hit.Target)
		}
		for _, o := range c.Meta.Hits[:i] {
			if o.Target == hit.Target {
				return ckField(f+".target", "%v is recorded twice", hit.Target)
			}
		}
		if hit.Epoch < 1 || hit.Epoch > last {
			return ckField(f+".epoch", "is %d, the run has epochs 1..%d", hit.Epoch, last)
		}
		if err := checkNumber(f+".train_seconds", hit.TrainSeconds, maxSeconds); err != nil {
			return err
		}
		if hit.SamplesSeen < 0 || hit.GridSamples < 0 || hit.SamplesSeen < hit.GridSamples {
			return ckField(f, "at grid point %d says %d samples", hit.GridSamples, hit.SamplesSeen)
		}
		found := len(c.Meta.Evals) == 0 // without evaluations there is nothing to match
		for _, e := range c.Meta.Evals {
			if e.GridSamples == hit.GridSamples && e.SamplesSeen == hit.SamplesSeen && e.Epoch == hit.Epoch && e.TrainSeconds == hit.TrainSeconds {
				found = true
				break
			}
		}
		if !found {
			return ckField(f, "at epoch %d, grid point %d (%d samples, %v s) matches no evaluation of evals", hit.Epoch, hit.GridSamples, hit.SamplesSeen, hit.TrainSeconds)
		}
	}
	if p := c.Meta.Partial; p != nil {
		return p.validate(len(h) + 1)
	}
	return nil
}

// validate checks an interrupted epoch that must be epoch next.
func (p *PartialEpoch) validate(next int) error {
	n := len(p.Plan.Indices)
	switch {
	case p.Epoch != next:
		return ckField("partial.epoch", "is %d, the history ends at epoch %d", p.Epoch, next-1)
	case p.Pos < 0 || p.Pos > n:
		return ckField("partial.pos", "is %d, the plan has %d positions", p.Pos, n)
	case p.Steps < 0 || p.Steps > p.Pos || (p.Steps == 0) != (p.Pos == 0):
		return ckField("partial.steps", "is %d at position %d", p.Steps, p.Pos)
	}
	if err := checkNumber("partial.seconds", p.Seconds, maxSeconds); err != nil {
		return err
	}
	if err := checkNumber("partial.loss_sum", p.LossSum, float64(p.Pos)*maxLoss); err != nil {
		return err
	}
	for i, k := range p.Plan.Indices {
		if k < 0 {
			return ckField(fmt.Sprintf("partial.plan.indices[%d]", i), "is %d", k)
		}
	}
	if w := p.Plan.Weights; w != nil {
		if len(w) != n {
			return ckField("partial.plan.weights", "has %d values for %d indices", len(w), n)
		}
		for i, x := range w {
			if err := checkNumber(fmt.Sprintf("partial.plan.weights[%d]", i), x, math.MaxFloat64); err != nil {
				return err
			}
		}
	}
	if st := p.Stats; st != nil {
		switch {
		case st.Epoch != p.Epoch:
			return ckField("partial.stats.epoch", "is %d in epoch %d", st.Epoch, p.Epoch)
		case st.Drawn != n:
			return ckField("partial.stats.drawn", "is %d for a plan of %d", st.Drawn, n)
		case st.Kept < 0 || st.Unscored < 0 || st.Distinct < 0 || st.Distinct > st.Drawn:
			return ckField("partial.stats", "kept %d, unscored %d, distinct %d of %d drawn", st.Kept, st.Unscored, st.Distinct, st.Drawn)
		}
	}
	return nil
}

// CheckpointRun is the configuration a checkpoint was saved with, as its
// caller decoded it from Meta.Config.
type CheckpointRun struct {
	Epochs int // the number of epochs configured (before any new --epochs)
	Batch  int // the batch size
	TrainN int // the training samples of the run; 0 leaves plan indices unchecked
}

// CheckRun checks c against the configuration it was saved with, before
// anything is allocated for it: epochs ≥ 1 and no epoch of the history or
// the interrupted epoch beyond them; a batch ≥ 1 whose buffers fit the
// memory budget (internal/limits) and that explains the interrupted
// epoch's position (steps × batch); plan indices below TrainN.
func (c *Checkpoint) CheckRun(r CheckpointRun) error {
	if r.Epochs < 1 {
		return ckField("configuration", "has %d epochs", r.Epochs)
	}
	if n := len(c.Meta.History); n > r.Epochs {
		return ckField("history", "reaches epoch %d, the run is configured for %d", n, r.Epochs)
	}
	if r.Batch < 1 {
		return ckField("configuration", "has batch %d", r.Batch)
	}
	m, err := engine.LookupModel(c.Meta.Model)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadCheckpoint, err)
	}
	if err := limits.Check("checkpoint configuration: batch", int64(r.Batch), engine.BatchBytesPerSample(m)); err != nil {
		return fmt.Errorf("%w: %w", ErrBadCheckpoint, err)
	}
	if p := c.Meta.Partial; p != nil {
		if p.Epoch > r.Epochs {
			return ckField("partial.epoch", "is %d, the run is configured for %d", p.Epoch, r.Epochs)
		}
		if p.Pos != p.Steps*r.Batch {
			return ckField("partial.pos", "is %d after %d steps of batch %d", p.Pos, p.Steps, r.Batch)
		}
		if r.TrainN > 0 {
			for i, k := range p.Plan.Indices {
				if k >= r.TrainN {
					return ckField(fmt.Sprintf("partial.plan.indices[%d]", i), "is %d, outside the %d training samples", k, r.TrainN)
				}
			}
		}
	}
	return nil
}
