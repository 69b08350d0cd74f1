package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/sgds/sgds/internal/atomicfile"
	"github.com/sgds/sgds/sampler"
)

// ErrBadCheckpoint is wrapped by every error about an unreadable, corrupted
// or mismatched checkpoint.
var ErrBadCheckpoint = errors.New("bad checkpoint")

// Stateful orders can save and restore their state (scores, kept set,
// generator) so that a resumed run draws the same samples.
type Stateful interface {
	State() ([]byte, error)
	Restore([]byte) error
}

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
	Partial *PartialEpoch   `json:"partial,omitempty"`
}

// Checkpoint is everything needed to continue a run: parameters, momentum,
// the order's state, the metrics so far and, after an interrupt, the
// position inside the interrupted epoch.
type Checkpoint struct {
	Meta       CheckpointMeta
	Params     []Param
	Velocity   []Param
	OrderState []byte
}

const (
	checkpointMagic   = "SGDSCKPT"
	checkpointVersion = 1
	maxCheckpointLen  = 1 << 31
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
	for _, ps := range [][]Param{c.Params, c.Velocity} {
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

func (r *ckReader) params(what string) []Param {
	n := r.u32(what)
	if n > 1024 {
		r.fail("%s: %d tensors", what, n)
	}
	var ps []Param
	for i := 0; i < n && r.err == nil; i++ {
		p := Param{Name: string(r.bytes(what + " name"))}
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
	if string(data[:len(checkpointMagic)]) != checkpointMagic {
		return nil, fmt.Errorf("%w: not an sgds checkpoint (wrong magic)", ErrBadCheckpoint)
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if want := sha256.Sum256(body); !bytes.Equal(want[:], sum) {
		return nil, fmt.Errorf("%w: checksum mismatch (the file is corrupted or truncated)", ErrBadCheckpoint)
	}
	r := &ckReader{b: body[len(checkpointMagic):]}
	if v := r.u32("version"); v != checkpointVersion {
		return nil, fmt.Errorf("%w: version %d, this sgds reads version %d", ErrBadCheckpoint, v, checkpointVersion)
	}
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
	if r.err != nil {
		return nil, r.err
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

// LoadCheckpoint reads and verifies a checkpoint file.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCheckpoint, err)
	}
	if st.Size() > maxCheckpointLen {
		return nil, fmt.Errorf("%w: %s is %d bytes", ErrBadCheckpoint, path, st.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCheckpoint, err)
	}
	c, err := UnmarshalCheckpoint(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
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
		Meta:     CheckpointMeta{Model: model, Config: config, History: t.History, Hits: t.Hits, Partial: partial},
		Params:   params,
		Velocity: velocity,
	}
	if s, ok := t.Order.(Stateful); ok {
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
	if s, ok := t.Order.(Stateful); ok {
		if err := s.Restore(c.OrderState); err != nil {
			return fmt.Errorf("%w: order state: %w", ErrBadCheckpoint, err)
		}
	}
	t.Resume(c.Meta.History, c.Meta.Hits)
	if p := c.Meta.Partial; p != nil {
		if p.Epoch != t.done+1 || p.Pos < 0 || p.Pos > len(p.Plan.Indices) ||
			(p.Plan.Weights != nil && len(p.Plan.Weights) != len(p.Plan.Indices)) {
			return fmt.Errorf("%w: inconsistent interrupted epoch %d at position %d", ErrBadCheckpoint, p.Epoch, p.Pos)
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
