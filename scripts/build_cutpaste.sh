#!/usr/bin/env bash
# Fetches Debian's photo stamps and wallpapers for the cut-paste dataset, without installing
# anything: `apt-get download` + `dpkg -x` into DEST (default: $SSL4DP_CACHE or
# ~/.cache/ssl4dp, subfolder cutpaste). Prints the --data spec to use.
#
#   ./scripts/build_cutpaste.sh [DEST]
#   ssl4dp data preview --data "$(./scripts/build_cutpaste.sh)" --aug seg -o cutpaste.png
#
# Packages: tuxpaint-stamps-default (PNG cut-outs with alpha in category folders: animals,
# food, symbols, …) and mate-backgrounds (its nature/ folder: 12 photos, 1280–2560 px wide).
set -euo pipefail

cache="${SSL4DP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ssl4dp}"
dest="${1:-$cache/cutpaste}"
stamps="$dest/root/usr/share/tuxpaint/stamps"
# nature/ holds the photos; abstract/ and desktop/ are mostly semi-transparent overlays.
backgrounds="$dest/root/usr/share/backgrounds/mate/nature"

if [[ ! -d "$stamps" || ! -d "$backgrounds" ]]; then
    mkdir -p "$dest/debs" "$dest/root"
    (
        cd "$dest/debs"
        if ! apt-get download tuxpaint-stamps-default mate-backgrounds >&2; then
            echo "build_cutpaste: apt-get download failed; try 'apt-get update' first" >&2
            exit 1
        fi
    )
    for deb in "$dest"/debs/*.deb; do
        dpkg -x "$deb" "$dest/root"
    done
fi
echo "cutpaste:objects=$stamps,backgrounds=$backgrounds"
