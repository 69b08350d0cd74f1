//go:build cuda

package cuda

import (
	"errors"
	"math"
	"testing"
)

// Device tests of the binding: they need an NVIDIA GPU (gorgonia.org/cu
// exits the test binary at start-up without one), or the host stand-in
// (-tags cuda,sgdsfake).

func newCtx(t *testing.T) *Context {
	t.Helper()
	c, err := NewContext(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestDevices(t *testing.T) {
	devs, err := Devices()
	if err != nil || len(devs) == 0 {
		t.Fatalf("Devices() = %v, %v", devs, err)
	}
	for _, d := range devs {
		t.Logf("%d: %s, %.1f GiB, compute %d.%d, %d SMs, peak %.0f GB/s", d.Ordinal, d.Name, float64(d.TotalMem)/(1<<30),
			d.Major, d.Minor, d.SMs, d.PeakBandwidth()/1e9)
		if d.Name == "" || d.TotalMem <= 0 || d.SMs <= 0 {
			t.Errorf("implausible %+v", d)
		}
	}
	if v, err := DriverVersion(); err != nil || (!Fake && v < 11000) {
		t.Errorf("DriverVersion() = %d, %v", v, err)
	}
	if _, err := NewContext(len(devs) + 3); !errors.Is(err, ErrNoDevice) {
		t.Errorf("NewContext(%d): %v, want ErrNoDevice", len(devs)+3, err)
	}
}

func TestBuffers(t *testing.T) {
	c := newCtx(t)
	s, err := c.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, n := range []int{0, 1, 31, 32, 33, 1 << 20} {
		b, err := Alloc[float32](c, n)
		if err != nil {
			t.Fatal(err)
		}
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(i) * 0.5
		}
		for _, st := range []*Stream{nil, s} {
			if err := b.Fill(st, float32(math.NaN())); err != nil {
				t.Fatal(err)
			}
			if err := b.CopyFrom(st, src); err != nil {
				t.Fatal(err)
			}
			got := make([]float32, n)
			if err := b.CopyTo(st, got); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if got[i] != src[i] {
					t.Fatalf("n=%d [%d] = %v, want %v", n, i, got[i], src[i])
				}
			}
		}
		if n >= 32 {
			v, err := b.Slice(7, 20)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Fill(s, -1); err != nil {
				t.Fatal(err)
			}
			got := make([]float32, 32)
			if err := b.CopyTo(s, got); err != nil {
				t.Fatal(err)
			}
			for i, x := range got {
				want := src[i]
				if i >= 7 && i < 27 {
					want = -1
				}
				if x != want {
					t.Fatalf("after a view's Fill, [%d] = %v, want %v", i, x, want)
				}
			}
			if err := v.Free(); err != nil || b.Len() != n {
				t.Fatalf("a view's Free: %v (parent length %d)", err, b.Len())
			}
			d, err := Alloc[float32](c, n)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.CopyFromDevice(s, b); err != nil {
				t.Fatal(err)
			}
			if err := d.CopyTo(s, got); err != nil || got[8] != -1 || got[30] != src[30] {
				t.Fatalf("device copy: %v, %v", got[:32], err)
			}
			d.Free()
		}
		if err := b.Free(); err != nil {
			t.Fatal(err)
		}
		if err := b.Free(); err != nil {
			t.Errorf("second Free: %v", err)
		}
		if n > 0 {
			if err := b.CopyFrom(nil, src[:1]); !errors.Is(err, ErrClosed) {
				t.Errorf("copy into a freed buffer: %v", err)
			}
		}
	}
	ib, err := Alloc[int32](c, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer ib.Free()
	if err := ib.Fill(nil, -7); err != nil {
		t.Fatal(err)
	}
	got := make([]int32, 5)
	if err := ib.CopyTo(nil, got); err != nil || got[4] != -7 {
		t.Errorf("int32 fill: %v, %v", got, err)
	}
	if err := ib.CopyFrom(nil, make([]int32, 6)); err == nil {
		t.Error("6 values into 5 accepted")
	}
	if _, err := Alloc[float32](c, -1); err == nil {
		t.Error("negative allocation accepted")
	}
}

func TestEventsAndModules(t *testing.T) {
	c := newCtx(t)
	a, err := c.NewEvent()
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.NewEvent()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Record(nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Record(nil); err != nil {
		t.Fatal(err)
	}
	if ms, err := Elapsed(a, b); err != nil || ms < 0 {
		t.Errorf("Elapsed = %v, %v", ms, err)
	}
	a.Close()
	b.Close()
	if err := a.Record(nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Record after Close: %v", err)
	}
	if !Fake {
		if _, err := c.LoadModule("garbage", "this is not PTX"); err == nil {
			t.Error("garbage PTX loaded")
		}
	}
	free, total, err := c.MemInfo()
	if err != nil || free <= 0 || total < free {
		t.Errorf("MemInfo = %d, %d, %v", free, total, err)
	}
	if err := c.Synchronize(); err != nil {
		t.Error(err)
	}
	c2, err := NewContext(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c2.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := Alloc[float32](c2, 4); !errors.Is(err, ErrClosed) {
		t.Errorf("Alloc on a closed context: %v", err)
	}
	if err := c.Synchronize(); err != nil {
		t.Errorf("the first context stopped working after another was closed: %v", err)
	}
}
