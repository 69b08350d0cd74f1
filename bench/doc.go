// Package bench will hold the experiments of sgds as library functions
// (compare, correlate, patterns), their reports (JSON, Markdown) and plots,
// and the `go test -bench` suites that compare samplers. Per-package
// benchmarks live beside their code (engine/cpu, sampler, kernels); their
// figures are recorded in bench/RESULTS.md.
package bench
