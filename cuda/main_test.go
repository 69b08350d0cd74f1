package cuda_test

import (
	"testing"

	"github.com/sgds/sgds/cuda/cudatest"
)

// The binding's tests run on the driver -driver names (see cudatest).
func TestMain(m *testing.M) { cudatest.Main(m) }
