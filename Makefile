# sgds: `make run` runs the main job, `make test` runs the tests; `make help`
# lists every target. Both start with ./build.sh, which sets up a fresh
# machine (Go modules, MNIST, Fashion-MNIST, bin/sgds).
GO ?= go

.PHONY: all help build run test test-race vet bench fmt-check ci

all: build

help: ## this list
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-12s %s\n", $$1, $$2}'

build: ## set up this machine and build bin/sgds (./build.sh)
	./build.sh

run: build ## the main job: uniform vs SGD-S on real MNIST, quick version (MLP, a few minutes)
	bin/sgds compare --quick --dataset mnist --out runs/make-run

test: build ## the tests (go test ./...; the kernel tests run every kernel path this CPU has), a few batches of real MNIST each
	$(GO) test -timeout 30m ./...

test-race: build ## the short tests under the race detector
	$(GO) test -timeout 30m -race -short ./...

vet: ## go vet, also of the portable build for arm64 (no assembly)
	$(GO) vet ./...
	GOARCH=arm64 $(GO) vet ./kernels/...

fmt-check: ## fail when a file needs gofmt
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

bench: build ## every go test -bench suite: engine steps, kernels, sampler, time-to-accuracy (long)
	$(GO) test -run '^$$' -bench . -benchmem ./engine/... ./sampler/... ./kernels/...
	$(GO) test -run '^$$' -bench . -benchtime 1x ./bench/...

ci: test vet fmt-check test-race ## what .ci/run checks, but the CUDA part

# CUDA (kernels/kernels.mk): make kernels, make cuda, make check-ptx,
# make kernels-emu, make gpu-check.
include kernels/kernels.mk
# amd64 assembly (kernels/asm/asm.mk): make asm, make check-asm.
include kernels/asm/asm.mk
# make bench-peer: sgds against PyTorch on the same cores (bench/peers).
include bench/peers/peers.mk
