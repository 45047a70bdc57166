#!/usr/bin/env bash
# The real-photo benchmark: builds the cut-paste segmentation dataset from Debian packages
# (no installation: apt-get download + dpkg -x) and runs experiments/cutpaste.toml on it —
# RandomInit, MoCo v2, the four dense continuations of MoCo v2 and a MoCo-continued control,
# MoCoFCN head, 3 seeds.
# docs/results.md holds what it gave on this project's 2-core machine.
#
#   ./scripts/run_cutpaste_benchmark.sh [OUT]          # default OUT: runs/cutpaste
#   nohup ./scripts/run_cutpaste_benchmark.sh > cutpaste.log 2>&1 &
#
# Running it again continues an interrupted benchmark (finished cells are kept).
#
# The data (cached in $SSL4DP_CACHE or ~/.cache/ssl4dp, subfolder cutpaste):
#   objects      tuxpaint-stamps-default's photo cut-outs with their hand-made alpha masks
#                from the four categories whose stamps are mostly photographs — animals,
#                food, household, plants (symbols, town, vehicles, … are mostly drawings);
#                286 PNGs, all in one class "object": figure-ground segmentation. (With the
#                four categories as four classes, 400 fine-tuning steps from random
#                initialisation learnt nothing beyond the background prior — 16.6% mIoU
#                against 16.4% for "all background" — so the benchmark could not have told the
#                rows apart at the size this machine allows.)
#   backgrounds  photos: mate-backgrounds' nature/ (12), lomiri-wallpapers-16.04 (15) and five
#                colour photos from python3-skimage's data folder (astronaut, chelsea, coffee,
#                motorcycle_left, rocket)
# data/cutpaste.go composes 96×96 scenes (1–3 objects on a random background crop) and holds
# out every fifth file of each category and of the backgrounds for the val split, so val
# scenes show unseen objects on unseen photos.
#
# Environment: SSL4DP (the binary; default bin/ssl4dp, built with `just build` if missing),
# GRID (default experiments/cutpaste.toml).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-runs/cutpaste}"
bin="${SSL4DP:-$here/bin/ssl4dp}"
grid="${GRID:-$here/experiments/cutpaste.toml}"
cache="${SSL4DP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ssl4dp}"
dest="$cache/cutpaste"

# Stamps and mate-backgrounds (scripts/build_cutpaste.sh downloads them once).
"$here/scripts/build_cutpaste.sh" "$dest" >/dev/null
root="$dest/root"

# The extra backgrounds, once.
if [[ ! -d "$root/usr/share/backgrounds" || ! -f "$root/usr/lib/python3/dist-packages/skimage/data/chelsea.png" ]]; then
    (
        cd "$dest/debs"
        apt-get download lomiri-wallpapers-16.04 python3-skimage >&2 ||
            { echo "run_cutpaste_benchmark: apt-get download failed; try 'apt-get update' first" >&2; exit 1; }
    )
    dpkg -x "$dest"/debs/lomiri-wallpapers-16.04_*.deb "$root"
    dpkg -x "$dest"/debs/python3-skimage_*.deb "$root"
fi

# The benchmark's folders: hard links (no copies) to the chosen files, rebuilt every time so
# that they always hold exactly this selection.
bench="$dest/benchmark"
rm -rf "$bench"
mkdir -p "$bench/objects/object" "$bench/backgrounds/skimage"
for c in animals food household plants; do
    cp -al "$root/usr/share/tuxpaint/stamps/$c" "$bench/objects/object/$c"
done
cp -al "$root/usr/share/backgrounds/mate/nature" "$bench/backgrounds/mate"
mkdir -p "$bench/backgrounds/lomiri"
for f in "$root"/usr/share/backgrounds/*.jpg; do
    ln "$f" "$bench/backgrounds/lomiri/"
done
for f in astronaut.png chelsea.png coffee.png motorcycle_left.png rocket.jpg; do
    ln "$root/usr/lib/python3/dist-packages/skimage/data/$f" "$bench/backgrounds/skimage/"
done
echo "run_cutpaste_benchmark: $(find "$bench/objects" -name '*.png' | wc -l) cut-outs in $(ls "$bench/objects/object" | wc -l) folders," \
    "$(find "$bench/backgrounds" -type f | wc -l) backgrounds in $bench" >&2

export CUTPASTE="cutpaste:objects=$bench/objects,backgrounds=$bench/backgrounds"
if [[ ! -x "$bin" ]]; then
    (cd "$here" && just build)
fi
echo "run_cutpaste_benchmark: $(date -u +%FT%TZ) start; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "run_cutpaste_benchmark: CUTPASTE=$CUTPASTE" >&2
start=$SECONDS
"$bin" experiment "$grid" --out "$out"
echo "run_cutpaste_benchmark: $(date -u +%FT%TZ) done in $(( (SECONDS - start) / 60 )) min; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
