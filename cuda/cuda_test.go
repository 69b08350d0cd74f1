//go:build !cuda

package cuda

import (
	"errors"
	"math"
	"testing"
)

// TestNotCompiled checks that every entry point of the default build
// returns ErrNotCompiled instead of panicking.
func TestNotCompiled(t *testing.T) {
	if Compiled {
		t.Fatal("Compiled is true in a build without the cuda tag")
	}
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrNotCompiled) {
			t.Errorf("%s: got %v, want ErrNotCompiled", what, err)
		}
	}
	_, err := Devices()
	check("Devices", err)
	_, err = DriverVersion()
	check("DriverVersion", err)
	c, err := NewContext(0)
	check("NewContext", err)
	if c != nil {
		t.Error("NewContext returned a context")
	}
	var ctx *Context
	check("Synchronize", ctx.Synchronize())
	_, _, err = ctx.MemInfo()
	check("MemInfo", err)
	check("Close", ctx.Close())
	_, err = ctx.NewStream()
	check("NewStream", err)
	_, err = ctx.NewEvent()
	check("NewEvent", err)
	_, err = ctx.LoadModule("m", "")
	check("LoadModule", err)
	_, err = Alloc[float32](ctx, 4)
	check("Alloc", err)
	var s *Stream
	check("Stream.Synchronize", s.Synchronize())
	check("Stream.Close", s.Close())
	var e *Event
	check("Event.Record", e.Record(nil))
	check("Event.Synchronize", e.Synchronize())
	check("Event.Close", e.Close())
	_, err = Elapsed(e, e)
	check("Elapsed", err)
	var m *Module
	_, err = m.Function("f")
	check("Function", err)
	check("Module.Close", m.Close())
	var f *Function
	check("Launch", f.Launch(Dim3{X: 1}, Dim3{X: 1}, 0, nil, Int(1)))
	var b *Float32s
	check("Free", b.Free())
	check("CopyFrom", b.CopyFrom(nil, []float32{1}))
	check("CopyTo", b.CopyTo(nil, []float32{1}))
	check("CopyFromDevice", b.CopyFromDevice(nil, nil))
	check("Fill", b.Fill(nil, 0))
}

// TestArgs checks the 8-byte encodings of kernel parameters.
func TestArgs(t *testing.T) {
	if Int(-1) != Arg(math.MaxUint64) || Int(7) != 7 {
		t.Errorf("Int: %#x %#x", uint64(Int(-1)), uint64(Int(7)))
	}
	if Float(1.5) != Arg(math.Float64bits(1.5)) {
		t.Error("Float(1.5) is not the bits of a double")
	}
	var b *Float32s
	if Ptr(nil) != 0 || Ptr(b) != 0 {
		t.Error("a nil pointer is not 0")
	}
	if b.Len() != 0 {
		t.Error("nil buffer has a length")
	}
	if _, err := b.Slice(0, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Slice of nil: %v", err)
	}
	d := Dim3{X: 3}.norm()
	if d != (Dim3{3, 1, 1}) {
		t.Errorf("norm: %+v", d)
	}
	info := DeviceInfo{MemClockKHz: 2619000, BusWidth: 5120}
	if bw := info.PeakBandwidth(); math.Abs(bw-3.352e12) > 1e10 {
		t.Errorf("PeakBandwidth = %g", bw)
	}
}

// TestSlice checks views' bounds and addresses without a device.
func TestSlice(t *testing.T) {
	b := &Float32s{ptr: 4096, n: 10}
	v, err := b.Slice(2, 5)
	if err != nil || v.DevicePtr() != 4096+8 || v.Len() != 5 || !v.view {
		t.Fatalf("Slice(2, 5) = %+v, %v", v, err)
	}
	for _, r := range [][2]int{{-1, 1}, {0, 11}, {11, 0}, {5, 6}, {3, -1}} {
		if _, err := b.Slice(r[0], r[1]); err == nil {
			t.Errorf("Slice(%d, %d) accepted", r[0], r[1])
		}
	}
	if err := b.checkHost("x", 11); err == nil {
		t.Error("11 host elements into 10 accepted")
	}
}
