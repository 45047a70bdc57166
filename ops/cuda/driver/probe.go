// Package driver loads NVIDIA's CUDA driver API (libcuda.so.1) at run time and reports
// what it finds: the driver's CUDA version and the GPUs. Nothing of CUDA is needed to build
// it (the entry points are resolved with dlopen/dlsym, as onnxruntime_go loads onnxruntime),
// so CI builds and tests the CUDA path on machines without a GPU, and one binary runs on
// both.
//
// Why not gorgonia.org/cu: v0.9.6, its newest release, compiles against CUDA 12's headers
// and not CUDA 13's (cuCtxCreate became cuCtxCreate_v4), and it needs the toolkit to build.
// Loading the handful of stable _v2 entry points ourselves avoids both.
package driver

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
)

// MinDriver is the oldest driver API version accepted, as cuDriverGetVersion reports it
// (1000·major + 10·minor): CUDA 12.0. The kernels are PTX 7.0 for sm_80, which any CUDA 11+
// driver JIT-compiles, but cuBLAS 12 (the oldest cuBLAS ssl4dp loads) needs a CUDA 12 driver.
const MinDriver = 12000

// LibraryEnv names a driver library to load instead of libcuda.so.1 (tests use it to load
// stand-ins; users rarely need it).
const LibraryEnv = "SSL4DP_LIBCUDA"

// Library is the file dlopen is asked for: $SSL4DP_LIBCUDA, else libcuda.so.1, the name the
// NVIDIA driver installs (its loader path, not the CUDA toolkit's).
func Library() string {
	if p := os.Getenv(LibraryEnv); p != "" {
		return p
	}
	return "libcuda.so.1"
}

// Device is one GPU as the driver reports it.
type Device struct {
	Index        int
	Name         string
	Memory       int64 // bytes
	Major, Minor int   // compute capability
	handle       int   // CUdevice
}

func (d Device) String() string {
	return fmt.Sprintf("%d: %s (sm_%d%d, %.0f GiB)", d.Index, d.Name, d.Major, d.Minor, float64(d.Memory)/(1<<30))
}

// Info is what Probe found.
type Info struct {
	Library string // the file loaded
	Version int    // driver API version, 1000·major + 10·minor
	Devices []Device
}

// VersionString is "13.0" for 13000.
func (i *Info) VersionString() string { return fmt.Sprintf("%d.%d", i.Version/1000, i.Version%1000/10) }

// Error is a failed driver call: the call, the CUresult and the driver's name and text for it.
type Error struct {
	Call       string
	Code       int
	Name, Text string
}

func (e *Error) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("%s: CUDA error %d", e.Call, e.Code)
	}
	return fmt.Sprintf("%s: %s (%s)", e.Call, e.Name, e.Text)
}

// The CUresults Probe explains (cuda.h).
const (
	errNoDevice           = 100 // CUDA_ERROR_NO_DEVICE
	errInsufficientDriver = 35  // CUDA_ERROR_INSUFFICIENT_DRIVER
)

// UnavailableError says why CUDA cannot be used here, in one line that names what is
// missing and what to do.
type UnavailableError struct {
	Reason string
	Err    error // the underlying failure, if any
}

func (e *UnavailableError) Error() string { return "CUDA unavailable: " + e.Reason }
func (e *UnavailableError) Unwrap() error { return e.Err }

// ExitCode makes the CLI exit with 2: asking for a device the machine lacks is a usage error.
func (e *UnavailableError) ExitCode() int { return 2 }

// api is the driver as the rest of the package calls it (driver.go with cgo; nocgo.go
// without).
type driverAPI interface {
	init() error
	driverVersion() (int, error)
	deviceCount() (int, error)
	device(i int) (Device, error)
}

var (
	api  driverAPI
	load func(path string) error

	probeMu sync.Mutex
	probed  = map[string]probeResult{} // by library file: a process loads one driver
)

type probeResult struct {
	info *Info
	err  error
}

// Probe loads the driver (once per process and library file, Library()) and lists its GPUs.
// The error is an *UnavailableError whose message is the whole story: no driver library, a
// driver too old, no GPU, or a call that failed.
func Probe() (*Info, error) {
	probeMu.Lock()
	defer probeMu.Unlock()
	lib := Library()
	r, ok := probed[lib]
	if !ok {
		r.info, r.err = probe(lib)
		probed[lib] = r
	}
	return r.info, r.err
}

func probe(lib string) (*Info, error) {
	if load == nil {
		return nil, &UnavailableError{Reason: "this ssl4dp was built without cgo (CGO_ENABLED=0), which loading libcuda.so.1 needs; rebuild with cgo"}
	}
	if err := load(lib); err != nil {
		if strings.Contains(err.Error(), "has no ") {
			return nil, &UnavailableError{Reason: err.Error(), Err: err}
		}
		return nil, &UnavailableError{Err: err,
			Reason: fmt.Sprintf("%v: no NVIDIA driver on this machine; install the driver (CUDA 12 or newer) or use --device cpu", firstLine(err))}
	}
	if err := api.init(); err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			switch ce.Code {
			case errNoDevice:
				return nil, &UnavailableError{Err: err, Reason: fmt.Sprintf("the NVIDIA driver (%s) sees no GPU (%v); check nvidia-smi and CUDA_VISIBLE_DEVICES, or use --device cpu", lib, err)}
			case errInsufficientDriver:
				return nil, &UnavailableError{Err: err, Reason: fmt.Sprintf("the NVIDIA driver (%s) is older than its CUDA runtime parts (%v); update the driver, or use --device cpu", lib, err)}
			}
		}
		return nil, &UnavailableError{Err: err, Reason: fmt.Sprintf("the NVIDIA driver (%s) failed to start: %v; check nvidia-smi, or use --device cpu", lib, err)}
	}
	info := &Info{Library: lib}
	v, err := api.driverVersion()
	if err != nil {
		return nil, &UnavailableError{Err: err, Reason: err.Error()}
	}
	info.Version = v
	if v < MinDriver {
		return nil, &UnavailableError{Reason: fmt.Sprintf("the NVIDIA driver (%s) supports CUDA %s; ssl4dp needs CUDA %d.%d or newer: update the driver, or use --device cpu",
			lib, info.VersionString(), MinDriver/1000, MinDriver%1000/10)}
	}
	n, err := api.deviceCount()
	if err != nil {
		return nil, &UnavailableError{Err: err, Reason: err.Error()}
	}
	if n == 0 {
		return nil, &UnavailableError{Reason: fmt.Sprintf("the NVIDIA driver (%s, CUDA %s) sees no GPU; check nvidia-smi and CUDA_VISIBLE_DEVICES, or use --device cpu", lib, info.VersionString())}
	}
	for i := range n {
		d, err := api.device(i)
		if err != nil {
			return nil, &UnavailableError{Err: err, Reason: fmt.Sprintf("GPU %d: %v", i, err)}
		}
		info.Devices = append(info.Devices, d)
	}
	return info, nil
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
