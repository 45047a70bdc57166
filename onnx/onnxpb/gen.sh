#!/usr/bin/env bash
# Regenerates onnx-ml.pb.go from Debian's onnx-ml.proto (package python3-onnx 1.12).
#
# The proto package is renamed from "onnx" to "ssl4dp.onnx": protobuf registers every
# message under its full name in one global registry, so two Go packages generated from the
# same .proto under the same name (ours and, say, onnx-go's) would clash at start-up.
#
# Needs: protoc (Debian protobuf-compiler) and protoc-gen-go at the version go.mod pins.
# Run through `just proto`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${ONNX_PROTO:-/usr/lib/python3/dist-packages/onnx/onnx-ml.proto}
[ -f "$src" ] || { echo "gen.sh: $src not found; install Debian's python3-onnx or set ONNX_PROTO" >&2; exit 1; }
command -v protoc >/dev/null || { echo "gen.sh: protoc not found; apt-get install protobuf-compiler" >&2; exit 1; }
ver=$(cd "$here/../.." && go list -m -f '{{.Version}}' google.golang.org/protobuf)
GOBIN="$here/.bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$ver"
tmp=$(mktemp -d); trap 'rm -rf "$tmp" "$here/.bin"' EXIT
sed -e 's/^package onnx;/package ssl4dp.onnx;\noption go_package = "github.com\/ssl4dp\/ssl4dp\/onnx\/onnxpb";/' "$src" > "$tmp/onnx-ml.proto"
PATH="$here/.bin:$PATH" protoc -I "$tmp" --go_out="$tmp" --go_opt=paths=source_relative "$tmp/onnx-ml.proto"
mv "$tmp/onnx-ml.pb.go" "$here/onnx-ml.pb.go"
echo "wrote $here/onnx-ml.pb.go from $src ($(sha256sum "$src" | cut -c1-16))"
