#!/usr/bin/env bash
# The measurement session behind docs/benchmarks.md's "Memory plan" subsection: the training
# step with the memory plan (the default), without it (`--no-memory-plan`, every op its own
# buffer) and PyTorch 1.13 (scripts/bench_torch.py), in turn, on the CPU-speed work's two
# networks at 2 threads —
#   r18: ResNet-18 OS16 + MoCo FCN, batch 8, 128×128 (10 steps after 2)
#   r50: ResNet-50 OS8 + MoCo FCN, batch 4, 256×256 (5 steps after 2)
# Writes plan_<net>_<run>.json, noplan_<net>_<run>.json, torch_<net>_<run>.json and load.txt
# (time and /proc/loadavg before each command) into OUT; prints a table at the end.
#
#   bench/testdata/memory_session.sh OUT [RUNS]
set -euo pipefail
D=${1:?usage: memory_session.sh OUT [RUNS]}
RUNS=${2:-2}
mkdir -p "$D"
BIN=${BIN:-}
if [ -z "$BIN" ]; then
  BIN=$D/ssl4dp
  go build -buildvcs=true -o "$BIN" ./cmd/ssl4dp
fi
log() { echo "$(date -u +%H:%M:%S) $(cut -d' ' -f1-3 /proc/loadavg) $*" >>"$D/load.txt"; }
for net in r18 r50; do
  case $net in
    r18) args=(--encoder resnet18 --output-stride 16 --batch 8 --size 128 --steps 10 --warmup 2) ;;
    r50) args=(--encoder resnet50 --output-stride 8 --batch 4 --size 256 --steps 5 --warmup 2) ;;
  esac
  for i in $(seq "$RUNS"); do
    log "plan $net $i"
    "$BIN" bench train "${args[@]}" --head fcn --threads 2 --report "$D/plan_${net}_$i.json" >/dev/null
    log "noplan $net $i"
    "$BIN" bench train "${args[@]}" --head fcn --threads 2 --no-memory-plan --report "$D/noplan_${net}_$i.json" >/dev/null
    log "torch $net $i"
    /usr/bin/python3 scripts/bench_torch.py train "${args[@]}" --threads 2 >"$D/torch_${net}_$i.json"
  done
done
log done
/usr/bin/python3 - "$D" <<'PY'
import json, sys, glob, os
d = sys.argv[1]
print("| network | run | plan: peak MiB over baseline | no plan | PyTorch | plan / PyTorch | step p50 s plan | no plan | PyTorch |")
print("|---|---|---|---|---|---|---|---|---|")
for net in ("r18", "r50"):
    for f in sorted(glob.glob(os.path.join(d, f"plan_{net}_*.json"))):
        i = f.rsplit("_", 1)[1][:-5]
        p = json.load(open(f)); n = json.load(open(os.path.join(d, f"noplan_{net}_{i}.json")))
        t = json.load(open(os.path.join(d, f"torch_{net}_{i}.json")))
        tm = t.get("network_rss_mib", t.get("peak_mib_over_baseline"))
        ts = t.get("step_s", {}).get("p50") if isinstance(t.get("step_s"), dict) else t.get("step_p50_s")
        print(f"| {net} | {i} | {p['network_rss_mib']:.0f} | {n['network_rss_mib']:.0f} | {tm:.0f} | {p['network_rss_mib']/tm:.2f} | "
              f"{p['step_s']['p50']:.2f} | {n['step_s']['p50']:.2f} | {ts:.2f} |")
PY
