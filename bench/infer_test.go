package bench

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

func TestInferDynamicModel(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	r, err := Infer(InferConfig{Model: tinyModel(t), Library: lib, Batches: []int{1, 3}, Size: 40, Threads: 1, Warmup: 1, Runs: 5})
	if err != nil {
		t.Fatal(err)
	}
	if r.Provider != "cpu" || r.Threads != 1 || r.Runs != 5 || r.Warmup != 1 || r.ORTVersion == "" || r.ORTLibrary == "" {
		t.Errorf("settings: %+v", r)
	}
	if r.Env.CPU == "" || r.Env.CPUs < 1 || r.Env.Date == "" || r.Env.GPU != "" {
		t.Errorf("env: %+v", r.Env)
	}
	if len(r.Results) != 2 {
		t.Fatalf("%d results, want 2 (batches 1 and 3)", len(r.Results))
	}
	for i, batch := range []int{1, 3} {
		res := r.Results[i]
		if res.Batch != batch || !slices.Equal(res.Inputs["input"], []int64{int64(batch), 3, 40, 40}) || res.FixedBatch || res.FixedSize {
			t.Errorf("batch %d: ran %d at %v (fixed batch %v, size %v)", batch, res.Batch, res.Inputs, res.FixedBatch, res.FixedSize)
		}
		checkSummary(t, "latency", res.LatencyMS, 5)
		if res.CPUMS.N != 5 || res.CPUMS.Min < 0 {
			t.Errorf("batch %d: CPU time per run %+v", batch, res.CPUMS)
		}
		if want := float64(batch) * 1000 / res.LatencyMS.P50; !near(res.ImagesPerS, want, 1e-12) {
			t.Errorf("batch %d: %v images/s, want batch/p50 = %v", batch, res.ImagesPerS, want)
		}
		if res.PeakRSSMiB <= 0 || res.SessionRSSMiB < 0 || res.SessionRSSMiB > res.PeakRSSMiB || res.SessionMS <= 0 {
			t.Errorf("batch %d: memory %v MiB peak, %v MiB for the session, session %v ms", batch, res.PeakRSSMiB, res.SessionRSSMiB, res.SessionMS)
		}
	}
	var text strings.Builder
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cpu provider, 1 thread", "p50 ms", "3×3×40×40", "machine: "} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
}

// A model with a fixed input shape runs once, at that shape, and says so.
func TestInferFixedModel(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	r, err := Infer(InferConfig{Model: fixedModel(t), Library: lib, Batches: []int{1, 8}, Size: 64, Threads: 1, Runs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Results) != 1 {
		t.Fatalf("%d results, want 1", len(r.Results))
	}
	res := r.Results[0]
	if res.Batch != 2 || !slices.Equal(res.Inputs["input"], []int64{2, 3, 24, 24}) || !res.FixedBatch || !res.FixedSize {
		t.Errorf("ran %d images at %v, fixed batch %v, size %v; want 2 at [2 3 24 24], both fixed", res.Batch, res.Inputs, res.FixedBatch, res.FixedSize)
	}
	var text strings.Builder
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "the model fixes its batch axis (--batch not applied) and its spatial axes (--size not applied)") {
		t.Errorf("text does not say the shape is fixed:\n%s", text.String())
	}
}

// The npm package's library is CPU-only: asking for CUDA is an error that says what to do.
func TestInferCUDAWithCPULibrary(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	_, err := Infer(InferConfig{Model: tinyModel(t), Library: lib, Provider: "cuda", Runs: 1})
	if err == nil || !strings.Contains(err.Error(), "no CUDA provider") || !strings.Contains(err.Error(), "--ort-lib") {
		t.Fatalf("got %v; want an error saying the library has no CUDA provider and to pass --ort-lib", err)
	}
}

func TestInferConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  InferConfig
		want string
	}{
		{"no model", InferConfig{}, "no model file"},
		{"batch 0", InferConfig{Model: "m.onnx", Batches: []int{1, 0}}, "batch size 0 in [1 0]"},
		{"provider", InferConfig{Model: "m.onnx", Provider: "tpu"}, `provider "tpu"`},
		{"runs", InferConfig{Model: "m.onnx", Runs: -1}, "-1 runs"},
		{"warmup", InferConfig{Model: "m.onnx", Warmup: -2}, "-2 warm-up"},
		{"size", InferConfig{Model: "m.onnx", Size: -5}, "size -5"},
		{"threads", InferConfig{Model: "m.onnx", Threads: -1}, "-1 threads"},
		{"device", InferConfig{Model: "m.onnx", Provider: "cuda", Device: -1}, "CUDA device -1"},
	} {
		_, err := Infer(c.cfg)
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.want) || ce.ExitCode() != 2 {
			t.Errorf("%s: got %v; want a ConfigError containing %q", c.name, err, c.want)
		}
	}
	_, err := Infer(InferConfig{Model: "does-not-exist.onnx"})
	var fe *onnx.FormatError
	if !errors.As(err, &fe) || fe.File != "does-not-exist.onnx" {
		t.Errorf("missing model: got %v; want an onnx.FormatError naming the file", err)
	}
}

