#!/usr/bin/env bash
# Builds benchmark v2's data from Debian packages without installing anything (`apt-get
# download` + `dpkg -x` into DEST, default $SSL4DP_CACHE or ~/.cache/ssl4dp, subfolder
# bench-v2) and prints two lines: the labelled fine-tuning spec and the unlabelled
# pre-training spec (experiments/bench-v2.toml reads them as ${BENCH2} and ${BENCH2_POOL}).
#
#   ./scripts/build_bench_v2.sh [DEST]
#   eval "$(./scripts/build_bench_v2.sh --export)"     # sets BENCH2 and BENCH2_POOL
#
# What goes in, and its licence (from each package's copyright file or the wallpaper's
# metadata.json; all are free to redistribute and modify):
#
#   objects      tuxpaint-stamps-default (GPL-2): the PNG photo cut-outs with hand-made alpha
#                of the four categories that are mostly photographs; the category is the
#                class: animals (146), food (67), household (34), plants (39) = 286 cut-outs,
#                4 classes + background.
#   backgrounds  photographs, 43 in all:
#                mate-backgrounds nature/ (GPL-2+, 12),
#                lomiri-wallpapers-16.04 (CC-BY-4.0, CC-BY-SA-4.0, CC0-1.0; 14 of its 15:
#                umang_by_Abhishek_Mudgal is a gradient),
#                plasma-workspace-wallpapers, the 12 photographs among its 30 wallpapers,
#                smallest size each (LGPL-3: BytheWater, ColdRipple, ColorfulCups,
#                DarkestHour, EveningGlow, FallenLeaf, Grey, Kite, OneStandsOut, Path,
#                summer_1am; CC-BY-SA-4.0: Shell) — the others are drawings or renders,
#                python3-skimage's data folder (BSD-3-Clause; astronaut, chelsea, coffee,
#                motorcycle_left, rocket: the colour photographs).
#
# The scenes (data/cutpaste.go): 1–3 cut-outs, each of a random category, scaled, flipped
# and pasted on a random crop of a background. Every fifth file of each category and of the
# backgrounds is held out for the val split. The two specs differ only in the scene seed and
# count: the labelled set is 400 scenes (seed 1) and the unlabelled pool 8000 (seed 2, labels
# never read by train pretext) — 20× the labelled set, the regime where pre-training is
# meant to matter; both draw from the same training cut-outs and photographs.
set -euo pipefail

export_vars=0
if [[ "${1:-}" == "--export" ]]; then
    export_vars=1
    shift
fi
cache="${SSL4DP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ssl4dp}"
dest="${1:-$cache/bench-v2}"
size="${BENCH2_SIZE:-96}"
labelled="${BENCH2_N:-400}"
pool="${BENCH2_POOL_N:-8000}"
val="${BENCH2_VAL:-200}"
root="$dest/root"
packages=(tuxpaint-stamps-default mate-backgrounds lomiri-wallpapers-16.04 plasma-workspace-wallpapers python3-skimage)

if [[ ! -f "$dest/.extracted" ]]; then
    mkdir -p "$dest/debs" "$root"
    (
        cd "$dest/debs"
        if ! apt-get download "${packages[@]}" >&2; then
            echo "build_bench_v2: apt-get download ${packages[*]} failed; try 'apt-get update' first" >&2
            exit 1
        fi
    )
    for deb in "$dest"/debs/*.deb; do
        dpkg -x "$deb" "$root"
    done
    touch "$dest/.extracted"
fi

# The dataset's folders: hard links to the chosen files, rebuilt every time so that they
# hold exactly this selection.
data="$dest/data"
rm -rf "$data"
mkdir -p "$data/objects" "$data/backgrounds/mate" "$data/backgrounds/lomiri" "$data/backgrounds/plasma" "$data/backgrounds/skimage"
for c in animals food household plants; do
    cp -al "$root/usr/share/tuxpaint/stamps/$c" "$data/objects/$c"
done
for f in "$root"/usr/share/backgrounds/mate/nature/*; do
    ln "$f" "$data/backgrounds/mate/"
done
for f in "$root"/usr/share/backgrounds/*.jpg; do
    # umang_by_Abhishek_Mudgal is a colour gradient, not a photograph.
    [[ "$f" == *umang_by_Abhishek_Mudgal* ]] || ln "$f" "$data/backgrounds/lomiri/"
done
for w in BytheWater ColdRipple ColorfulCups DarkestHour EveningGlow FallenLeaf Grey Kite OneStandsOut Path Shell summer_1am; do
    # The smallest regular file of each (most sizes are symbolic links to one picture):
    # enough pixels for 96-pixel scenes, and the fastest to decode.
    f="$(find "$root/usr/share/wallpapers/$w/contents/images" -type f -printf '%s %p\n' | sort -n | head -1 | cut -d' ' -f2-)"
    ln "$f" "$data/backgrounds/plasma/$w-${f##*/}"
done
for f in astronaut.png chelsea.png coffee.png motorcycle_left.png rocket.jpg; do
    ln "$root/usr/lib/python3/dist-packages/skimage/data/$f" "$data/backgrounds/skimage/"
done
echo "build_bench_v2: $(find "$data/objects" -name '*.png' | wc -l) cut-outs in $(ls "$data/objects" | wc -l) classes," \
    "$(find "$data/backgrounds" -type f | wc -l) backgrounds in $data" >&2

base="cutpaste:objects=$data/objects,backgrounds=$data/backgrounds,size=$size,val=$val"
spec="$base,n=$labelled,seed=1"
poolspec="$base,n=$pool,seed=2"
if [[ $export_vars == 1 ]]; then
    printf 'export BENCH2=%q\nexport BENCH2_POOL=%q\n' "$spec" "$poolspec"
else
    echo "$spec"
    echo "$poolspec"
fi
