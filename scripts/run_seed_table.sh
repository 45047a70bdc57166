#!/usr/bin/env bash
# The seed's whole table once (issue 20, docs/seed-table.md): every row of
# experiments/cpu.toml × its heads (MoCoFCN, MoCoFCN 1/8, PSPNet, DeepLabv3+, Non-Local) and
# its probes, one seed, shrunk to minutes of training so that it finishes in a session: the
# proof that every row runs end to end, not a result.
#
#   nice -n 19 ./scripts/run_seed_table.sh [OUT]        # default OUT: runs/seed-table
#
# The grid is cpu.toml with seeds = [1], every 20-epoch stage cut to $STAGE_ITERS steps
# (default 40), every 10-epoch continuation to half that, and fine-tuning to $CELL_ITERS
# steps (default 60, validated at the end); everything else — data, network, heads, rows,
# methods and their settings — is cpu.toml's. OUT/seed-table.toml is the grid it ran.
#
# Environment: SSL4DP (default bin/ssl4dp), JOBS (default 1).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-runs/seed-table}"
bin="${SSL4DP:-$here/bin/ssl4dp}"
stage="${STAGE_ITERS:-40}"
cell="${CELL_ITERS:-60}"
jobs="${JOBS:-1}"

mkdir -p "$out"
sed -e 's/^seeds = .*/seeds = [1]/' \
    -e "s/epochs = 20/iters = $stage/g" \
    -e "s/epochs = 10/iters = $((stage / 2))/g" \
    -e "s/^iters = 1000/iters = $cell/" \
    -e "s/^val-every = 250/val-every = $cell/" \
    -e "s/^checkpoint-every = 250/checkpoint-every = $cell/" \
    -e 's/^title = "\(.*\)"/title = "\1 — one seed, shrunk (scripts\/run_seed_table.sh)"/' \
    "$here/experiments/cpu.toml" > "$out/seed-table.toml"
if grep -q 'epochs = ' "$out/seed-table.toml"; then
    echo "run_seed_table: cpu.toml has stage lengths this script does not shrink:" >&2
    grep -n 'epochs = ' "$out/seed-table.toml" >&2
    exit 1
fi
if [[ ! -x "$bin" ]]; then
    (cd "$here" && just build)
fi
echo "run_seed_table: $(date -u +%FT%TZ) start; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
start=$SECONDS
"$bin" experiment "$out/seed-table.toml" --out "$out" --jobs "$jobs"
echo "run_seed_table: $(date -u +%FT%TZ) done in $(( (SECONDS - start) / 60 )) min; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
