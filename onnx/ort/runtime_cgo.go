//go:build cgo

package ort

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

const cgoEnabled = true

var (
	initMu sync.Mutex
	loaded string // the library onnxruntime was loaded from; "" before Init succeeds
)

// Init loads the onnxruntime library at libPath ("" resolves it with LibraryPath("")) and
// creates its environment. It is idempotent and safe from several goroutines: once a library
// is loaded, Init("") and Init(sameFile) return nil, and asking for a different file is an
// error, because one process can hold only one onnxruntime.
func Init(libPath string) error {
	initMu.Lock()
	defer initMu.Unlock()
	if loaded != "" {
		if libPath == "" || sameFile(libPath, loaded) {
			return nil
		}
		return fmt.Errorf("ort: onnxruntime is already loaded from %s; one process cannot also load %s", loaded, libPath)
	}
	p, err := LibraryPath(libPath)
	if err != nil {
		return err
	}
	ort.SetSharedLibraryPath(p)
	// Warnings (e.g. about initializers PyTorch exports but no node uses) would drown the
	// CLI's output; errors still reach stderr.
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("ort: cannot load onnxruntime from %s: %v (is it an onnxruntime %s shared library for this machine?)", p, err, ORTVersion)
	}
	loaded = p
	return nil
}

// Loaded returns the library file Init loaded, or "" before Init succeeds.
func Loaded() string {
	initMu.Lock()
	defer initMu.Unlock()
	return loaded
}

// Version returns onnxruntime's version string, or "" before Init succeeds.
func Version() string {
	if Loaded() == "" {
		return ""
	}
	return ort.GetVersion()
}

func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// handle is the onnxruntime half of a Session.
type handle struct {
	s       *ort.DynamicAdvancedSession
	outputs []ValueInfo
}

func newHandle(model []byte, inputs, outputs []ValueInfo, provider string, o Options) (*handle, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("creating session options: %v", err)
	}
	defer opts.Destroy()
	if o.Threads > 0 {
		if err := opts.SetIntraOpNumThreads(o.Threads); err != nil {
			return nil, fmt.Errorf("setting %d threads: %v", o.Threads, err)
		}
	}
	if provider == "cuda" {
		if err := appendCUDA(opts, o.DeviceID); err != nil {
			return nil, err
		}
	}
	names := func(vs []ValueInfo) []string {
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = v.Name
		}
		return out
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, names(inputs), names(outputs), opts)
	if err != nil {
		return nil, fmt.Errorf("onnxruntime cannot load the model: %v", err)
	}
	return &handle{s: s, outputs: outputs}, nil
}

// cudaProviderLib is the file a GPU build of onnxruntime keeps beside libonnxruntime.so and
// loads when the CUDA provider is requested.
const cudaProviderLib = "libonnxruntime_providers_cuda.so"

// appendCUDA adds the CUDA provider. A CPU-only library (the npm package's) fails inside
// onnxruntime_go's CUDA calls with a message about a missing "providers_shared" library that
// does not say what to do, so the provider library is looked for first. onnxruntime_go needs
// CUDA provider options created before the provider can be appended.
func appendCUDA(opts *ort.SessionOptions, device int) error {
	lib := Loaded()
	if !isFile(filepath.Join(filepath.Dir(lib), cudaProviderLib)) {
		return fmt.Errorf("this onnxruntime library (%s) has no CUDA provider (no %s beside it); pass --ort-lib with a GPU build (onnxruntime-linux-x64-gpu-%s/lib/libonnxruntime.so, with CUDA and cuDNN installed)", lib, cudaProviderLib, ORTVersion)
	}
	fail := func(err error) error {
		return fmt.Errorf("cannot use CUDA device %d with %s: %v (the CUDA provider needs CUDA and cuDNN libraries on the loader path)", device, lib, err)
	}
	cuda, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return fail(err)
	}
	defer cuda.Destroy()
	if err := cuda.Update(map[string]string{"device_id": strconv.Itoa(device)}); err != nil {
		return fail(err)
	}
	if err := opts.AppendExecutionProviderCUDA(cuda); err != nil {
		return fail(err)
	}
	return nil
}

