package ort

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/ssl4dp/ssl4dp/onnx"
)

// ErrNoCgo is returned by Init in a binary built with CGO_ENABLED=0: onnxruntime_go loads the
// library through cgo. Commands that do not run models (inspect) still work in such a build.
var ErrNoCgo = errors.New("ort: this binary was built without cgo (CGO_ENABLED=0), and onnxruntime needs it; rebuild with CGO_ENABLED=1")

// Options choose how a Session runs.
type Options struct {
	Provider string // "cpu" (default) or "cuda"
	Threads  int    // intra-op threads; 0 = onnxruntime's default (one per core)
	DeviceID int    // CUDA device, for Provider "cuda"
}

// Providers are the execution providers Options.Provider accepts.
var Providers = []string{"cpu", "cuda"}

func (o Options) provider() (string, error) {
	switch p := strings.ToLower(o.Provider); p {
	case "", "cpu":
		return "cpu", nil
	case "cuda":
		if o.DeviceID < 0 {
			return "", fmt.Errorf("ort: CUDA device %d: want a device number ≥ 0", o.DeviceID)
		}
		return p, nil
	}
	return "", fmt.Errorf("ort: unknown provider %q; want one of %s", o.Provider, strings.Join(Providers, ", "))
}

// Session is a model loaded into onnxruntime. Run may be called from several goroutines at
// once (onnxruntime sessions are thread-safe); Close must be called once no Run is in flight.
type Session struct {
	name            string // the model file, or "(in-memory model)"
	inputs, outputs []ValueInfo
	mu              sync.Mutex
	h               *handle // nil once closed
}

// NewSession loads a serialized model. The first session initialises onnxruntime with
// Init("") unless Init was called before.
func NewSession(model []byte, o Options) (*Session, error) {
	return newSession(model, "(in-memory model)", o)
}

// NewSessionFile loads the model in path; every error names the file.
func NewSessionFile(path string, o Options) (*Session, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &onnx.FormatError{File: path, Msg: "no such file"}
	}
	if err != nil {
		return nil, fmt.Errorf("ort: %w", err)
	}
	return newSession(data, path, o)
}

func newSession(model []byte, name string, o Options) (*Session, error) {
	provider, err := o.provider()
	if err != nil {
		return nil, err
	}
	if o.Threads < 0 {
		return nil, fmt.Errorf("ort: %d threads: want 0 (onnxruntime's default) or more", o.Threads)
	}
	// Decoding with our own reader first turns corrupt files into onnx.FormatErrors that name
	// the file, and gives the declared shapes (onnxruntime reports an undeclared rank and a
	// scalar alike).
	m, err := onnx.Decode(model, name)
	if err != nil {
		return nil, err
	}
	s := &Session{name: name}
	for _, v := range onnx.GraphInputs(m.Graph) {
		s.inputs = append(s.inputs, valueInfo(v))
	}
	for _, v := range m.Graph.Output {
		s.outputs = append(s.outputs, valueInfo(v))
	}
	if len(s.inputs) == 0 || len(s.outputs) == 0 {
		return nil, &onnx.FormatError{File: name, Msg: fmt.Sprintf("model has %d inputs and %d outputs; ort runs models with at least one of each", len(s.inputs), len(s.outputs))}
	}
	if err := Init(""); err != nil {
		return nil, err
	}
	s.h, err = newHandle(model, s.inputs, s.outputs, provider, o)
	if err != nil {
		return nil, fmt.Errorf("ort: %s: %w", name, err)
	}
	return s, nil
}

// Inputs returns the model's inputs (initializers excluded), in graph order.
func (s *Session) Inputs() []ValueInfo { return append([]ValueInfo(nil), s.inputs...) }

// Outputs returns the model's outputs, in graph order.
func (s *Session) Outputs() []ValueInfo { return append([]ValueInfo(nil), s.outputs...) }

// Run feeds every input by name and returns every output by name. Inputs are checked against
// the model's declared types and shapes before onnxruntime sees them; outputs are allocated
// by onnxruntime and copied into Go slices, so they stay valid after Close.
func (s *Session) Run(inputs map[string]Tensor) (map[string]Tensor, error) {
	ordered := make([]Tensor, len(s.inputs))
	for i, vi := range s.inputs {
		t, ok := inputs[vi.Name]
		if !ok {
			return nil, fmt.Errorf("ort: %s: input %q (%s %s) is missing", s.name, vi.Name, vi.Type, ShapeString(vi.Shape))
		}
		if err := t.check(vi); err != nil {
			return nil, fmt.Errorf("ort: %s: %w", s.name, err)
		}
		ordered[i] = t
	}
	if len(inputs) != len(s.inputs) {
		known := map[string]bool{}
		for _, vi := range s.inputs {
			known[vi.Name] = true
		}
		var extra []string
		for name := range inputs {
			if !known[name] {
				extra = append(extra, fmt.Sprintf("%q", name))
			}
		}
		sort.Strings(extra)
		return nil, fmt.Errorf("ort: %s: the model has no input called %s (its inputs: %s)", s.name, strings.Join(extra, ", "), s.inputNames())
	}
	s.mu.Lock()
	h := s.h
	s.mu.Unlock()
	if h == nil {
		return nil, fmt.Errorf("ort: %s: Run on a closed session", s.name)
	}
	outs, err := h.run(ordered)
	if err != nil {
		return nil, fmt.Errorf("ort: %s: %w", s.name, err)
	}
	res := make(map[string]Tensor, len(outs))
	for i, vi := range s.outputs {
		res[vi.Name] = outs[i]
	}
	return res, nil
}

func (s *Session) inputNames() string {
	names := make([]string, len(s.inputs))
	for i, vi := range s.inputs {
		names[i] = fmt.Sprintf("%q", vi.Name)
	}
	return strings.Join(names, ", ")
}

// Close releases the onnxruntime session. Closing twice is harmless.
func (s *Session) Close() error {
	s.mu.Lock()
	h := s.h
	s.h = nil
	s.mu.Unlock()
	if h == nil {
		return nil
	}
	if err := h.close(); err != nil {
		return fmt.Errorf("ort: %s: %w", s.name, err)
	}
	return nil
}
