# sgds: `make run` runs the main job, `make test` runs the tests.
# Both start with ./build.sh, which sets up a fresh machine.
GO ?= go

.PHONY: all build run test test-race vet bench fmt-check ci

all: build

build:
	./build.sh

# The main job: uniform SGD against SGD-S on real MNIST (CPU), the reduced
# version (the MLP, 5 epochs, 2 seeds: a few minutes), printing the table.
run: build
	bin/sgds compare --quick --dataset mnist --out runs/make-run

# Unit tests: a few batches of real MNIST per test, not epochs.
test: build
	$(GO) test ./...
	@if [ "$$($(GO) env GOARCH)" = amd64 ]; then echo "GOEXPERIMENT=simd: the cpu backend's SIMD kernels"; GOEXPERIMENT=simd $(GO) test ./kernels ./engine/cpu; fi

test-race: build
	$(GO) test -race -short ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Benchmarks (long; not part of CI).
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./engine/... ./sampler/... ./kernels/...

ci: test vet fmt-check test-race

# CUDA: make kernels, make cuda, make check-ptx, make gpu-check (see kernels/kernels.mk).
include kernels/kernels.mk
# make bench-peer: sgds vs PyTorch on the same cores (bench/peers).
include bench/peers/peers.mk