func (h *handle) run(inputs []Tensor) ([]Tensor, error) {
	in := make([]ort.Value, len(inputs))
	out := make([]ort.Value, len(h.outputs))
	defer func() {
		for _, v := range append(in, out...) {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for i, t := range inputs {
		v, err := toValue(t)
		if err != nil {
			return nil, fmt.Errorf("input %d: %v", i, err)
		}
		in[i] = v
	}
	// onnxruntime_go cannot turn an output it allocated into a rank-0 Go value, so outputs
	// the model declares as scalars are allocated here.
	for i, vi := range h.outputs {
		if vi.Shape != nil && len(vi.Shape) == 0 {
			v, err := emptyScalar(vi.Type)
			if err != nil {
				return nil, fmt.Errorf("output %q: %v", vi.Name, err)
			}
			out[i] = v
		}
	}
	if err := h.s.Run(in, out); err != nil {
		return nil, fmt.Errorf("onnxruntime: %v", err)
	}
	res := make([]Tensor, len(out))
	for i, v := range out {
		t, err := fromValue(v)
		if err != nil {
			return nil, fmt.Errorf("output %q: %v", h.outputs[i].Name, err)
		}
		res[i] = t
	}
	return res, nil
}

func (h *handle) close() error { return h.s.Destroy() }

func toValue(t Tensor) (ort.Value, error) {
	switch d := t.Data.(type) {
	case []float32:
		return newValue(t.Shape, d)
	case []float64:
		return newValue(t.Shape, d)
	case []int64:
		return newValue(t.Shape, d)
	case []int32:
		return newValue(t.Shape, d)
	case []uint8:
		return newValue(t.Shape, d)
	case []bool:
		return newValue(t.Shape, d)
	}
	return nil, fmt.Errorf("unsupported data %T", t.Data)
}

// newValue wraps data without copying it; onnxruntime only reads inputs.
func newValue[T ort.TensorData](shape []int64, data []T) (ort.Value, error) {
	if len(shape) == 0 {
		return ort.NewScalar(data[0])
	}
	return ort.NewTensor(ort.Shape(shape), data)
}

func emptyScalar(typ string) (ort.Value, error) {
	switch typ {
	case "float32":
		return ort.NewEmptyScalar[float32]()
	case "float64":
		return ort.NewEmptyScalar[float64]()
	case "int64":
		return ort.NewEmptyScalar[int64]()
	case "int32":
		return ort.NewEmptyScalar[int32]()
	case "uint8":
		return ort.NewEmptyScalar[uint8]()
	case "bool":
		return ort.NewEmptyScalar[bool]()
	}
	return nil, fmt.Errorf("element type %s is not supported by ort.Tensor", typ)
}

func fromValue(v ort.Value) (Tensor, error) {
	switch v := v.(type) {
	case *ort.Tensor[float32]:
		return Tensor{Shape: v.GetShape(), Data: v.GetData()}, nil
	case *ort.Tensor[float64]:
		return Tensor{Shape: v.GetShape(), Data: v.GetData()}, nil
	case *ort.Tensor[int64]:
		return Tensor{Shape: v.GetShape(), Data: v.GetData()}, nil
	case *ort.Tensor[int32]:
		return Tensor{Shape: v.GetShape(), Data: v.GetData()}, nil
	case *ort.Tensor[uint8]:
		return Tensor{Shape: v.GetShape(), Data: v.GetData()}, nil
	case *ort.Tensor[bool]:
		return Tensor{Shape: v.GetShape(), Data: v.GetData()}, nil
	case *ort.Scalar[float32]:
		return Tensor{Shape: []int64{}, Data: []float32{v.GetData()}}, nil
	case *ort.Scalar[float64]:
		return Tensor{Shape: []int64{}, Data: []float64{v.GetData()}}, nil
	case *ort.Scalar[int64]:
		return Tensor{Shape: []int64{}, Data: []int64{v.GetData()}}, nil
	case *ort.Scalar[int32]:
		return Tensor{Shape: []int64{}, Data: []int32{v.GetData()}}, nil
	case *ort.Scalar[uint8]:
		return Tensor{Shape: []int64{}, Data: []uint8{v.GetData()}}, nil
	case *ort.Scalar[bool]:
		return Tensor{Shape: []int64{}, Data: []bool{v.GetData()}}, nil
	}
	return Tensor{}, fmt.Errorf("onnxruntime returned %T, which ort.Tensor cannot carry", v)
}
