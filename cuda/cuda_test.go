package cuda

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newCtx(t *testing.T) *Context {
	t.Helper()
	c, err := NewContext(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { must(t, c.Close()) })
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
	if v, err := DriverVersion(); err != nil || (DriverName() == "cuda" && v < 11000) {
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
	t.Cleanup(func() { must(t, s.Close()) })
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
			must(t, d.Free())
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
	t.Cleanup(func() { must(t, ib.Free()) })
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
	must(t, a.Close())
	must(t, b.Close())
	if err := a.Record(nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Record after Close: %v", err)
	}
	if c.Driver() == "cuda" {
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

// TestBuildDriver checks the build's own driver: the CUDA driver with the
// cuda tag, and without it an ErrNotCompiled from every entry point rather
// than a panic or a missing symbol.
func TestBuildDriver(t *testing.T) {
	restore, err := Use("build")
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	_, errV := DriverVersion()
	_, errD := Devices()
	_, errC := NewContext(0)
	if Compiled {
		if DriverName() != "cuda" {
			t.Errorf("DriverName() = %q in a cuda build", DriverName())
		}
		return
	}
	for what, err := range map[string]error{"DriverVersion": errV, "Devices": errD, "NewContext": errC} {
		if !errors.Is(err, ErrNotCompiled) {
			t.Errorf("%s: %v, want ErrNotCompiled", what, err)
		}
	}
	if DriverName() != "none" {
		t.Errorf("DriverName() = %q without the cuda tag", DriverName())
	}
	if _, err := Use("cuda"); !errors.Is(err, ErrNotCompiled) {
		t.Errorf(`Use("cuda"): %v`, err)
	}
	if _, err := Use("gpu"); err == nil {
		t.Error(`Use("gpu") accepted`)
	}
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
	if d := (Dim3{X: 3}).norm(); d != (Dim3{3, 1, 1}) {
		t.Errorf("norm: %+v", d)
	}
	info := DeviceInfo{MemClockKHz: 2619000, BusWidth: 5120}
	if bw := info.PeakBandwidth(); math.Abs(bw-3.352e12) > 1e10 {
		t.Errorf("PeakBandwidth = %g", bw)
	}
}

// TestSlice checks views' bounds and addresses.
func TestSlice(t *testing.T) {
	c := newCtx(t)
	b, err := Alloc[float32](c, 10)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { must(t, b.Free()) })
	v, err := b.Slice(2, 5)
	if err != nil || v.DevicePtr() != b.DevicePtr()+8 || v.Len() != 5 || !v.view {
		t.Fatalf("Slice(2, 5) = %+v, %v", v, err)
	}
	for _, r := range [][2]int{{-1, 1}, {0, 11}, {11, 0}, {5, 6}, {3, -1}} {
		if _, err := b.Slice(r[0], r[1]); err == nil {
			t.Errorf("Slice(%d, %d) accepted", r[0], r[1])
		}
	}
	if err := b.CopyFrom(nil, make([]float32, 11)); err == nil {
		t.Error("11 host elements into 10 accepted")
	}
}

// TestPinned checks page-locked host memory as a copy's source and
// destination.
func TestPinned(t *testing.T) {
	c := newCtx(t)
	h, err := AllocPinned[float32](c, 100)
	if err != nil {
		t.Fatal(err)
	}
	src := h.Data()
	for i := range src {
		src[i] = float32(i) + 0.25
	}
	b, err := Alloc[float32](c, 100)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { must(t, b.Free()) })
	if err := b.CopyFrom(nil, src); err != nil {
		t.Fatal(err)
	}
	back, err := AllocPinned[float32](c, 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.CopyTo(nil, back.Data()); err != nil {
		t.Fatal(err)
	}
	for i, v := range back.Data() {
		if v != src[i] {
			t.Fatalf("[%d] = %v, want %v", i, v, src[i])
		}
	}
	for _, p := range []*Pinned[float32]{h, back} {
		if err := p.Free(); err != nil || p.Data() != nil {
			t.Fatalf("Free: %v", err)
		}
		if err := p.Free(); err != nil {
			t.Errorf("second Free: %v", err)
		}
	}
	if z, err := AllocPinned[int32](c, 0); err != nil || len(z.Data()) != 0 || z.Free() != nil {
		t.Errorf("empty pinned buffer: %v", err)
	}
}

// TestHostKernels launches a registered Go kernel on the host driver.
func TestHostKernels(t *testing.T) {
	defer UseHost()()
	RegisterHost("test_scale", func(grid, block Dim3, args []Arg) error {
		x, err := HostFloat32s(args[0])
		if err != nil {
			return err
		}
		for i := range int(args[1]) {
			x[i] *= 2
		}
		return nil
	})
	c := newCtx(t)
	m, err := c.LoadModule("m", "ignored by the host driver")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { must(t, m.Close()) })
	if _, err := m.Function("no_such_kernel"); err == nil {
		t.Error("an unregistered kernel was found")
	}
	f, err := m.Function("test_scale")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Alloc[float32](c, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { must(t, b.Free()) })
	if err := b.CopyFrom(nil, []float32{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if err := f.Launch(Dim3{X: 1}, Dim3{X: 4}, 0, nil, Ptr(b), Int(3)); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 4)
	if err := b.CopyTo(nil, got); err != nil || got[0] != 2 || got[2] != 6 || got[3] != 4 {
		t.Errorf("after the kernel: %v, %v", got, err)
	}
	if err := f.Launch(Dim3{X: 1}, Dim3{X: 2048}, 0, nil); err == nil {
		t.Error("2048 threads per block accepted")
	}
	if _, err := HostFloat32s(Arg(12345)); err == nil {
		t.Error("an address outside every allocation was accepted")
	}
}

// TestJITErrorLog checks that a failed module load carries the JIT
// compiler's log: on the CUDA driver with PTX that cannot compile, and in
// the helper that trims the log buffer.
func TestJITErrorLog(t *testing.T) {
	base := errors.New("a PTX JIT compilation failed")
	log := append([]byte("ptxas fatal : Parsing error near 'bogus'\n"), make([]byte, 64)...)
	if err := jitError(base, log); !errors.Is(err, base) || !strings.Contains(err.Error(), "JIT error log:\nptxas fatal : Parsing error near 'bogus'") {
		t.Errorf("jitError = %v", err)
	}
	if err := jitError(base, make([]byte, 16)); err != base {
		t.Errorf("jitError with an empty log = %v, want the error alone", err)
	}
	if DriverName() != "cuda" {
		t.Skipf("loading bad PTX needs the CUDA driver (this is %s)", DriverName())
	}
	c := newCtx(t)
	const bad = ".version 7.0\n.target sm_80\n.address_size 64\n.visible .entry broken()\n{\n\tbogus_instruction;\n\tret;\n}\n"
	m, err := c.LoadModule("broken.ptx", bad)
	if err == nil {
		m.Close()
		t.Fatal("PTX with an unknown instruction loaded")
	}
	t.Logf("%v", err)
	if !strings.Contains(err.Error(), "JIT error log") || !strings.Contains(err.Error(), "broken.ptx") {
		t.Errorf("the error names neither the module nor the JIT log: %v", err)
	}
}
