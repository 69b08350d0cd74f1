package gpu

import (
	"testing"

	"github.com/sgds/sgds/cuda/cudatest"
)

// The tests and benchmarks run on the driver -driver names (see cudatest):
// the host driver by default, the CUDA driver in a binary built with -tags
// cuda.
func TestMain(m *testing.M) { cudatest.Main(m) }
