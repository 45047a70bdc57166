#!/usr/bin/env bash
# Installs onnxruntime's CPU shared library into the project cache, idempotently.
#
# Source: the npm package onnxruntime-node@1.30.0, which ships the official CPU build
# bin/napi-v6/linux/x64/libonnxruntime.so.1 (the only registry this project can reach that
# carries it). The file is checked against a pinned sha256.
#
# Prints the library path on success. Set ONNXRUNTIME_SHARED_LIBRARY_PATH to use your own
# build (e.g. a GPU build for --provider cuda) instead; this script then does nothing.
set -euo pipefail
version=1.30.0
sha=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
cache=${SSL4DP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ssl4dp}
dest="$cache/onnxruntime-$version/libonnxruntime.so.1"

if [ -n "${ONNXRUNTIME_SHARED_LIBRARY_PATH:-}" ]; then
  [ -f "$ONNXRUNTIME_SHARED_LIBRARY_PATH" ] || { echo "setup_ort: ONNXRUNTIME_SHARED_LIBRARY_PATH=$ONNXRUNTIME_SHARED_LIBRARY_PATH does not exist" >&2; exit 1; }
  echo "$ONNXRUNTIME_SHARED_LIBRARY_PATH"; exit 0
fi
if [ -f "$dest" ] && echo "$sha  $dest" | sha256sum -c --status; then
  echo "$dest"; exit 0
fi
case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) ;;
  *) echo "setup_ort: the npm package only carries a Linux x86-64 library; on $(uname -s)/$(uname -m) install onnxruntime $version yourself and set ONNXRUNTIME_SHARED_LIBRARY_PATH" >&2; exit 1 ;;
esac
command -v npm >/dev/null || { echo "setup_ort: npm not found; install Node.js (apt-get install npm) or set ONNXRUNTIME_SHARED_LIBRARY_PATH to an onnxruntime $version library" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "setup_ort: fetching onnxruntime-node@$version from the npm registry (~110 MB)" >&2
(cd "$tmp" && npm pack --silent "onnxruntime-node@$version" >/dev/null)
tar -xzf "$tmp"/onnxruntime-node-$version.tgz -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
lib="$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1"
echo "$sha  $lib" | sha256sum -c --status || { echo "setup_ort: sha256 of libonnxruntime.so.1 does not match the pinned value; refusing to install it" >&2; exit 1; }
mkdir -p "$(dirname "$dest")"
cp "$lib" "$dest.tmp" && mv "$dest.tmp" "$dest"
echo "$dest"
