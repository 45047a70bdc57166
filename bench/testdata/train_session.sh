#!/usr/bin/env bash
# A training-step measurement session behind docs/benchmarks.md's "CPU training step" section:
# ssl4dp (`bench train --profile`) and PyTorch 1.13 (scripts/bench_torch.py) alternately on
# the two networks of the CPU-speed work —
#   r18: ResNet-18 OS16 + MoCo FCN, batch 8, 128×128, at 2 threads (two runs) and 1 (two runs)
#   r50: ResNet-50 OS8 + MoCo FCN, batch 4, 256×256, at 2 threads (two runs)
# Writes go_<net>_t<threads>_<run>.json, torch_<net>_t<threads>_<run>.json and load.txt (time
# and /proc/loadavg before each command) into OUT. Run from the repository root on a quiet
# machine; the reports record the commit.
#
#   bench/testdata/train_session.sh OUT
#   BIN=/path/to/older/ssl4dp TORCH=0 bench/testdata/train_session.sh OUT   # ssl4dp only, another build
#   /usr/bin/python3 bench/testdata/train_table.py OUT [BEFORE]               # the tables
#
# The binary must have `bench train --profile` (commit 58f9808 or later).
set -euo pipefail
D=${1:?usage: train_session.sh OUT}
mkdir -p "$D"
BIN=${BIN:-}
if [ -z "$BIN" ]; then
  BIN=$D/ssl4dp
  go build -buildvcs=true -o "$BIN" ./cmd/ssl4dp
fi
TORCH=${TORCH:-1}
log() { echo "$(date -u +%H:%M:%S) $(cut -d' ' -f1-3 /proc/loadavg) $*" >>"$D/load.txt"; }
run() { # net threads run: one ssl4dp report and (unless TORCH=0) one PyTorch report
  local net=$1 th=$2 i=$3 args torch
  case $net in
    r18) args=(--encoder resnet18 --output-stride 16 --batch 8 --size 128 --steps 10 --warmup 2)
         torch=(--encoder resnet18 --output-stride 16 --batch 8 --size 128 --steps 10 --warmup 2) ;;
    r50) args=(--encoder resnet50 --output-stride 8 --batch 4 --size 256 --steps 5 --warmup 2)
         torch=(--encoder resnet50 --output-stride 8 --batch 4 --size 256 --steps 5 --warmup 2) ;;
  esac
  log "go $net t$th $i"
  "$BIN" bench train "${args[@]}" --head fcn --threads "$th" --profile --report "$D/go_${net}_t${th}_$i.json" >/dev/null
  if [ "$TORCH" = 1 ]; then
    log "torch $net t$th $i"
    /usr/bin/python3 scripts/bench_torch.py train "${torch[@]}" --threads "$th" >"$D/torch_${net}_t${th}_$i.json"
  fi
}
for i in 1 2; do run r18 2 "$i"; done
for i in 1 2; do run r18 1 "$i"; done
for i in 1 2; do run r50 2 "$i"; done
log done
