#!/usr/bin/env bash
# Benchmark v2 (issue 20): builds its data from Debian packages (scripts/build_bench_v2.sh;
# no installation) and runs experiments/bench-v2.toml — 11 rows × (fine-tuning at full
# labels and at 1/8, linear probe, retrieval) × 5 seeds — into OUT.
#
#   ./scripts/run_bench_v2.sh [OUT]                # default OUT: runs/bench-v2
#   ./scripts/run_bench_v2.sh --pilot [OUT]        # seed 1 of RandomInit, Supervised, MoCo v2
#   nohup nice -n 19 ./scripts/run_bench_v2.sh > bench-v2.log 2>&1 &
#
# Running it again continues an interrupted run (finished stages and cells are kept). The
# pilot's grid is the full grid cut to its first three rows and seed 1, so its folders have
# the full run's keys: a full run in the same OUT reuses them.
#
# Environment: SSL4DP (the binary; default bin/ssl4dp, built with `just build` if missing),
# GRID (default experiments/bench-v2.toml), JOBS (default 2).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
pilot=0
if [[ "${1:-}" == "--pilot" ]]; then
    pilot=1
    shift
fi
out="${1:-runs/bench-v2}"
bin="${SSL4DP:-$here/bin/ssl4dp}"
grid="${GRID:-$here/experiments/bench-v2.toml}"
jobs="${JOBS:-2}"

eval "$("$here/scripts/build_bench_v2.sh" --export)"
mkdir -p "$out"
if [[ $pilot == 1 ]]; then
    # Seed 1, and the rows before the first continuation of MoCo v2.
    awk '/^seeds *=/ { print "seeds = [1]"; next }
         /^\[\[row\]\]/ { rows++ }
         rows == 4 { exit }
         { print }' "$grid" > "$out/pilot.toml"
    grid="$out/pilot.toml"
fi
if [[ ! -x "$bin" ]]; then
    (cd "$here" && just build)
fi
echo "run_bench_v2: $(date -u +%FT%TZ) start $grid; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "run_bench_v2: BENCH2=$BENCH2" >&2
echo "run_bench_v2: BENCH2_POOL=$BENCH2_POOL" >&2
start=$SECONDS
"$bin" experiment "$grid" --out "$out" --jobs "$jobs"
echo "run_bench_v2: $(date -u +%FT%TZ) done in $(( (SECONDS - start) / 60 )) min; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
