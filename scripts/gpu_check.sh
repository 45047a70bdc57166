#!/usr/bin/env bash
# The one prepared check for a lent GPU machine (the device tool; see docs/design.md, "CUDA").
#
#   scripts/gpu_check.sh build   # here: bin/gpu/{ssl4dp,ops.test,optim.test,pretext.test}.gz
#                                # (pure-Go BLAS: the GPU image has no OpenBLAS), stripped and
#                                # gzipped, < 64 MiB in all (the build says how much)
#   scripts/gpu_check.sh run     # there (carry bin/gpu): writes $OUT/gpu_check.md and
#                                # $OUT/gpu_check.log; ≤ 8 minutes on an H100
#   scripts/gpu_check.sh dry     # here, after build: the whole run on the emulated device at
#                                # tiny sizes, PyTorch's CUDA columns n/a — proof the script
#                                # works, not a measurement
#
# What it checks, in order, each a row of one table:
#   1. the device (nvidia-smi, `ssl4dp version`: the driver, the GPUs, cuBLAS);
#   2. every kernel of ops/cuda/kernels, from its committed PTX, run by the driver from the
#      emulator's inputs: the same bits (the parity tests with SSL4DP_GPU=1, which also hold
#      the emulator to the CPU ops; their shapes are the tests' ragged small ones);
#   3. one step of each of the eleven pretext methods' training graphs (ResNet-18/16, 32-pixel
#      views) on the GPU against the CPU: the loss and every gradient within 1e-3 of scale
#      (pretext.test TestEachMethodStepOnEmulatedDevice with SSL4DP_TEST_DEVICE=cuda);
#   4. 300 steps of train seg on the GPU and on the CPU from one seed: the loss curves follow
#      each other (the first step within 1e-3, every 20-step window's mean within 2%, the
#      last window within 5%: over 300 steps rounding differences grow);
#   5. bench train --device cuda (fp32, --tf32) against scripts/bench_torch.py --device cuda
#      (fp32, tf32, amp) on ResNet-18 OS16 + MoCo's FCN and ResNet-50 OS8 + DeepLabV3+, batch
#      16 at 512×512, 3 timed steps after 2 (fewer when a run does not fit its time).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}

build() {
  mkdir -p bin/gpu
  flags=(-tags purego -ldflags '-s -w')
  go build "${flags[@]}" -o bin/gpu/ssl4dp ./cmd/ssl4dp
  go test -c "${flags[@]}" -o bin/gpu/ops.test ./ops
  go test -c "${flags[@]}" -o bin/gpu/optim.test ./train/optim
  go test -c "${flags[@]}" -o bin/gpu/pretext.test ./train/pretext
  git rev-parse --short HEAD >bin/gpu/COMMIT
  # Gzipped: the four binaries are ~68 MiB as they are, ~25 MiB packed; run unpacks them.
  gzip -9 -f bin/gpu/ssl4dp bin/gpu/ops.test bin/gpu/optim.test bin/gpu/pretext.test
  du -sh bin/gpu
  local kib
  kib=$(du -sk bin/gpu | cut -f1)
  if [ "$kib" -gt $((64 * 1024)) ]; then
    echo "gpu_check: bin/gpu is ${kib} KiB, over the 64 MiB a device run carries" >&2
    exit 1
  fi
}

