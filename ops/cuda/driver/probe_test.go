//go:build cgo

package driver

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fakeDriver builds testdata/fakecuda.c into a shared library answering as a driver with the
// given cuInit result, version and GPU count.
func fakeDriver(t *testing.T, init, version, devices int, extra ...string) string {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc (which cgo needs anyway) is not installed")
	}
	lib := filepath.Join(t.TempDir(), "libcuda.so.1")
	args := append([]string{"-shared", "-fPIC", "-o", lib, "testdata/fakecuda.c",
		"-DFAKE_INIT=" + strconv.Itoa(init), "-DFAKE_VERSION=" + strconv.Itoa(version), "-DFAKE_DEVICES=" + strconv.Itoa(devices)}, extra...)
	if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return lib
}

func TestProbeFindsDevices(t *testing.T) {
	lib := fakeDriver(t, 0, 13000, 2)
	info, err := probe(lib)
	if err != nil {
		t.Fatal(err)
	}
	if info.Library != lib || info.VersionString() != "13.0" || len(info.Devices) != 2 {
		t.Fatalf("info %+v", info)
	}
	want := []string{"0: NVIDIA Fake A100 (sm_80, 40 GiB)", "1: NVIDIA Fake H200 (sm_90, 141 GiB)"}
	for i, d := range info.Devices {
		if d.String() != want[i] {
			t.Errorf("device %d: %s, want %s", i, d, want[i])
		}
	}
}

// TestProbeErrors: each way CUDA can be missing gives one line that names what is missing and
// what to do, and makes the CLI exit with 2.
func TestProbeErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		lib  func(t *testing.T) string
		want []string
	}{
		{"no driver", func(t *testing.T) string { return filepath.Join(t.TempDir(), "libcuda.so.1") },
			[]string{"libcuda.so.1: cannot open shared object file", "no NVIDIA driver on this machine", "--device cpu"}},
		{"not a driver", func(t *testing.T) string { return fakeDriver(t, 0, 13000, 1, "-DNO_LAUNCH") },
			[]string{"has no cuLaunchKernel"}},
		{"no GPU (cuInit)", func(t *testing.T) string { return fakeDriver(t, 100, 13000, 0) },
			[]string{"sees no GPU", "CUDA_ERROR_NO_DEVICE", "nvidia-smi", "--device cpu"}},
		{"no GPU (count)", func(t *testing.T) string { return fakeDriver(t, 0, 13000, 0) },
			[]string{"CUDA 13.0", "sees no GPU"}},
		{"old driver", func(t *testing.T) string { return fakeDriver(t, 0, 11080, 1) },
			[]string{"supports CUDA 11.8", "needs CUDA 12.0 or newer", "update the driver"}},
		{"insufficient driver", func(t *testing.T) string { return fakeDriver(t, 35, 13000, 1) },
			[]string{"CUDA_ERROR_INSUFFICIENT_DRIVER", "update the driver"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := probe(c.lib(t))
			var ue *UnavailableError
			if !errors.As(err, &ue) || ue.ExitCode() != 2 {
				t.Fatalf("err %v (%T), want *UnavailableError", err, err)
			}
			msg := err.Error()
			t.Log(msg)
			if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "CUDA unavailable: ") {
				t.Errorf("not one line: %q", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q lacks %q", msg, w)
				}
			}
		})
	}
}
