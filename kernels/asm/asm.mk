# The amd64 assembly of package kernels (asm_amd64.s and its Go stubs
# asm_amd64.go), generated from Go by kernels/asm/gen with avo (its own
# module, so the main module gains no dependency):
#
#   make asm        regenerate the committed files
#   make check-asm  regenerate them into a temporary folder and diff them
#                   against the committed ones (fails when they are stale)

ASM_GEN_ARGS = -out ../../asm_amd64.s -stubs ../../asm_amd64.go -pkg kernels

.PHONY: asm check-asm

asm:
	cd kernels/asm/gen && $(GO) run . $(ASM_GEN_ARGS)

check-asm:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	mkdir -p "$$tmp/asm" && cp -r kernels/asm/gen "$$tmp/asm/gen" && \
	( cd "$$tmp/asm/gen" && $(GO) run . $(ASM_GEN_ARGS) ) || exit 1; \
	for f in asm_amd64.s asm_amd64.go; do \
		diff -u "kernels/$$f" "$$tmp/$$f" >/dev/null || { echo "check-asm: kernels/$$f is stale: run make asm"; diff -u "kernels/$$f" "$$tmp/$$f" | head -20; exit 1; }; \
	done; echo "check-asm: kernels/asm_amd64.s and asm_amd64.go are up to date"
