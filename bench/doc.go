// Package bench holds the experiments of sgds as library functions
// (compare.go, correlate.go, patterns.go), their reports, plots (plot.go)
// and statistics (stats.go); every run they train is assembled by package
// run. The per-package `go test -bench` suites live beside their code;
// figures are recorded in bench/RESULTS.md.
package bench
