//go:build cgo

package device

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/ops/cuda/cublas"
	"github.com/ssl4dp/ssl4dp/ops/cuda/driver"
)

// stub builds one of ops/cuda's stand-in libraries with gcc.
func stub(t *testing.T, src, name string, defs ...string) string {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc (which cgo needs anyway) is not installed")
	}
	lib := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command(cc, append([]string{"-shared", "-fPIC", "-o", lib, filepath.Join(testenv.RepoRoot(t), src)}, defs...)...).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return lib
}

// TestCUDADevicePlumbing opens the CUDA device on the stand-in driver and cuBLAS (host
// memory behind the driver API; they run no real kernels): every kernel of the committed PTX
// is found, memory round-trips through the Device and Engine, GEMMs reach cuBLAS in
// row-major order, and an unknown kernel is a one-line error.
func TestCUDADevicePlumbing(t *testing.T) {
	t.Setenv(driver.LibraryEnv, stub(t, "ops/cuda/driver/testdata/fakecuda.c", "libcuda.so.1",
		"-DFAKE_INIT=0", "-DFAKE_VERSION=13000", "-DFAKE_DEVICES=1"))
	t.Setenv(cublas.LibraryEnv, stub(t, "ops/cuda/cublas/testdata/fakecublas.c", "libcublas.so.13"))
	d, err := NewCUDA(0)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Kernels() != 55 {
		t.Errorf("%d kernels loaded from the committed PTX, want the 55 of ops/cuda/kernels", d.Kernels())
	}
	e := NewEngine(d)
	host := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))
	a, err := e.Upload(host)
	if err != nil {
		t.Fatal(err)
	}
	b := e.New(2, 3)
	if err := d.Copy(PtrOf(b), PtrOf(a), 24); err != nil {
		t.Fatal(err)
	}
	if err := d.Zero(PtrOf(b), 8); err != nil {
		t.Fatal(err)
	}
	got, err := Download(b)
	if err != nil {
		t.Fatal(err)
	}
	if s := got.Data().([]float32); s[0] != 0 || s[1] != 0 || s[2] != 3 || s[5] != 6 {
		t.Fatalf("copy then zero gave %v", s)
	}
	// C[2×2] = A[2×3]·Aᵀ.
	c := e.New(2, 2)
	if err := d.Gemm(false, true, 2, 2, 3, 1, PtrOf(a), 3, PtrOf(a), 3, 0, PtrOf(c), 2); err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	cc, _ := Download(c)
	if s, want := cc.Data().([]float32), []float32{14, 32, 32, 77}; s[0] != want[0] || s[1] != want[1] || s[2] != want[2] || s[3] != want[3] {
		t.Fatalf("A·Aᵀ = %v, want %v", s, want)
	}
	// Pinned staging: filled, queued, synced, read back.
	st, err := d.AllocPinned(24)
	if err != nil {
		t.Fatal(err)
	}
	copy(st.Bytes(), Bytes32([]float32{6, 5, 4, 3, 2, 1}))
	if err := d.CopyInPinned(PtrOf(b), st, 24); err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if got, _ := Download(b); got.Data().([]float32)[0] != 6 || got.Data().([]float32)[5] != 1 {
		t.Fatalf("pinned copy gave %v", got.Data())
	}
	if err := d.FreePinned(st); err != nil {
		t.Fatal(err)
	}
	if err := d.Launch("no_such_kernel", Dim3{1, 1, 1}, Dim3{1, 1, 1}, 0); err == nil || !strings.Contains(err.Error(), "no kernel") {
		t.Errorf("unknown kernel: %v", err)
	}
}
