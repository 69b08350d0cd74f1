# bench/peers/peers.mk: the PyTorch peer benchmark. Include it from
# the Makefile with
#
#	include bench/peers/peers.mk
#
# `make bench-peer` installs Debian's python3-torch (with OpenBLAS) when it is
# missing, then runs sgds's step benchmark and the PyTorch one interleaved in
# one run and prints samples/s for each and the ratio, and the same for one
# epoch of training (bench/peers/compare.sh; its header lists the knobs:
# ROUNDS, SECONDS_PER, MODELS, EPOCH, PORTABLE, GORGONIA, OMP_NUM_THREADS,
# OMP_WAIT_POLICY).

PEER_PY ?= /usr/bin/python3
PEER_BLAS ?= /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3

.PHONY: bench-peer peer-deps

peer-deps:
	@if ! $(PEER_PY) -c 'import torch, numpy' >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "bench-peer: installing python3-torch and OpenBLAS from Debian"; \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get install -y -q python3-torch libopenblas0-pthread || \
				{ apt-get update -q && apt-get install -y -q python3-torch libopenblas0-pthread; }; \
		else \
			echo "bench-peer: python3-torch is missing; install it with: sudo apt-get install python3-torch libopenblas0-pthread"; \
			exit 1; \
		fi; \
	fi
	@# Debian's torch takes BLAS from the libblas.so.3 alternative: select OpenBLAS.
	@if [ "$$(id -u)" = 0 ] && [ -e $(PEER_BLAS) ] && command -v update-alternatives >/dev/null 2>&1; then \
		update-alternatives --set libblas.so.3-x86_64-linux-gnu $(PEER_BLAS) >/dev/null 2>&1 || true; \
	fi

bench-peer: build peer-deps
	bench/peers/compare.sh