run() { # dev: cuda or emulated (dry)
  SECONDS=0
  local dev=$1 outdir=${OUT:-.} tmp
  tmp=$(mktemp -d /tmp/gpu_check.XXXXXX)
  local out=$outdir/gpu_check.md log=$outdir/gpu_check.log bench=$tmp/bench
  mkdir -p "$outdir" "$bench" "$tmp/bin"
  : >"$log"
  for b in ssl4dp ops.test optim.test pretext.test; do
    gunzip -c "bin/gpu/$b.gz" >"$tmp/bin/$b"
    chmod +x "$tmp/bin/$b"
  done
  local bin=$tmp/bin
  # Sizes: the real ones on a GPU, tiny ones for the dry run on the emulator.
  local segiters=300 segargs=(--encoder resnet18 --width 0.125 --crop 64 --batch 4) bsize=512 bbatch=16 bsteps=3 bwarm=2 bwidth=1
  local pretext_run=(-test.run '^TestEachMethodStepOnEmulatedDevice$')
  T=1 # timeouts' multiplier: the emulator on two cores is far slower than a GPU machine
  if [ "$dev" = emulated ]; then
    T=6
    segiters=6 segargs=(--encoder resnet18 --width 0.0625 --crop 32 --batch 2) bsize=32 bbatch=2 bsteps=1 bwarm=0 bwidth=0.0625
    pretext_run=(-test.run '^TestEachMethodStepOnEmulatedDevice$/^moco$')
  fi
  {
    echo "# GPU check ($(date -u +%Y-%m-%dT%H:%MZ), device $dev, built at commit $(cat bin/gpu/COMMIT 2>/dev/null || echo unknown))"
    echo
    echo '```'
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || true
    # cuBLAS from the image's pip packages, if ssl4dp does not find one by itself.
    for d in /usr/local/lib/python3*/dist-packages/nvidia/cublas/lib /usr/lib/python3*/site-packages/nvidia/cublas/lib \
      /usr/local/lib/python3*/site-packages/nvidia/cublas/lib; do
      [ -d "$d" ] && export LD_LIBRARY_PATH="$d:${LD_LIBRARY_PATH:-}"
    done
    $bin/ssl4dp version 2>&1
    echo '```'
    echo
    echo "| check | result | seconds |"
    echo "|---|---|---|"
  } >"$out"
  # The 8-minute budget: a check that would start after 7.5 minutes is skipped and says so.
  local budget=${GPU_CHECK_BUDGET_S:-$((450 * T))}
  check() { # name, command...
    local name=$1 start=$SECONDS rc=0
    shift
    if [ "$SECONDS" -gt "$budget" ]; then
      echo "| $name | skipped (past the ${budget} s budget) | 0 |" >>"$out"
      return 0
    fi
    echo "== $name" >>"$log"
    "$@" >>"$log" 2>&1 || rc=$?
    local result=pass
    [ "$rc" -eq 0 ] || result="**FAIL** (exit $rc; gpu_check.log)"
    echo "| $name | $result | $((SECONDS - start)) |" >>"$out"
  }
  root=$PWD
  if [ "$dev" = cuda ]; then
    export SSL4DP_GPU=1 SSL4DP_TEST_DEVICE=cuda
  fi
  # 2. Kernels (test binaries run in their package folders: testdata is relative).
  check "kernels: ops (GPU = emulator = CPU op)" bash -c "cd ops && timeout $((60 * T)) '$bin/ops.test' -test.run '^TestCUDA' -test.v"
  check "kernels: optimizer (GPU = emulator = CPU)" bash -c "cd train/optim && timeout $((30 * T)) '$bin/optim.test' -test.run '^TestCUDA' -test.v"
  # 3. One step of each pretext method: loss and every gradient.
  check "one step of each pretext method on $dev vs CPU (loss, every gradient)" bash -c \
    "cd train/pretext && timeout $((90 * T)) '$bin/pretext.test' ${pretext_run[*]} -test.v"
  # 4. A train seg run's loss curve.
  seg=(train seg "${segargs[@]}" --data synthetic:classes=3,objects=2 --iters "$segiters" --lr 0.05 --val-every 0
    --val-limit 8 --checkpoint-every 100000 --seed 3)
  check "train seg, $segiters steps: CPU" timeout $((90 * T)) $bin/ssl4dp "${seg[@]}" --device cpu --out "$tmp/seg_cpu"
  check "train seg, $segiters steps: $dev" timeout $((60 * T)) $bin/ssl4dp "${seg[@]}" --device "$dev" --out "$tmp/seg_dev"
  check "train seg: the $dev loss curve follows the CPU's" python3 - "$tmp/seg_cpu" "$tmp/seg_dev" "$segiters" <<'PY'
import json, sys
def losses(d):
    return [r["loss"] for r in map(json.loads, open(d + "/metrics.jsonl")) if r.get("kind", "train") == "train" and "loss" in r]
a, b, n = losses(sys.argv[1]), losses(sys.argv[2]), int(sys.argv[3])
assert len(a) == len(b) == n, (len(a), len(b), n)
w = min(20, n)
means = [(sum(a[i:i + w]) / w, sum(b[i:i + w]) / w) for i in range(0, n - w + 1, w)]
rel = [abs(x - y) / max(abs(x), 1e-6) for x, y in means]
first = abs(a[0] - b[0]) / max(abs(a[0]), 1e-6)
print(f"first step {a[0]:.6f} vs {b[0]:.6f} ({first:.1e}); {w}-step window means relative {', '.join(f'{r:.1e}' for r in rel)}")
assert first <= 1e-3 and max(rel) <= 2e-2 and rel[-1] <= 5e-2
PY
  # 5. Speed against PyTorch. Each run writes one JSON; the table is built from them.
  local nets=("resnet18 16 fcn" "resnet50 8 deeplabv3plus")
  for net in "${nets[@]}"; do
    read -r enc os head <<<"$net"
    local tag=${enc}_os${os}_${head}
    for prec in fp32 tf32; do
      local extra=()
      [ "$prec" = tf32 ] && extra=(--tf32)
      [ "$dev" != cuda ] && [ "$prec" = tf32 ] && continue # TF32 is CUDA's only
      local argv=(bench train --device "$dev" --encoder "$enc" --output-stride "$os" --head "$head" --width "$bwidth"
        --batch "$bbatch" --size "$bsize" --json "${extra[@]}")
      check "bench train $tag $prec ($dev)" bash -c \
        "timeout $((60 * T)) '$bin/ssl4dp' ${argv[*]} --steps $bsteps --warmup $bwarm >'$bench/ssl4dp_${tag}_$prec.json'"
      if [ ! -s "$bench/ssl4dp_${tag}_$prec.json" ]; then # fewer steps, if it did not fit
        check "bench train $tag $prec ($dev), 1 step" bash -c \
          "timeout $((45 * T)) '$bin/ssl4dp' ${argv[*]} --steps 1 --warmup 1 >'$bench/ssl4dp_${tag}_$prec.json'" || true
      fi
    done
    for prec in fp32 tf32 amp; do
      if [ "$dev" != cuda ]; then
        echo "n/a: the dry run has no CUDA for PyTorch" >"$bench/torch_${tag}_$prec.na"
        continue
      fi
      check "PyTorch $tag $prec (cuda)" bash -c "timeout $((45 * T)) python3 scripts/bench_torch.py train --device cuda --precision $prec \
        --encoder $enc --output-stride $os --head $head --batch $bbatch --size $bsize --steps $bsteps --warmup $bwarm \
        >'$bench/torch_${tag}_$prec.json'" || true
    done
  done
  python3 - "$bench" "$dev" >>"$out" <<'PY'
import json, os, sys
d, dev = sys.argv[1], sys.argv[2]
def load(name):
    p = os.path.join(d, name + ".json")
    try:
        with open(p) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
nets = [("resnet18_os16_fcn", "ResNet-18 OS16 + MoCo FCN"), ("resnet50_os8_deeplabv3plus", "ResNet-50 OS8 + DeepLabV3+")]
print()
print(f"| network | precision | ssl4dp img/s ({dev}) | PyTorch img/s (cuda) | ssl4dp / PyTorch | ssl4dp loss first → last | PyTorch peak device MiB | ssl4dp peak RSS MiB |")
print("|---|---|---|---|---|---|---|---|")
for tag, label in nets:
    for prec in ("fp32", "tf32", "amp"):
        s, t = load(f"ssl4dp_{tag}_{prec}"), load(f"torch_{tag}_{prec}")
        si = f"{s['images_per_s']:.2f} ({s['steps']} steps)" if s else ("n/a (no AMP in ssl4dp)" if prec == "amp" else ("n/a (TF32 is CUDA's)" if dev != "cuda" else "failed"))
        ti = f"{t['images_per_s']:.2f}" if t else ("n/a" if dev != "cuda" else "failed")
        ratio = f"{s['images_per_s'] / t['images_per_s']:.2f}" if s and t else "n/a"
        loss = f"{s['loss_first']:.4f} → {s['loss_last']:.4f}" if s else "n/a"
        tmem = f"{t['peak_device_mib']:.0f}" if t else "n/a"
        smem = f"{s['peak_rss_mib']:.0f}" if s else "n/a"
        print(f"| {label} | {prec} | {si} | {ti} | {ratio} | {loss} | {tmem} | {smem} |")
print()
print("ssl4dp's bench train records no peak device memory yet (its column is the host's peak RSS); "
      "PyTorch's is torch.cuda.max_memory_allocated over what was allocated before the network.")
PY
  cat "$out"
  rm -rf "$tmp"
}

case "$mode" in
build) build ;;
run) run cuda ;;
dry) run emulated ;;
*)
  echo "usage: $0 build|run|dry" >&2
  exit 2
  ;;
esac
