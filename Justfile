# ssl4dp tasks. `just` lists them; `just demo` and `just test` are the quick start.
set shell := ["bash", "-euo", "pipefail", "-c"]

# Build tags: OpenBLAS when its library is installed, else the pure-Go BLAS.
tags := `ls /usr/lib/x86_64-linux-gnu/libopenblas.so /usr/lib/*/libopenblas.so 2>/dev/null | head -1 | grep -q . && echo "" || echo purego`

default:
    @just --list

# Install everything the build and tests need (idempotent): Debian packages, Go modules, onnxruntime.
setup:
    ./scripts/setup_debian.sh || echo "setup: continuing without the Debian packages above (pure-Go BLAS, fewer tests)" >&2
    go mod download
    ./scripts/setup_ort.sh >/dev/null

# Build bin/ssl4dp.
build: setup
    go build -tags '{{tags}}' -o bin/ssl4dp ./cmd/ssl4dp

# Run every test (what CI runs): vet, staticcheck, unit and integration tests, a short fuzz.
test: setup
    go vet -tags '{{tags}}' ./...
    go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tags '{{tags}}' ./...
    ONNXRUNTIME_SHARED_LIBRARY_PATH="$(./scripts/setup_ort.sh)" SSL4DP_STRICT=1 go test -tags '{{tags}}' -timeout 30m ./...
    go test -tags '{{tags}}' ./onnx/ -run '^$' -fuzz FuzzDecode -fuzztime 10s -fuzzminimizetime 100x

# The quick tests only (-short).
test-short: setup
    go test -tags '{{tags}}' -short ./...

# Regenerate onnx/onnxpb from Debian's onnx-ml.proto (needs protobuf-compiler).
proto:
    ./onnx/onnxpb/gen.sh
