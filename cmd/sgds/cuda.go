//go:build cuda

package main

import _ "github.com/sgds/sgds/engine/gpu" // registers the "cuda" backend
