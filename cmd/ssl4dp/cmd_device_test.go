package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/ops/cuda/cublas"
	"github.com/ssl4dp/ssl4dp/ops/cuda/driver"
)

// fakeDriver builds the driver package's stand-in libcuda (ops/cuda/driver/testdata) with
// two GPUs and a CUDA 13.0 driver.
func fakeDriver(t *testing.T) string {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc (which cgo needs anyway) is not installed")
	}
	lib := filepath.Join(t.TempDir(), "libcuda.so.1")
	src := filepath.Join(testenv.RepoRoot(t), "ops", "cuda", "driver", "testdata", "fakecuda.c")
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-o", lib, src, "-DFAKE_INIT=0", "-DFAKE_VERSION=13000", "-DFAKE_DEVICES=2").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return lib
}

// Every training command's --device cuda: on a machine without a driver one line naming what
// is missing, exit 2; with a driver and GPUs, the commands without a CUDA path say what they
// found in one line, exit 2, and train seg (and bench train) goes on to open the CUDA device — here stopping at
// the missing cuBLAS in one line, exit 2. Never a silent run on the CPU.
func TestDeviceCUDA(t *testing.T) {
	runs := filepath.Join(t.TempDir(), "runs")
	commands := [][]string{
		{"train", "seg", "--device", "cuda", "--data", "synthetic", "--out", runs},
		{"train", "pretext", "--device", "cuda", "--method", "moco", "--scale", "cpu", "--encoder", "resnet18", "--width", "0.0625", "--size", "32", "--batch", "2", "--iters", "1", "--data", "synthetic:size=32,n=8,val=2,classes=3", "--out", filepath.Join(runs, "pretext")},
		{"bench", "train", "--device", "cuda", "--encoder", "resnet18"},
		{"experiment", "--device", "cuda", cellOnlyGrid(t), "--out", filepath.Join(runs, "grid")},
		{"demo", "--device", "cuda", "--out", filepath.Join(runs, "demo")},
	}
	t.Setenv(driver.LibraryEnv, filepath.Join(t.TempDir(), "libcuda.so.1"))
	for _, args := range commands {
		code, out, errOut := runCLI(t, args...)
		if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "CUDA unavailable: ") ||
			!strings.Contains(errOut, "no NVIDIA driver on this machine") {
			t.Errorf("%s without a driver: exit %d, stdout %q, stderr %q", strings.Join(args[:2], " "), code, out, errOut)
		}
	}
	t.Setenv(driver.LibraryEnv, fakeDriver(t))
	t.Setenv(cublas.LibraryEnv, filepath.Join(t.TempDir(), "libcublas.so.13"))
	// bench train times train seg's step on the device layer: it opens the CUDA device too.
	if code, _, errOut := runCLI(t, commands[2]...); code != 2 || !strings.Contains(errOut, "CUDA unavailable: no cuBLAS (") {
		t.Errorf("bench train with a GPU and no cuBLAS: exit %d, stderr %q", code, errOut)
	}
	// train seg, train pretext, the experiment's cell (its train seg) and the demo's first
	// stage open the CUDA device: the flag reached them.
	for _, args := range append(commands[:2:2], commands[3:]...) {
		code, _, errOut := runCLI(t, args...)
		if code != 2 || !strings.Contains(errOut, "has not yet been run on a real GPU") || !strings.Contains(errOut, "CUDA unavailable: no cuBLAS (") {
			t.Errorf("%s with a GPU and no cuBLAS: exit %d, stderr %q", strings.Join(args[:2], " "), code, errOut)
		}
	}
	code, out, _ := runCLI(t, "version")
	if code != 0 || !strings.Contains(out, "CUDA driver 13.0 (") || !strings.Contains(out, "GPU 1: NVIDIA Fake H200 (sm_90, 141 GiB)") ||
		!strings.Contains(out, "cuBLAS: CUDA unavailable: no cuBLAS (") {
		t.Errorf("version with a driver: exit %d\n%s", code, out)
	}
}

// --device emulated, the test device, runs train seg, train pretext (every method; BYOL
// the last enabled), experiment and demo (experiment/device_test.go) and bench train's seg
// step; bench train of a pretext method refuses it in one line, exit 2.
func TestDeviceEmulatedOnlyTrainSeg(t *testing.T) {
	runs := filepath.Join(t.TempDir(), "runs")
	code, _, errOut := runCLI(t, "train", "pretext", "--device", "emulated", "--method", "byol", "--scale", "cpu", "--encoder", "resnet18", "--width", "0.0625", "--size", "32", "--batch", "2", "--iters", "1", "--data", "synthetic:size=32,n=8,val=2,classes=3", "--out", filepath.Join(runs, "byol"))
	if code != 0 {
		t.Errorf("train pretext --method byol --device emulated: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "bench", "train", "--device", "emulated", "--tf32", "--encoder", "resnet18")
	if code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "--tf32: TF32 is a mode of CUDA's tensor cores; --device emulated computes in fp32 only") {
		t.Errorf("bench train --device emulated --tf32: exit %d, stderr %q", code, errOut)
	}
	for _, cmd := range [][]string{{"train", "seg", "--out", filepath.Join(runs, "tf32seg")}, {"train", "pretext", "--out", filepath.Join(runs, "tf32pre")},
		{"experiment", cellOnlyGrid(t), "--out", filepath.Join(runs, "tf32grid")}, {"demo", "--out", filepath.Join(runs, "tf32demo")}} {
		code, _, errOut = runCLI(t, append(cmd, "--tf32")...)
		if code != 2 || !strings.Contains(errOut, "--tf32: TF32 is a mode of CUDA's tensor cores; --device cpu computes in fp32 only") {
			t.Errorf("%s --tf32 (on the CPU): exit %d, stderr %q", strings.Join(cmd[:2], " "), code, errOut)
		}
	}
	code, out, errOut := runCLI(t, "bench", "train", "--device", "emulated", "--encoder", "resnet18", "--width", "0.125",
		"--batch", "1", "--size", "32", "--steps", "1", "--warmup", "0", "--json")
	if code != 0 || !strings.Contains(out, `"device": "emulated"`) {
		t.Errorf("bench train --device emulated: exit %d, stderr %q, stdout %.300q", code, errOut, out)
	}
}

// cellOnlyGrid is a grid file whose only job is one fine-tuning cell from random weights.
func cellOnlyGrid(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cell.toml")
	grid := `title = "one cell"
data = "synthetic:size=32,n=8,val=2,classes=3"
seeds = [1]
[pretrain]
[finetune]
encoder = "resnet18"
width = 0.0625
crop = 32
batch = 2
iters = 1
[[head]]
name = "FCN"
head = "fcn"
[[row]]
name = "RandomInit"
`
	if err := os.WriteFile(path, []byte(grid), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
