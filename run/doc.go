// Package run assembles one training run of sgds: its configuration and
// the validation of every setting in one place (config.go, with errors
// that name the command-line flag), the data with its validation split and
// subset, the sample order, the Net and the training.Trainer (run.go). The
// command sgds and the experiments of package bench both build their runs
// here.
package run
