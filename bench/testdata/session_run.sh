#!/usr/bin/env bash
# A measurement session behind docs/benchmarks.md's "bench" section: ssl4dp and PyTorch
# 1.13 alternately, two runs of each configuration, at 2 and then 1 thread; the training step
# first, then inference. Writes the JSON reports and load.txt (time and /proc/loadavg before
# each command) into OUT. Run from the repository root, on a clean tree (the reports record
# the commit):
#
#   bench/testdata/session_run.sh OUT
#   /usr/bin/python3 bench/testdata/session_table.py OUT    # the tables
#
# The committed sessions came from this script: session_2026-11-28/ (commit 6b130b2,
# 17:34–17:47 UTC, a loaded machine) and session_2026-12-05/ (commit 4968c25, 2026-12-06
# 00:21–00:24 UTC, a quiet one).
set -euo pipefail
D=${1:?usage: session_run.sh OUT}
mkdir -p "$D"
BIN=$D/ssl4dp
go build -buildvcs=true -o "$BIN" ./cmd/ssl4dp
"$BIN" graphs --encoder resnet18 --head fcn --classes 21 --output-stride 16 --size 256 -o "$D/m.onnx" >/dev/null
log() { echo "$(date -u +%H:%M:%S) $(cut -d' ' -f1-3 /proc/loadavg) $*" >>"$D/load.txt"; }
for th in 2 1; do
  for i in 1 2; do
    log "go train t$th $i"
    "$BIN" bench train --encoder resnet18 --head fcn --output-stride 16 --batch 8 --size 128 --steps 10 --warmup 2 --threads "$th" --report "$D/go_train_t${th}_$i.json" >/dev/null
    log "torch train t$th $i"
    /usr/bin/python3 scripts/bench_torch.py train --batch 8 --size 128 --steps 10 --warmup 2 --threads "$th" >"$D/torch_train_t${th}_$i.json"
  done
done
for th in 2 1; do
  for i in 1 2; do
    log "ort infer t$th $i"
    "$BIN" bench --model "$D/m.onnx" --batch 1,8 --size 256 --threads "$th" --warmup 2 --runs 10 --report "$D/ort_infer_t${th}_$i.json" >/dev/null
    log "torch infer t$th $i"
    /usr/bin/python3 scripts/bench_torch.py infer --model "$D/m.onnx" --batch 1,8 --size 256 --threads "$th" --warmup 2 --runs 10 >"$D/torch_infer_t${th}_$i.json"
  done
done
log done
