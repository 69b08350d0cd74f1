// Package cudatest selects the driver of a test binary of the GPU path:
// call Main from TestMain. The binary's -driver flag names it: "host" (the
// host driver: kernels run on their references in host memory), "cuda"
// (the CUDA driver), or "auto", the default: cuda when the binary is built
// with the cuda tag (it then only starts on a machine with an NVIDIA GPU),
// else host. So a plain go test runs every GPU-side test on the host
// driver, and the same test binary built with -tags cuda runs them on the
// device.
package cudatest

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/sgds/sgds/cuda"
)

var driver = flag.String("driver", "auto", "driver the tests run on: host, cuda or auto (cuda when compiled in, else host)")

// Main parses the flags, selects the driver, runs the tests and exits.
func Main(m *testing.M) {
	flag.Parse()
	restore, err := cuda.Use(*driver)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	restore()
	os.Exit(code)
}
