package gpu

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/sgds/sgds/cuda"
)

// The tests and benchmarks run on the driver -driver names: "host" (the
// default without the cuda tag: the kernels run on their references in
// host memory) or "cuda" (the default with it; such a binary only starts
// on a machine with an NVIDIA GPU).
var driverFlag = flag.String("driver", "auto", "driver the tests run on: host, cuda or auto (cuda when compiled in)")

func TestMain(m *testing.M) {
	flag.Parse()
	restore, err := cuda.Use(*driverFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	restore()
	os.Exit(code)
}
