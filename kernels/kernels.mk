# kernels/kernels.mk: the CUDA targets of sgds; the top-level Makefile
# includes it (it also works alone: make -f kernels/kernels.mk <target>).
#
#   make kernels      regenerate kernels/ptx/*.ptx from kernels/*.cu (nvcc)
#   make cuda         build bin/sgds-cuda with the CUDA backend
#   make check-ptx    regenerate the PTX into a temporary folder and diff it
#                     against the committed files (nvcc 11.8, Debian's)
#   make kernels-emu  run the kernels' CUDA C on the CPU emulator and compare
#                     with the Go twins (g++; no GPU, no nvcc)
#   make cuda-fake    the GPU backend's tests on the host stand-in (no GPU)
#   make gpu-check    build the GPU check into .device/ and print how to run it
#
# The build tag is cuda. gorgonia and gorgonia.org/tensor have cuda-tagged
# files that need cuDNN, so engine/cpu (the gorgonia backend) is excluded
# from cuda builds (//go:build !cuda); they carry native and cuda.

GO ?= go
NVCC ?= nvcc
# No --use_fast_math: the loss kernel needs accurate expf/logf/log1pf.
NVCCFLAGS ?= -ptx -arch=compute_80
CXX ?= g++
CUDA_TAGS ?= cuda
KERNEL_SRCS := $(wildcard kernels/*.cu)
KERNEL_PTX := $(patsubst kernels/%.cu,kernels/ptx/%.ptx,$(KERNEL_SRCS))

.PHONY: kernels cuda check-ptx kernels-emu cuda-fake gpu-check

kernels: $(KERNEL_PTX)

kernels/ptx/%.ptx: kernels/%.cu kernels/common.cuh
	@mkdir -p kernels/ptx
	$(NVCC) $(NVCCFLAGS) -o $@ $<

cuda:
	$(GO) build -tags $(CUDA_TAGS) -o bin/sgds-cuda ./cmd/sgds

check-ptx:
	@command -v $(NVCC) >/dev/null || { echo "check-ptx: $(NVCC) not found (install Debian's nvidia-cuda-toolkit, see .ci/cuda.sh)"; exit 1; }
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	for src in $(KERNEL_SRCS); do \
		$(NVCC) $(NVCCFLAGS) -o "$$tmp/$$(basename $$src .cu).ptx" "$$src" || exit 1; \
	done; \
	if ! diff -r -q kernels/ptx "$$tmp" >/dev/null; then \
		diff -r kernels/ptx "$$tmp" | head -40; \
		echo "check-ptx: kernels/ptx is stale: run make kernels (with $$($(NVCC) --version | tail -1)) and commit the PTX"; exit 1; \
	fi; \
	echo "check-ptx: $(words $(KERNEL_PTX)) PTX files match their sources"

kernels-emu:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(CXX) -O2 -std=c++17 -ffp-contract=off -w -o "$$tmp/emu" kernels/emu/emu_main.cpp && \
	"$$tmp/emu" "$$tmp/emu.bin" && \
	SGDS_EMU_RECORDS="$$tmp/emu.bin" $(GO) test -count=1 -tags sgdsemu -run TestEmulatedKernels ./kernels

cuda-fake:
	$(GO) test -count=1 -tags $(CUDA_TAGS),sgdsfake ./cuda ./kernels ./engine/gpu

gpu-check:
	bench/gpu/build.sh
