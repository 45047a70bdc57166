#!/usr/bin/env bash
# Installs the Debian packages the build and tests need, idempotently (a second run only
# asks dpkg, no apt-get).
#   libopenblas-dev   OpenBLAS for the default (cgo) build; without it use `-tags purego`
#   libonnx-testdata  ONNX's node conformance tests (/usr/share/libonnx-testdata)
#   python3-onnx      onnx.checker for the "Debian's checker accepts our files" tests
#   clang-15          compiles the CUDA kernels to PTX (`just ptx`; a test checks the committed PTX)
#   gcc               cgo (OpenBLAS, and onnxruntime_go, which loads onnxruntime through cgo)
#   g++               cgo C++ for ops/cuda/emu (the CUDA kernels run on the CPU in tests)
#   npm               fetches onnxruntime (scripts/setup_ort.sh) and `just` (rust-just)
#   git               the gofmt check lists tracked files
# gcc, g++, npm and git are only installed when their command is missing (another install counts).
# Optional, not installed here: protobuf-compiler (`just proto`), python3-torch and
# python3-torchvision (regenerating golden files).
set -euo pipefail
need=(libopenblas-dev libonnx-testdata python3-onnx clang-15)
for cmd in gcc g++ npm git; do
  command -v "$cmd" >/dev/null || need+=("$cmd")
done
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "setup_debian: missing Debian packages: ${missing[*]}" >&2
  echo "setup_debian: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "setup_debian: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || echo "setup_debian: apt-get update failed; trying the install with the lists we have" >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
