//go:build cgo

package cublas

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/ops/cuda/driver"
)

func build(t *testing.T, src, name string, defs ...string) string {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc (which cgo needs anyway) is not installed")
	}
	lib := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command(cc, append([]string{"-shared", "-fPIC", "-o", lib, src}, defs...)...).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return lib
}

// TestGemmRowMajor checks Gemm's row-major mapping onto cuBLAS's column-major SGEMM for all
// four transposes, with padded leading dimensions and β ≠ 0, against a plain Go product.
func TestGemmRowMajor(t *testing.T) {
	root := testenv.RepoRoot(t)
	t.Setenv(driver.LibraryEnv, build(t, filepath.Join(root, "ops/cuda/driver/testdata/fakecuda.c"), "libcuda.so.1",
		"-DFAKE_INIT=0", "-DFAKE_VERSION=13000", "-DFAKE_DEVICES=1"))
	t.Setenv(LibraryEnv, build(t, "testdata/fakecublas.c", "libcublas.so.13"))
	c, err := driver.Open(0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if file, ver, _ := Load(); !strings.HasSuffix(file, "libcublas.so.13") || ver != "13.1.0" {
		t.Errorf("loaded %s %s", file, ver)
	}
	if err := h.SetTF32(true); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const m, n, k, pad = 3, 4, 5, 2
	for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		ta, tb := tr[0], tr[1]
		// Stored shapes: A is m×k (k×m when transposed), B k×n (n×k), each row padded.
		ar, ac := m, k
		if ta {
			ar, ac = k, m
		}
		br, bc := k, n
		if tb {
			br, bc = n, k
		}
		lda, ldb, ldc := ac+pad, bc+pad, n+pad
		a, b, cm := random(rng, ar*lda), random(rng, br*ldb), random(rng, m*ldc)
		at := func(i, p int) float32 {
			if ta {
				return a[p*lda+i]
			}
			return a[i*lda+p]
		}
		bt := func(p, j int) float32 {
			if tb {
				return b[j*ldb+p]
			}
			return b[p*ldb+j]
		}
		want := append([]float32(nil), cm...)
		for i := range m {
			for j := range n {
				var s float64
				for p := range k {
					s += float64(at(i, p)) * float64(bt(p, j))
				}
				want[i*ldc+j] = float32(1.5*s + 0.5*float64(cm[i*ldc+j]))
			}
		}
		pa, pb, pc := upload(t, c, a), upload(t, c, b), upload(t, c, cm)
		if err := h.Gemm(ta, tb, m, n, k, 1.5, pa, lda, pb, ldb, 0.5, pc, ldc); err != nil {
			t.Fatal(err)
		}
		got := download(t, c, pc, len(cm))
		for i := range got {
			if math.Abs(float64(got[i]-want[i])) > 1e-5*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("transA %v transB %v: C[%d] = %v, want %v", ta, tb, i, got[i], want[i])
			}
		}
	}
	if err := h.Gemm(false, false, m, n, k, 1, 0, 1, 0, 1, 0, 0, 1); err == nil || !strings.Contains(err.Error(), "CUBLAS_STATUS_INVALID_VALUE") {
		t.Errorf("bad leading dimensions: %v", err)
	}
}

func random(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func upload(t *testing.T, c *driver.Context, v []float32) driver.Ptr {
	t.Helper()
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	p, err := c.Alloc(len(b))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Free(p) })
	if err := c.CopyIn(p, b); err != nil {
		t.Fatal(err)
	}
	return p
}

func download(t *testing.T, c *driver.Context, p driver.Ptr, n int) []float32 {
	t.Helper()
	b := make([]byte, 4*n)
	if err := c.CopyOut(b, p); err != nil {
		t.Fatal(err)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func TestLoadErrors(t *testing.T) {
	t.Setenv(LibraryEnv, filepath.Join(t.TempDir(), "libcublas.so.13"))
	if _, _, err := Load(); err == nil || !strings.Contains(err.Error(), "no cuBLAS (") || !strings.Contains(err.Error(), "LD_LIBRARY_PATH") {
		t.Errorf("no library: %v", err)
	}
	t.Setenv(LibraryEnv, build(t, "testdata/fakecublas.c", "libcublas.so.12", "-DNO_GEMM"))
	if _, _, err := Load(); err == nil || !strings.Contains(err.Error(), "has no cublasSgemm_v2") {
		t.Errorf("not cuBLAS: %v", err)
	}
}
