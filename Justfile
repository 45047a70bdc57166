# ssl4dp tasks. `just` lists them; `just test` is what CI runs.
set shell := ["bash", "-euo", "pipefail", "-c"]

# Build tags: OpenBLAS when its library is installed, else the pure-Go BLAS. Recipes that
# run after `setup` re-invoke just, so that this is decided after setup installed OpenBLAS.
tags := `ls /usr/lib/x86_64-linux-gnu/libopenblas.so /usr/lib/*/libopenblas.so 2>/dev/null | head -1 | grep -q . && echo "" || echo purego`
just := just_executable()

default:
    @{{just}} --list

# Install everything the build and tests need (idempotent; a second run takes seconds): Debian packages (as root), Go modules, onnxruntime.
setup:
    ./scripts/setup_debian.sh || echo "setup: continuing without the Debian packages above (pure-Go BLAS; tests that need them will fail under SSL4DP_STRICT=1)" >&2
    go mod download
    ./scripts/setup_ort.sh >/dev/null

# Build bin/ssl4dp.
build: setup
    @{{just}} _build

_build:
    go build -tags '{{tags}}' -o bin/ssl4dp ./cmd/ssl4dp
    @echo "built bin/ssl4dp ($(bin/ssl4dp version | head -1))"

# The main job on built-in synthetic data: pre-train (MoCo v2, then PLMoCo), fine-tune, export, evaluate, bench; prints the table (runs/demo). Installs what it needs first.
demo: setup
    @{{just}} _build
    bin/ssl4dp demo

# Run every test (what CI runs): formatting, vet and staticcheck on both BLAS builds, unit and integration tests, a short fuzz.
test: setup
    @{{just}} _test

_test:
    #!/usr/bin/env bash
    set -euo pipefail
    start=$SECONDS
    step() { printf '== %s (%ds)\n' "$1" $((SECONDS - start)); }
    step "gofmt"
    files=$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*')
    unformatted=$(echo "$files" | xargs -r gofmt -l)
    [ -z "$unformatted" ] || { echo "gofmt: these files need gofmt -w:"; echo "$unformatted"; exit 1; }
    step "go vet (tags '{{tags}}', and purego)"
    go vet -tags '{{tags}}' ./...
    go vet -tags purego ./...
    step "staticcheck"
    go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tags '{{tags}}' ./...
    step "go test (SSL4DP_STRICT=1: a missing dependency fails instead of skipping)"
    export ONNXRUNTIME_SHARED_LIBRARY_PATH="$(./scripts/setup_ort.sh)"
    SSL4DP_STRICT=1 go test -tags '{{tags}}' -timeout 30m ./...
    step "fuzz the ONNX decoder for 10s"
    go test -tags '{{tags}}' ./onnx/ -run '^$' -fuzz FuzzDecode -fuzztime 10s -fuzzminimizetime 100x
    step "done"

# The quick tests only (-short); no setup.
test-short:
    go test -tags '{{tags}}' -short ./...

# The long tests too (full-width sweeps, full-size parity; torch-based ones need Debian's python3-torch).
test-long: setup
    ONNXRUNTIME_SHARED_LIBRARY_PATH="$(./scripts/setup_ort.sh)" SSL4DP_LONG=1 go test -tags '{{tags}}' -timeout 60m ./...

# Regenerate onnx/onnxpb from Debian's onnx-ml.proto (needs protobuf-compiler).
proto:
    ./onnx/onnxpb/gen.sh

# Regenerate the CUDA kernels' PTX (ops/cuda/kernels/ptx) from their sources with Debian's clang-15; commit the result.
ptx:
    ./scripts/ptx.sh
