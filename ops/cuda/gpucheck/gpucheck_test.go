//go:build cgo

package gpucheck

import (
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/ops/cuda/driver"
	"github.com/ssl4dp/ssl4dp/ops/cuda/emu"
	"github.com/ssl4dp/ssl4dp/ops/cuda/kernels"
)

// Every kernel the emulator knows is an entry of the committed PTX, found the way the GPU
// side looks kernels up.
func TestEntriesCoverTheKernels(t *testing.T) {
	var all []string
	files, _ := fs.Glob(kernels.PTX, "ptx/*.ptx")
	for _, f := range files {
		src, _ := fs.ReadFile(kernels.PTX, f)
		all = append(all, kernels.Entries(string(src))...)
	}
	for _, k := range emu.Kernels() {
		if !slices.Contains(all, k) && !strings.HasPrefix(k, "emutest_") {
			t.Errorf("kernel %s is not an entry of the committed PTX", k)
		}
	}
	if len(all) < 40 {
		t.Errorf("only %d PTX entries", len(all))
	}
}

// With SSL4DP_GPU=1 and no GPU, a launch fails and says why; without it, Launch is the
// emulator's.
func TestLaunchWithoutGPU(t *testing.T) {
	x := []float32{-1, 2, -3}
	y := make([]float32, 3)
	if err := Launch("relu_fwd", [3]int{1, 1, 1}, [3]int{32, 1, 1}, 0, x, y, 3); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(y, []float32{0, 2, 0}) {
		t.Errorf("relu: %v", y)
	}
	t.Setenv(Env, "1")
	t.Setenv(driver.LibraryEnv, filepath.Join(t.TempDir(), "libcuda.so.1"))
	err := Launch("relu_fwd", [3]int{1, 1, 1}, [3]int{32, 1, 1}, 0, x, y, 3)
	if err == nil || !strings.Contains(err.Error(), "on the GPU: CUDA unavailable") {
		t.Errorf("SSL4DP_GPU=1 without a GPU: %v", err)
	}
}
