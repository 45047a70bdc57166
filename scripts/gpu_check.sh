#!/usr/bin/env bash
# Checks `ssl4dp bench --provider cuda` on a GPU machine in one short run: builds ssl4dp,
# writes ResNet-18 (output stride 16) + MoCo's FCN head with `ssl4dp graphs`, times it with
# the CUDA provider and then the CPU provider of the same onnxruntime library, and prints
# both tables. The JSON reports are left in OUT for docs/benchmarks.md.
#
#   scripts/gpu_check.sh --ort-lib DIR/onnxruntime-linux-x64-gpu-1.30.0/lib/libonnxruntime.so [OUT]
#
# Needs: Go 1.26 (on PATH, or $GO); a GPU build of onnxruntime 1.30 — the release tarball's
# lib/ folder, where libonnxruntime_providers_cuda.so sits beside libonnxruntime.so (the npm
# and pip packages do not carry the C library with the CUDA provider); the CUDA and cuDNN
# libraries that build wants on the loader path (LD_LIBRARY_PATH); nvidia-smi for the GPU
# name. Settings (environment): SIZE=512 BATCHES=1,8 RUNS=20 WARMUP=5 CPU_RUNS=3 DEVICE=0.
# Exit status: 0 when the CUDA run succeeded; the failing step's otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

lib=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --ort-lib) lib=${2:?--ort-lib needs a path}; shift 2 ;;
    --ort-lib=*) lib=${1#--ort-lib=}; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) out=$1; shift ;;
  esac
done
[ -n "$lib" ] || { echo "gpu_check: give --ort-lib: a GPU build's libonnxruntime.so" >&2; exit 2; }
[ -f "$lib" ] || { echo "gpu_check: --ort-lib $lib does not exist" >&2; exit 2; }
[ -f "$(dirname "$lib")/libonnxruntime_providers_cuda.so" ] ||
  echo "gpu_check: warning: no libonnxruntime_providers_cuda.so beside $lib; expect bench to say the library has no CUDA provider" >&2
out=${out:-$(mktemp -d)}
mkdir -p "$out"
GO=${GO:-go}
SIZE=${SIZE:-512} BATCHES=${BATCHES:-1,8} RUNS=${RUNS:-20} WARMUP=${WARMUP:-5} CPU_RUNS=${CPU_RUNS:-3} DEVICE=${DEVICE:-0}

# The pure-Go BLAS where OpenBLAS is not installed (inference does not use it).
tags=purego
ls /usr/lib/x86_64-linux-gnu/libopenblas.so /usr/lib/*/libopenblas.so >/dev/null 2>&1 && tags=""
echo "== build ($("$GO" version), tags '${tags}')"
"$GO" build -tags "$tags" -o "$out/ssl4dp" ./cmd/ssl4dp
bin=$out/ssl4dp
"$bin" version --ort-lib "$lib"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv || echo "gpu_check: no nvidia-smi"

echo "== model"
model=$out/resnet18_fcn_os16.onnx
"$bin" graphs --encoder resnet18 --head fcn --classes 21 --output-stride 16 --size "$SIZE" -o "$model"

common=(--model "$model" --ort-lib "$lib" --batch "$BATCHES" --size "$SIZE")
echo "== cuda (device $DEVICE, $WARMUP warm-up + $RUNS runs)"
"$bin" bench "${common[@]}" --provider cuda --device "$DEVICE" --warmup "$WARMUP" --runs "$RUNS" --report "$out/cuda.json"

echo "== cpu, same library ($CPU_RUNS runs: for the ratio only)"
"$bin" bench "${common[@]}" --provider cpu --warmup 1 --runs "$CPU_RUNS" --report "$out/cpu.json"

echo "== done: reports in $out"
