// Package cpu is the CPU backend: each model is a gorgonia expression graph
// on gorgonia.org/tensor, differentiated symbolically, with only the
// subgraph that training needs compiled (no gradient for the input images).
//
// Every file but this one is behind //go:build !cuda: gorgonia and
// gorgonia.org/tensor have cuda-tagged files that need cuDNN, so a cuda build
// (make cuda) carries the native and cuda backends and no "cpu" one.
package cpu
