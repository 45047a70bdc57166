#!/usr/bin/env bash
# Compiles every CUDA kernel source ops/cuda/kernels/<family>.cu to PTX for sm_80 with
# Debian's clang-15, no CUDA toolkit (-nocudainc -nocudalib; prelude_device.h supplies what
# CUDA's headers would). The PTX is ISA 7.0, which an H100's driver JIT-compiles. The
# committed files come from Debian 12's clang-15 (1:15.0.6); another LLVM may emit other text.
#   scripts/ptx.sh            writes ops/cuda/kernels/ptx/<family>.ptx (commit them)
#   scripts/ptx.sh DIR        writes DIR/<family>.ptx (the test compares those with the committed)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/ops/cuda/kernels"
out="${1:-$src/ptx}"
clang="${CLANG:-clang-15}"
command -v "$clang" >/dev/null || { echo "ptx: $clang not found: apt-get install clang-15 (or just setup as root)" >&2; exit 1; }
mkdir -p "$out"
cd "$src" # relative paths: the PTX must not depend on where the checkout lives
for f in *.cu; do
  "$clang" -x cuda --cuda-device-only -nocudainc -nocudalib --cuda-gpu-arch=sm_80 -O3 \
    -ffp-contract=off -Wall -Werror -S -include prelude_device.h "$f" -o "$out/${f%.cu}.ptx"
done
