package kernels

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
)

// TestPTXUpToDate regenerates the PTX from the sources and fails if it differs from the
// committed ptx/*.ptx (fix: `just ptx` and commit).
func TestPTXUpToDate(t *testing.T) {
	clang := testenv.Clang15(t)
	dir := t.TempDir()
	cmd := exec.Command("../../../scripts/ptx.sh", dir)
	cmd.Env = append(os.Environ(), "CLANG="+clang)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/ptx.sh: %v\n%s", err, out)
	}
	fresh, _ := filepath.Glob(filepath.Join(dir, "*.ptx"))
	committed, _ := fs.Glob(PTX, "ptx/*.ptx")
	if len(fresh) != len(committed) {
		t.Fatalf("the sources make %d PTX files, %d are committed: run `just ptx` and commit ops/cuda/kernels/ptx", len(fresh), len(committed))
	}
	for _, f := range fresh {
		name := filepath.Base(f)
		got, _ := os.ReadFile(f)
		want, err := fs.ReadFile(PTX, "ptx/"+name)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("ptx/%s is not what its source compiles to (%v): run `just ptx` and commit it", name, err)
		}
	}
}

var (
	kernelDecl = regexp.MustCompile(`extern "C" __global__ void (\w+)\(`)
	ptxEntry   = regexp.MustCompile(`\.entry (\w+)\(`)
	atomicOp   = regexp.MustCompile(`\b(atom|red)\.`)
)

// TestEveryKernelInPTX: each family's PTX has exactly its source's kernels as entries, PTX
// ISA 7.0 for sm_80, no atomics outside kernels named *_atomic, no approximate or
// flush-to-zero instructions, and no call to a function it does not define (expf, say:
// there is no libdevice to resolve it).
func TestEveryKernelInPTX(t *testing.T) {
	srcs, _ := fs.Glob(Sources, "*.cu")
	if len(srcs) == 0 {
		t.Fatal("no kernel sources")
	}
	for _, s := range srcs {
		src, _ := fs.ReadFile(Sources, s)
		ptx, err := fs.ReadFile(PTX, "ptx/"+strings.TrimSuffix(s, ".cu")+".ptx")
		if err != nil {
			t.Errorf("%s has no PTX: run `just ptx`", s)
			continue
		}
		var want, got []string
		for _, m := range kernelDecl.FindAllStringSubmatch(string(src), -1) {
			want = append(want, m[1])
		}
		for _, m := range ptxEntry.FindAllStringSubmatch(string(ptx), -1) {
			got = append(got, m[1])
		}
		if strings.Join(got, " ") != strings.Join(want, " ") || len(want) == 0 {
			t.Errorf("%s defines kernels %v; its PTX has entries %v", s, want, got)
		}
		if !bytes.Contains(ptx, []byte(".version 7.0\n.target sm_80\n")) {
			t.Errorf("%s: PTX is not ISA 7.0 for sm_80", s)
		}
		// Determinism: only kernels named *_atomic may use atomics.
		for _, body := range strings.Split(string(ptx), ".entry ")[1:] {
			name := body[:strings.IndexByte(body, '(')]
			if atomicOp.MatchString(body) && !strings.HasSuffix(name, "_atomic") {
				t.Errorf("%s: kernel %s uses atomics (%s); the default kernels reduce in a fixed order, an atomic variant must be named *_atomic", s, name, atomicOp.FindString(body))
			}
		}
		// The emulator reproduces the device's bits only for IEEE-rounded instructions.
		if bytes.Contains(ptx, []byte(".approx")) || bytes.Contains(ptx, []byte(".ftz")) {
			t.Errorf("%s: PTX has an approximate or flush-to-zero instruction, which the emulator cannot reproduce bit for bit: use common.cuh's k_exp/k_log", s)
		}
		if bytes.Contains(ptx, []byte(".extern .func")) {
			t.Errorf("%s: PTX calls an external function (a libm call without libdevice): use the prelude's k_* math", s)
		}
	}
}
