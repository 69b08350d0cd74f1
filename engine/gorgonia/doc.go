// Package gorgonia is the autodiff oracle backend ("gorgonia"): each model is
// a gorgonia expression graph on gorgonia.org/tensor, differentiated
// symbolically, with only the subgraph that training needs compiled (no
// gradient for the input images). The tests check the fast backends against
// it; it is too slow for production runs.
//
// Every file but this one is behind //go:build !cuda: gorgonia and
// gorgonia.org/tensor have cuda-tagged files that need cuDNN, so a cuda build
// (make cuda) carries the cpu and cuda backends and no "gorgonia" one.
package gorgonia