func TestResolveShapes(t *testing.T) {
	in := func(name, typ string, shape ...int64) ort.ValueInfo {
		return ort.ValueInfo{Name: name, Type: typ, Shape: shape}
	}
	for _, c := range []struct {
		name        string
		inputs      []ort.ValueInfo
		want        map[string][]int64
		batch, size bool
		images      int
		err         string
	}{
		{"NCHW dynamic", []ort.ValueInfo{in("x", "float32", -1, 3, -1, -1)}, map[string][]int64{"x": {4, 3, 32, 32}}, true, true, 4, ""},
		{"fixed", []ort.ValueInfo{in("x", "float32", 2, 3, 8, 8)}, map[string][]int64{"x": {2, 3, 8, 8}}, false, false, 2, ""},
		{"batch only", []ort.ValueInfo{in("x", "float32", -1, 3, 8, 8)}, map[string][]int64{"x": {4, 3, 8, 8}}, true, false, 4, ""},
		{"two inputs", []ort.ValueInfo{in("x", "float32", -1, 3, -1, -1), in("k", "int64", -1, 5)},
			map[string][]int64{"x": {4, 3, 32, 32}, "k": {4, 5}}, true, true, 4, ""},
		{"scalar", []ort.ValueInfo{{Name: "s", Type: "float32", Shape: []int64{}}}, map[string][]int64{"s": {}}, false, false, 1, ""},
		{"dynamic channels", []ort.ValueInfo{in("x", "float32", -1, -1, 8, 8)}, nil, false, false, 0, "axis 1 is dynamic"},
		{"dynamic rank-3 axis", []ort.ValueInfo{in("x", "float32", -1, 5, -1)}, nil, false, false, 0, "axis 2 is dynamic"},
		{"no shape", []ort.ValueInfo{{Name: "x", Type: "float32"}}, nil, false, false, 0, "declares no shape"},
	} {
		f, err := resolveShapes("m.onnx", c.inputs, 4, 32)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		for name, s := range c.want {
			if !slices.Equal(f.shapes[name], s) {
				t.Errorf("%s: %s shape %v, want %v", c.name, name, f.shapes[name], s)
			}
		}
		if f.batchApplied != c.batch || f.sizeApplied != c.size || f.images(c.inputs) != c.images {
			t.Errorf("%s: batch applied %v, size applied %v, images %d; want %v, %v, %d", c.name, f.batchApplied, f.sizeApplied, f.images(c.inputs), c.batch, c.size, c.images)
		}
	}
}

func TestFeedsMatchShapes(t *testing.T) {
	inputs := []ort.ValueInfo{{Name: "x", Type: "float32", Shape: []int64{-1, 3, -1, -1}}, {Name: "i", Type: "int64", Shape: []int64{-1}}}
	f, err := resolveShapes("m.onnx", inputs, 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	in, err := feeds("m.onnx", inputs, f, 7)
	if err != nil {
		t.Fatal(err)
	}
	x := in["x"].Data.([]float32)
	if len(x) != 2*3*5*5 || len(in["i"].Data.([]int64)) != 2 {
		t.Fatalf("feed sizes %d and %d; want 150 and 2", len(x), len(in["i"].Data.([]int64)))
	}
	distinct := map[float32]bool{}
	for _, v := range x {
		if v < -1 || v >= 1 {
			t.Fatalf("value %v outside [-1, 1)", v)
		}
		distinct[v] = true
	}
	if len(distinct) < 140 {
		t.Errorf("only %d distinct values among 150: not random", len(distinct))
	}
	if _, err := feeds("m.onnx", []ort.ValueInfo{{Name: "h", Type: "float16", Shape: []int64{1}}}, fedShapes{shapes: map[string][]int64{"h": {1}}}, 1); err == nil || !strings.Contains(err.Error(), "float16") {
		t.Errorf("float16 input: got %v, want an error naming the type", err)
	}
}
