// Package provenance records what produced a result: the sgds version and
// commit, the Go toolchain, the kernel path that was built and used, the
// backend, the machine (CPU model, GOMAXPROCS, GPU when one was used), the
// command line and the start time. Every result file of sgds carries one
// Provenance object under the key "provenance".
package provenance

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/sgds/sgds/cuda"
	"github.com/sgds/sgds/kernels"
)

// Provenance is the "provenance" object of a result file.
type Provenance struct {
	Version    string `json:"version"`              // sgds version (set at build time, else "dev")
	Commit     string `json:"commit"`               // VCS revision the binary was built from ("unknown" when not recorded)
	Modified   bool   `json:"modified"`             // the working tree had uncommitted changes at build time
	GoVersion  string `json:"go_version"`           // toolchain that built the binary
	GOOS       string `json:"goos"`                 // operating system
	GOARCH     string `json:"goarch"`               // architecture
	Kernels    string `json:"kernels"`              // CPU kernels: "simd" (a vector path: assembly for AVX2 or AVX-512) or "portable"
	KernelPath string `json:"kernel_path"`          // CPU kernel path in use: "portable", "avx2" or "avx512" (kernels.Path)
	SIMDBuilt  bool   `json:"simd_built"`           // whether the vector kernels were compiled in (amd64)
	Backend    string `json:"backend,omitempty"`    // backend actually used (cpu, gorgonia, cuda)
	CPU        string `json:"cpu"`                  // CPU model name
	CPUs       int    `json:"cpus"`                 // logical CPUs
	MaxProcs   int    `json:"gomaxprocs"`           // GOMAXPROCS
	GPU        string `json:"gpu,omitempty"`        // GPU name, when the cuda backend ran
	Driver     int    `json:"gpu_driver,omitempty"` // CUDA driver version, when the cuda backend ran
	Command    string `json:"command"`              // the command line, arguments joined by spaces
	StartUTC   string `json:"start_utc"`            // start time, RFC 3339, UTC
}

// Version is the sgds version; cmd/sgds sets it from its -ldflags value.
var Version = "dev"

// Collect describes this process for a run that started at start on
// backend (the name actually used, "" when none), launched with args.
func Collect(backend string, args []string, start time.Time) Provenance {
	p := Provenance{
		Version:    Version,
		Commit:     "unknown",
		GoVersion:  runtime.Version(),
		GOOS:       runtime.GOOS,
		GOARCH:     runtime.GOARCH,
		Kernels:    "portable",
		KernelPath: kernels.Path(),
		SIMDBuilt:  kernels.FastPathBuilt,
		Backend:    backend,
		CPU:        cpuModel(),
		CPUs:       runtime.NumCPU(),
		MaxProcs:   runtime.GOMAXPROCS(0),
		Command:    strings.Join(args, " "),
		StartUTC:   start.UTC().Format(time.RFC3339),
	}
	if kernels.FastPath() {
		p.Kernels = "simd"
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				p.Commit = s.Value
			case "vcs.modified":
				p.Modified = s.Value == "true"
			}
		}
	}
	if backend == "cuda" {
		if devs, err := cuda.Devices(); err == nil && len(devs) > 0 {
			p.GPU = devs[0].Name
		}
		if v, err := cuda.DriverVersion(); err == nil {
			p.Driver = v
		}
	}
	return p
}

// cpuModel reads the CPU model name from /proc/cpuinfo (Linux), else
// returns GOARCH.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// Differences lists what sets the binary or the machine of b apart from
// those of a, as "field a → b": what a continued result must share with
// its start for its runs to be comparable (the command line and the
// start time aside).
func Differences(a, b Provenance) []string {
	var out []string
	add := func(field string, x, y any) {
		if x != y {
			out = append(out, fmt.Sprintf("%s %v → %v", field, x, y))
		}
	}
	add("version", a.Version, b.Version)
	add("commit", a.Commit, b.Commit)
	add("modified", a.Modified, b.Modified)
	add("go_version", a.GoVersion, b.GoVersion)
	add("goos", a.GOOS, b.GOOS)
	add("goarch", a.GOARCH, b.GOARCH)
	add("kernels", a.Kernels, b.Kernels)
	add("backend", a.Backend, b.Backend)
	add("cpu", a.CPU, b.CPU)
	add("cpus", a.CPUs, b.CPUs)
	add("gomaxprocs", a.MaxProcs, b.MaxProcs)
	add("gpu", a.GPU, b.GPU)
	return out
}
