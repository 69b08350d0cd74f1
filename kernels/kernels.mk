# kernels/kernels.mk: the CUDA targets of sgds; the top-level Makefile
# includes it (it also works alone: make -f kernels/kernels.mk <target>).
#
#   make kernels      regenerate kernels/device/ptx/*.ptx from
#                     kernels/device/*.cu (nvcc)
#   make cuda         build bin/sgds-cuda with the CUDA driver (-tags cuda)
#   make check-ptx    regenerate the PTX into a temporary folder and diff it
#                     against the committed files (nvcc 11.8, Debian's)
#   make kernels-emu  run the kernels' CUDA C on the CPU emulator and compare
#                     with the references (g++; no GPU, no nvcc)
#   make gpu-check    build the GPU check into .device/ and print how to run it
#
# The kernels' Go launchers (kernels/device) and the GPU backend
# (engine/gpu) need no tag: their tests run on the host driver of package
# cuda in a plain go test. Only cuda/'s cgo file is tagged cuda; the
# gorgonia backend is left out of cuda builds (gorgonia's own cuda-tagged
# files need cuDNN).

GO ?= go
NVCC ?= nvcc
# No --use_fast_math: the loss kernel needs accurate expf/logf/log1pf.
NVCCFLAGS ?= -ptx -arch=compute_80
CXX ?= g++
KERNEL_DIR := kernels/device
KERNEL_SRCS := $(wildcard $(KERNEL_DIR)/*.cu)
KERNEL_PTX := $(patsubst $(KERNEL_DIR)/%.cu,$(KERNEL_DIR)/ptx/%.ptx,$(KERNEL_SRCS))

.PHONY: kernels cuda check-ptx kernels-emu gpu-check

kernels: $(KERNEL_PTX)

$(KERNEL_DIR)/ptx/%.ptx: $(KERNEL_DIR)/%.cu $(KERNEL_DIR)/common.cuh
	@mkdir -p $(KERNEL_DIR)/ptx
	$(NVCC) $(NVCCFLAGS) -o $@ $<

cuda:
	$(GO) build -tags cuda -o bin/sgds-cuda ./cmd/sgds

check-ptx:
	@command -v $(NVCC) >/dev/null || { echo "check-ptx: $(NVCC) not found (install Debian's nvidia-cuda-toolkit, see .ci/cuda.sh)"; exit 1; }
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	for src in $(KERNEL_SRCS); do \
		$(NVCC) $(NVCCFLAGS) -o "$$tmp/$$(basename $$src .cu).ptx" "$$src" || exit 1; \
	done; \
	if ! diff -r -q $(KERNEL_DIR)/ptx "$$tmp" >/dev/null; then \
		diff -r $(KERNEL_DIR)/ptx "$$tmp" | head -40; \
		echo "check-ptx: $(KERNEL_DIR)/ptx is stale: run make kernels (with $$($(NVCC) --version | tail -1)) and commit the PTX"; exit 1; \
	fi; \
	echo "check-ptx: $(words $(KERNEL_PTX)) PTX files match their sources"

# The test builds kernels/device/emu/emu_main.cpp with $(CXX) itself and
# fails when it cannot.
kernels-emu:
	CXX=$(CXX) $(GO) test -count=1 -run '^TestEmulatedKernels$$' ./kernels/device

gpu-check:
	bench/gpu/build.sh
