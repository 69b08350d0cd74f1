package device

import (
	"sync"
	"testing"

	"github.com/sgds/sgds/cuda"
	"github.com/sgds/sgds/cuda/cudatest"
	kt "github.com/sgds/sgds/kernels/kerneltest"
)

// The tests and benchmarks run on the driver -driver names (see cudatest).
func TestMain(m *testing.M) { cudatest.Main(m) }

var (
	libOnce sync.Once
	libT    *Lib
	libErr  error
)

// testLib returns the kernels loaded on device 0, shared by the tests.
func testLib(t testing.TB) *Lib {
	t.Helper()
	libOnce.Do(func() {
		ctx, err := cuda.NewContext(0)
		if err != nil {
			libErr = err
			return
		}
		libT, libErr = Load(ctx)
	})
	if libErr != nil {
		t.Fatalf("loading the kernels: %v", libErr)
	}
	return libT
}

// up copies host to a new device buffer, freed at the end of the test.
func up[T cuda.Elem](t testing.TB, l *Lib, host []T) *cuda.Buffer[T] {
	t.Helper()
	b, err := cuda.Alloc[T](l.Context(), len(host))
	must(t, err)
	t.Cleanup(func() { must(t, b.Free()) })
	must(t, b.CopyFrom(nil, host))
	return b
}

// poisoned returns a device copy of kt.Poison(n): NaN everywhere.
func poisoned(t testing.TB, l *Lib, n int) *cuda.Float32s {
	t.Helper()
	return up(t, l, kt.Poison(n))
}

// poisonedInts returns a device copy of kt.PoisonInts(n).
func poisonedInts(t testing.TB, l *Lib, n int) *cuda.Int32s {
	t.Helper()
	return up(t, l, kt.PoisonInts(n))
}

// down copies the first n elements of b to the host.
func down[T cuda.Elem](t testing.TB, b *cuda.Buffer[T], n int) []T {
	t.Helper()
	out := make([]T, n)
	must(t, b.CopyTo(nil, out))
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
