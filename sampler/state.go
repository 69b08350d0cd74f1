package sampler

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
)

// Saved states share one envelope:
//
//	magic "SGDS" | kind (1 byte) | version (1 byte) | payload | CRC-32 (IEEE, 4 bytes)
//
// All integers are little-endian; the CRC covers everything before it.
const (
	stateMagic   = "SGDS"
	stateVersion = 1
	stateHeader  = len(stateMagic) + 2
	stateTrailer = 4
)

// Kinds of saved state.
const (
	kindSequential      byte = 'Q'
	kindShuffled        byte = 'H'
	kindSchedule        byte = 'S'
	kindWithReplacement byte = 'W'
	kindRS2             byte = 'R'
	kindInfoBatch       byte = 'I'
	kindKakurenbo       byte = 'K'
	kindSelective       byte = 'B'
	kindKF              byte = 'F'
)

func kindName(k byte) string {
	switch k {
	case kindSequential:
		return "Sequential"
	case kindShuffled:
		return "Shuffled"
	case kindSchedule:
		return "Schedule"
	case kindWithReplacement:
		return "WithReplacement"
	case kindRS2:
		return "RS2"
	case kindInfoBatch:
		return "InfoBatch"
	case kindKakurenbo:
		return "Kakurenbo"
	case kindSelective:
		return "SelectiveBackprop"
	case kindKF:
		return "KF"
	}
	return fmt.Sprintf("unknown kind %q", k)
}

// encoder appends a state.
type encoder struct{ b []byte }

func newEncoder(kind byte, sizeHint int) *encoder {
	e := &encoder{b: make([]byte, 0, stateHeader+sizeHint+stateTrailer)}
	e.b = append(e.b, stateMagic...)
	e.b = append(e.b, kind, stateVersion)
	return e
}

func (e *encoder) u8(v byte)     { e.b = append(e.b, v) }
func (e *encoder) u32(v uint32)  { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64)  { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *encoder) f64(v float64) { e.u64(math.Float64bits(v)) }

// finish appends the checksum and returns the state.
func (e *encoder) finish() []byte {
	return binary.LittleEndian.AppendUint32(e.b, crc32.ChecksumIEEE(e.b))
}

// decoder reads a state's payload. The first short read sets err; later
// reads return zeros.
type decoder struct {
	b   []byte
	err error
}

// openState checks the envelope of data and returns a decoder of its
// payload.
func openState(data []byte, kind byte) (*decoder, error) {
	if len(data) < stateHeader+stateTrailer {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte envelope", ErrCorruptState, len(data), stateHeader+stateTrailer)
	}
	if string(data[:len(stateMagic)]) != stateMagic {
		return nil, fmt.Errorf("%w: not a sampler state (magic %q)", ErrCorruptState, data[:len(stateMagic)])
	}
	body := data[:len(data)-stateTrailer]
	if got, want := crc32.ChecksumIEEE(body), binary.LittleEndian.Uint32(data[len(body):]); got != want {
		return nil, fmt.Errorf("%w: checksum %08x, stored %08x", ErrCorruptState, got, want)
	}
	if v := data[len(stateMagic)+1]; v != stateVersion {
		return nil, fmt.Errorf("%w: version %d, this build reads version %d", ErrCorruptState, v, stateVersion)
	}
	if k := data[len(stateMagic)]; k != kind {
		return nil, fmt.Errorf("%w: state of a %s, not of a %s", ErrStateMismatch, kindName(k), kindName(kind))
	}
	return &decoder{b: body[stateHeader:]}, nil
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = fmt.Errorf("%w: truncated (%d bytes wanted, %d left)", ErrCorruptState, n, len(d.b))
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) u8() byte {
	if p := d.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if p := d.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if p := d.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (d *decoder) f64() float64 { return math.Float64frombits(d.u64()) }

// count reads a uint64 that must be at most limit.
func (d *decoder) count(what string, limit int) int {
	v := d.u64()
	if d.err == nil && v > uint64(limit) {
		d.err = fmt.Errorf("%w: %s %d exceeds %d", ErrCorruptState, what, v, limit)
	}
	return int(v)
}

// close reports the first error, or trailing bytes.
func (d *decoder) close() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", ErrCorruptState, len(d.b))
	}
	return d.err
}

// newSeededEncoder starts the state of an order over n samples drawn from
// seed: the envelope, N and the seed.
func newSeededEncoder(kind byte, n int, seed uint64, sizeHint int) *encoder {
	e := newEncoder(kind, 16+sizeHint)
	e.u64(uint64(n))
	e.u64(seed)
	return e
}

// openSeeded opens a state written by newSeededEncoder, checks that it was
// saved over have samples, and returns its decoder (positioned after the
// seed), N and the seed.
func openSeeded(data []byte, kind byte, have int) (d *decoder, n int, seed uint64, err error) {
	d, err = openState(data, kind)
	if err != nil {
		return nil, 0, 0, err
	}
	n = d.count("N", math.MaxInt32)
	if d.err == nil {
		if err := checkN(kind, n, have); err != nil {
			return nil, 0, 0, err
		}
	}
	return d, n, d.u64(), nil
}

// check records, as the decoder's first error, a decoded configuration
// that does not validate.
func (d *decoder) check(err error) {
	if d.err == nil && err != nil {
		d.err = fmt.Errorf("%w: %w", ErrCorruptState, err)
	}
}

// checkN reports a saved data set size that differs from the receiver's.
func checkN(kind byte, saved, have int) error {
	if saved != have {
		return fmt.Errorf("%w: %s state for N = %d, receiver has N = %d", ErrStateMismatch, kindName(kind), saved, have)
	}
	return nil
}
