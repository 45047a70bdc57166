#!/usr/bin/env bash
# The one prepared check for a lent GPU machine (the device tool; see docs/design.md, "CUDA").
#
#   scripts/gpu_check.sh build        # here: bin/gpu/{ssl4dp,ops.test,optim.test} (pure-Go BLAS:
#                                     # the GPU image has no OpenBLAS), stripped, < 64 MiB in all
#   scripts/gpu_check.sh run          # there (carry bin/gpu): writes $OUT/gpu_check.md
#
# What it checks today, on the GPU: the driver and cuBLAS ssl4dp finds (`ssl4dp version`), and
# every kernel of ops/cuda/kernels loaded from its committed PTX and run by the driver from the
# same inputs as the emulator, bit for bit (the parity tests with SSL4DP_GPU=1, which also hold
# the emulator to the CPU ops); and 30 steps of train seg --device cuda against the same run on
# the CPU. Not yet: the pretext methods on the device and `bench train --device cuda` against
# PyTorch (train pretext and bench train refuse --device cuda in one line today).
# Finishes in well under a minute of GPU time after the machine starts.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
case "$mode" in
build)
  mkdir -p bin/gpu
  flags=(-tags purego -ldflags '-s -w')
  go build "${flags[@]}" -o bin/gpu/ssl4dp ./cmd/ssl4dp
  go test -c "${flags[@]}" -o bin/gpu/ops.test ./ops
  go test -c "${flags[@]}" -o bin/gpu/optim.test ./train/optim
  git rev-parse --short HEAD >bin/gpu/COMMIT
  du -sh bin/gpu
  ;;
run)
  out=${OUT:-.}/gpu_check.md
  log=${OUT:-.}/gpu_check.log
  : >"$log"
  {
    echo "# GPU check ($(date -u +%Y-%m-%dT%H:%MZ), built at commit $(cat bin/gpu/COMMIT 2>/dev/null || echo unknown))"
    echo
    echo '```'
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || true
    # cuBLAS from the image's pip packages, if ssl4dp does not find one by itself.
    for d in /usr/local/lib/python3*/dist-packages/nvidia/cublas/lib /usr/lib/python3*/site-packages/nvidia/cublas/lib; do
      [ -d "$d" ] && export LD_LIBRARY_PATH="$d:${LD_LIBRARY_PATH:-}"
    done
    bin/gpu/ssl4dp version 2>&1
    echo '```'
    echo
    echo "| check | result | seconds |"
    echo "|---|---|---|"
  } >"$out"
  check() { # name, command...
    local name=$1 start=$SECONDS rc=0
    shift
    echo "== $name" >>"$log"
    "$@" >>"$log" 2>&1 || rc=$?
    local result=pass
    [ "$rc" -eq 0 ] || result="**FAIL** (exit $rc; gpu_check.log)"
    echo "| $name | $result | $((SECONDS - start)) |" >>"$out"
  }
  export SSL4DP_GPU=1
  check "ops kernels: GPU = emulator = CPU op" bin/gpu/ops.test -test.run '^TestCUDA' -test.v
  check "optimizer kernels: GPU = emulator = CPU" bin/gpu/optim.test -test.run '^TestCUDA' -test.v
  # 30 steps of a small train seg on the GPU and on the CPU from the same seed: the losses
  # must follow each other (relative 1e-3; the device's reductions sum in another order).
  seg=(train seg --encoder resnet18 --width 0.25 --data synthetic:classes=3,objects=2 --crop 64 --batch 8
    --iters 30 --lr 0.05 --val-every 0 --val-limit 32 --seed 3)
  check "train seg, 30 steps: CPU" bin/gpu/ssl4dp "${seg[@]}" --device cpu --out /tmp/gpu_check/cpu
  check "train seg, 30 steps: CUDA (the device layer's first GPU run)" bin/gpu/ssl4dp "${seg[@]}" --device cuda --out /tmp/gpu_check/cuda
  check "train seg: CUDA losses follow the CPU's (relative 1e-3)" python3 - <<'PY'
import json
def losses(d):
    return [r["loss"] for r in map(json.loads, open(d + "/metrics.jsonl")) if r.get("kind", "train") == "train" and "loss" in r]
a, b = losses("/tmp/gpu_check/cpu"), losses("/tmp/gpu_check/cuda")
worst = max(abs(x - y) / max(abs(x), 1e-6) for x, y in zip(a, b))
print(f"{len(a)} and {len(b)} steps; worst relative difference {worst:.2e}")
assert len(a) == len(b) == 30 and worst <= 1e-3
PY
  # 10 steps of train pretext moco (online passes on the GPU, momentum network and queue on
  # the host): the losses follow the CPU's.
  moco=(train pretext --method moco --scale cpu --encoder resnet18 --width 0.25 --size 64 --batch 8 --iters 10
    --data synthetic:classes=3,objects=2 --seed 3)
  check "train pretext moco, 10 steps: CPU" bin/gpu/ssl4dp "${moco[@]}" --device cpu --out /tmp/gpu_check/moco_cpu
  check "train pretext moco, 10 steps: CUDA" bin/gpu/ssl4dp "${moco[@]}" --device cuda --out /tmp/gpu_check/moco_cuda
  check "train pretext moco: CUDA losses follow the CPU's (relative 1e-3)" python3 - <<'PY'
import json
def losses(d):
    return [r["loss"] for r in map(json.loads, open(d + "/metrics.jsonl")) if r.get("kind", "train") == "train" and "loss" in r]
a, b = losses("/tmp/gpu_check/moco_cpu"), losses("/tmp/gpu_check/moco_cuda")
worst = max(abs(x - y) / max(abs(x), 1e-6) for x, y in zip(a, b))
print(f"{len(a)} and {len(b)} steps; worst relative difference {worst:.2e}")
assert len(a) == len(b) == 10 and worst <= 1e-3
PY
  cat "$out"
  ;;
*)
  echo "usage: $0 build|run" >&2
  exit 2
  ;;
esac
