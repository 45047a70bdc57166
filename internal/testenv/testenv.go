// Package testenv tells tests whether the outside things they need are present: the
// onnxruntime library, Debian's python3-onnx (the ONNX checker), ONNX's node test data,
// Debian's clang-15 (the CUDA kernels' PTX), and PyTorch (only for regenerating goldens).
//
// A missing dependency skips the test — unless SSL4DP_STRICT=1 (set by `just test`, which
// installs all of them), where it fails: CI never passes by skipping.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Strict reports whether missing test dependencies are failures (SSL4DP_STRICT=1).
func Strict() bool { return os.Getenv("SSL4DP_STRICT") == "1" }

func missing(t testing.TB, what, fix string) {
	t.Helper()
	if Strict() {
		t.Fatalf("%s is missing (SSL4DP_STRICT=1): %s", what, fix)
	}
	t.Skipf("%s is missing: %s", what, fix)
}

// ORTLibrary returns the onnxruntime shared library for tests: $ONNXRUNTIME_SHARED_LIBRARY_PATH,
// else the setup cache (scripts/setup_ort.sh). The cache path repeats ort.CacheLibrary's on
// purpose: onnx/ort's own tests use testenv, so testenv cannot import ort (an import cycle).
func ORTLibrary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("ONNXRUNTIME_SHARED_LIBRARY_PATH"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	cache := os.Getenv("SSL4DP_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "ssl4dp")
	}
	p := filepath.Join(cache, "onnxruntime-1.30.0", "libonnxruntime.so.1")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	missing(t, "the onnxruntime library", "run `just setup` or set ONNXRUNTIME_SHARED_LIBRARY_PATH")
	return ""
}

// DebianPython is Debian's interpreter, which has python3-onnx (and optionally torch); the
// python3 first on PATH may be another one.
const DebianPython = "/usr/bin/python3"

// PythonONNX skips (or fails when strict) unless Debian's python3-onnx is importable.
func PythonONNX(t testing.TB) string {
	t.Helper()
	if err := exec.Command(DebianPython, "-c", "import onnx").Run(); err != nil {
		missing(t, "Debian's python3-onnx", "apt-get install python3-onnx (or `just setup` as root)")
	}
	return DebianPython
}

// CheckModel runs Debian's onnx.checker.check_model(full_check=True) on path and fails the
// test with the checker's message if it rejects the file.
func CheckModel(t testing.TB, path string) {
	t.Helper()
	py := PythonONNX(t)
	out, err := exec.Command(py, "-c", `import sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)`, path).CombinedOutput()
	if err != nil {
		t.Fatalf("onnx.checker rejects %s: %v\n%s", path, err, out)
	}
}

// NodeTestDir is where Debian's libonnx-testdata puts ONNX's node conformance tests.
const NodeTestDir = "/usr/share/libonnx-testdata/data/node"

// NodeTests returns NodeTestDir, or skips (fails when strict) if it is absent.
func NodeTests(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(NodeTestDir); err != nil {
		missing(t, "ONNX's node test data", "apt-get install libonnx-testdata (or `just setup` as root)")
	}
	return NodeTestDir
}

// RepoRoot returns the module root (the folder holding go.mod), for tests that need
// committed files outside their package.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Long skips a test unless SSL4DP_LONG=1 (`just test-long`). Use it for full-size sweeps and
// parity runs that would push `just test` (CI) past its time budget; say in why what the
// short version of the test already covers.
func Long(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("SSL4DP_LONG") != "1" {
		t.Skipf("long test (%s); run with SSL4DP_LONG=1 or `just test-long`", why)
	}
}

// Clang15 returns Debian's clang-15, which compiles the CUDA kernels to PTX (scripts/ptx.sh).
func Clang15(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("clang-15")
	if err != nil {
		missing(t, "Debian's clang-15", "apt-get install clang-15 (or `just setup` as root)")
	}
	return p
}
