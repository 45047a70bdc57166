package main

import (
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
// found in one line, exit 2, and train seg goes on to open the CUDA device — here stopping at
// the missing cuBLAS in one line, exit 2. Never a silent run on the CPU.
func TestDeviceCUDA(t *testing.T) {
	runs := filepath.Join(t.TempDir(), "runs")
	commands := [][]string{
		{"train", "seg", "--device", "cuda", "--data", "synthetic", "--out", runs},
		{"train", "pretext", "--device", "cuda", "--data", "synthetic", "--out", runs},
		{"bench", "train", "--device", "cuda", "--encoder", "resnet18"},
		{"experiment", "--device", "cuda", filepath.Join(testenv.RepoRoot(t), "experiments", "cpu.toml"), "--out", runs},
		{"demo", "--device", "cuda", "--out", runs},
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
	for _, args := range commands[1:] {
		if args[0] == "bench" {
			continue // on the device layer, as train seg (below)
		}
		code, _, errOut := runCLI(t, args...)
		if code != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "NVIDIA Fake H200 (sm_90, 141 GiB)") ||
			!strings.Contains(errOut, "does not train on CUDA yet (only train seg does") {
			t.Errorf("%s with a GPU: exit %d, stderr %q", strings.Join(args[:2], " "), code, errOut)
		}
	}
	code, _, errOut := runCLI(t, commands[0]...)
	if code != 2 || !strings.Contains(errOut, "has not yet been run on a real GPU") || !strings.Contains(errOut, "CUDA unavailable: no cuBLAS (") {
		t.Errorf("train seg with a GPU and no cuBLAS: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runCLI(t, commands[2]...)
	if code != 2 || !strings.Contains(errOut, "CUDA unavailable: no cuBLAS (") {
		t.Errorf("bench train with a GPU and no cuBLAS: exit %d, stderr %q", code, errOut)
	}
	code, out, _ := runCLI(t, "version")
	if code != 0 || !strings.Contains(out, "CUDA driver 13.0 (") || !strings.Contains(out, "GPU 1: NVIDIA Fake H200 (sm_90, 141 GiB)") ||
		!strings.Contains(out, "cuBLAS: CUDA unavailable: no cuBLAS (") {
		t.Errorf("version with a driver: exit %d\n%s", code, out)
	}
}

// --device emulated, the test device, runs train seg and bench train's seg step only: every
// other training command refuses it in one line, exit 2, rather than train on the CPU; bench
// train on it times the step and says so.
func TestDeviceEmulatedOnlyTrainSeg(t *testing.T) {
	runs := filepath.Join(t.TempDir(), "runs")
	for _, args := range [][]string{
		{"train", "pretext", "--device", "emulated", "--data", "synthetic", "--out", runs},
		{"experiment", "--device", "emulated", filepath.Join(testenv.RepoRoot(t), "experiments", "cpu.toml"), "--out", runs},
		{"demo", "--device", "emulated", "--out", runs},
	} {
		code, _, errOut := runCLI(t, args...)
		if code != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "only train seg runs on the emulated test device") {
			t.Errorf("%s --device emulated: exit %d, stderr %q", strings.Join(args[:2], " "), code, errOut)
		}
	}
	code, _, errOut := runCLI(t, "bench", "train", "--device", "emulated", "--method", "moco", "--encoder", "resnet18")
	if code != 2 || !strings.Contains(errOut, "times --method seg only") {
		t.Errorf("bench train --device emulated --method moco: exit %d, stderr %q", code, errOut)
	}
	code, out, errOut := runCLI(t, "bench", "train", "--device", "emulated", "--encoder", "resnet18", "--width", "0.125",
		"--batch", "1", "--size", "32", "--steps", "1", "--warmup", "0", "--json")
	if code != 0 || !strings.Contains(out, `"device": "emulated"`) {
		t.Errorf("bench train --device emulated: exit %d, stderr %q, stdout %.300q", code, errOut, out)
	}
}
