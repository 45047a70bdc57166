package ort

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// initORT loads the test library, or skips (fails under SSL4DP_STRICT=1) without one.
func initORT(t *testing.T) {
	t.Helper()
	lib := testenv.ORTLibrary(t)
	if err := Init(lib); errors.Is(err, ErrNoCgo) {
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
}

func encode(t *testing.T, g *pb.GraphProto) []byte {
	t.Helper()
	m, err := onnx.NewModel(g, 13)
	if err != nil {
		t.Fatal(err)
	}
	b, err := onnx.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// denseModel is Y = Relu(X·W + B) with a dynamic batch, plus M = mean(Y) as a declared
// scalar: the shape of a classifier head, small enough to check by hand.
var (
	denseW = []float32{0.5, -1, 2, 0.25, -0.75, 1.5} // [3,2]
	denseB = []float32{0.1, -0.2}
)

func denseModel(t *testing.T) []byte {
	g := &pb.GraphProto{
		Name: proto("dense"),
		Node: []*pb.NodeProto{
			onnx.NewNode("MatMul", "mm", []string{"X", "W"}, []string{"XW"}),
			onnx.NewNode("Add", "add", []string{"XW", "B"}, []string{"Z"}),
			onnx.NewNode("Relu", "relu", []string{"Z"}, []string{"Y"}),
			onnx.NewNode("ReduceMean", "mean", []string{"Y"}, []string{"M"}, onnx.IntAttr("keepdims", 0)),
		},
		Initializer: []*pb.TensorProto{onnx.FromFloats("W", []int{3, 2}, denseW), onnx.FromFloats("B", []int{2}, denseB)},
		Input:       []*pb.ValueInfoProto{onnx.ValueInfo("X", pb.TensorProto_FLOAT, onnx.Dim{Param: "N"}, onnx.Dim{Value: 3})},
		Output: []*pb.ValueInfoProto{
			onnx.ValueInfo("Y", pb.TensorProto_FLOAT, onnx.Dim{Param: "N"}, onnx.Dim{Value: 2}),
			onnx.ValueInfo("M", pb.TensorProto_FLOAT),
		},
	}
	return encode(t, g)
}

func proto(s string) *string { return &s }

// denseRef computes denseModel in float64 loops.
func denseRef(x []float32, n int) (y []float64, mean float64) {
	y = make([]float64, n*2)
	for i := 0; i < n; i++ {
		for j := 0; j < 2; j++ {
			z := float64(denseB[j])
			for k := 0; k < 3; k++ {
				z += float64(x[i*3+k]) * float64(denseW[k*2+j])
			}
			y[i*2+j] = math.Max(z, 0)
			mean += y[i*2+j]
		}
	}
	return y, mean / float64(n*2)
}

func TestRunMatchesReference(t *testing.T) {
	initORT(t)
	s, err := NewSession(denseModel(t), Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if in := s.Inputs(); len(in) != 1 || in[0].Name != "X" || in[0].Type != "float32" || ShapeString(in[0].Shape) != "[? 3]" {
		t.Fatalf("Inputs() = %+v", in)
	}
	if out := s.Outputs(); len(out) != 2 || out[1].Name != "M" || out[1].Shape == nil || len(out[1].Shape) != 0 {
		t.Fatalf("Outputs() = %+v", out)
	}
	for _, n := range []int{1, 4} {
		x := make([]float32, n*3)
		for i := range x {
			x[i] = float32(i%5) - 1.5
		}
		out, err := s.Run(map[string]Tensor{"X": {Shape: []int64{int64(n), 3}, Data: x}})
		if err != nil {
			t.Fatal(err)
		}
		wantY, wantM := denseRef(x, n)
		y := out["Y"]
		if len(y.Shape) != 2 || y.Shape[0] != int64(n) || y.Shape[1] != 2 {
			t.Fatalf("N=%d: Y shape %v, want [%d 2]", n, y.Shape, n)
		}
		for i, v := range y.Data.([]float32) {
			if math.Abs(float64(v)-wantY[i]) > 1e-6 {
				t.Errorf("N=%d: Y[%d] = %g, want %g", n, i, v, wantY[i])
			}
		}
		m := out["M"]
		if len(m.Shape) != 0 || math.Abs(float64(m.Data.([]float32)[0])-wantM) > 1e-6 {
			t.Errorf("N=%d: M = %v %v, want scalar %g", n, m.Shape, m.Data, wantM)
		}
	}
}

// Sessions are documented as safe for concurrent Run calls; each goroutine must get its own
// batch's answer.
func TestRunConcurrently(t *testing.T) {
	initORT(t)
	s, err := NewSession(denseModel(t), Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			x := []float32{float32(g), 1, -1}
			want, _ := denseRef(x, 1)
			for i := 0; i < 50; i++ {
				out, err := s.Run(map[string]Tensor{"X": {Shape: []int64{1, 3}, Data: x}})
				if err != nil {
					errs <- err
					return
				}
				if y := out["Y"].Data.([]float32); math.Abs(float64(y[0])-want[0]) > 1e-6 || math.Abs(float64(y[1])-want[1]) > 1e-6 {
					errs <- fmt.Errorf("goroutine %d run %d: Y = %v, want %v", g, i, y, want)
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestRunFloat64AndBool covers the element types the CNN node tests do not: float64 with a
// scalar input, and bool.
func TestRunFloat64AndBool(t *testing.T) {
	initORT(t)
	g := &pb.GraphProto{
		Name: proto("types"),
		Node: []*pb.NodeProto{
			onnx.NewNode("Add", "add", []string{"A", "S"}, []string{"Sum"}),
			onnx.NewNode("Not", "not", []string{"Flags"}, []string{"NotFlags"}),
		},
		Input: []*pb.ValueInfoProto{
			onnx.ValueInfo("A", pb.TensorProto_DOUBLE, onnx.Dim{Value: 2}, onnx.Dim{Value: 2}),
			onnx.ValueInfo("S", pb.TensorProto_DOUBLE),
			onnx.ValueInfo("Flags", pb.TensorProto_BOOL, onnx.Dim{Value: 3}),
		},
		Output: []*pb.ValueInfoProto{
			onnx.ValueInfo("Sum", pb.TensorProto_DOUBLE, onnx.Dim{Value: 2}, onnx.Dim{Value: 2}),
			onnx.ValueInfo("NotFlags", pb.TensorProto_BOOL, onnx.Dim{Value: 3}),
		},
	}
	s, err := NewSession(encode(t, g), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Run(map[string]Tensor{
		"A":     {Shape: []int64{2, 2}, Data: []float64{1e-12, 1, 2, 3}},
		"S":     {Shape: []int64{}, Data: []float64{1}},
		"Flags": {Shape: []int64{3}, Data: []bool{true, false, true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// 1 + 1e-12 is exact in float64 but not in float32: this fails if anything narrows.
	if got := out["Sum"].Data.([]float64); got[0] != 1+1e-12 || got[3] != 4 {
		t.Errorf("Sum = %v", got)
	}
	if got := out["NotFlags"].Data.([]bool); got[0] || !got[1] || got[2] {
		t.Errorf("NotFlags = %v", got)
	}
}

func TestRunRejectsBadInputs(t *testing.T) {
	initORT(t)
	s, err := NewSession(denseModel(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	x := []float32{1, 2, 3, 4, 5, 6}
	cases := []struct {
		name string
		in   map[string]Tensor
		want string
	}{
		{"missing", map[string]Tensor{}, `input "X" (float32 [? 3]) is missing`},
		{"extra", map[string]Tensor{"X": {Shape: []int64{2, 3}, Data: x}, "Q": {}}, `no input called "Q" (its inputs: "X")`},
		{"type", map[string]Tensor{"X": {Shape: []int64{2, 3}, Data: []float64{1, 2, 3, 4, 5, 6}}}, `input "X": got float64 data, want float32`},
		{"rank", map[string]Tensor{"X": {Shape: []int64{6}, Data: x}}, `got shape [6] (rank 1), want [? 3] (rank 2)`},
		{"dim", map[string]Tensor{"X": {Shape: []int64{3, 2}, Data: x}}, `got shape [3 2], want [? 3] (dimension 1)`},
		{"length", map[string]Tensor{"X": {Shape: []int64{1, 3}, Data: x}}, `shape [1 3] needs 3 elements, data has 6`},
		{"negative", map[string]Tensor{"X": {Shape: []int64{-2, 3}, Data: x}}, `negative dimension`},
		{"go type", map[string]Tensor{"X": {Shape: []int64{2, 3}, Data: []int{1, 2, 3, 4, 5, 6}}}, `data is []int; want []float32`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Run(c.in)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "ort: (in-memory model): ") {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(map[string]Tensor{"X": {Shape: []int64{2, 3}, Data: x}}); err == nil || !strings.Contains(err.Error(), "closed session") {
		t.Fatalf("Run after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestSessionFileErrorsNameTheFile(t *testing.T) {
	initORT(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.onnx")
	if _, err := NewSessionFile(missing, Options{}); err == nil || !strings.Contains(err.Error(), missing+": no such file") {
		t.Fatalf("missing file: %v", err)
	}
	junk := filepath.Join(dir, "junk.onnx")
	if err := os.WriteFile(junk, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := NewSessionFile(junk, Options{})
	var fe *onnx.FormatError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), junk) {
		t.Fatalf("junk file: want a FormatError naming %s, got %v", junk, err)
	}
	// Valid protobuf that onnxruntime rejects: an op that does not exist. The error must
	// carry onnxruntime's reason and the file name.
	g := &pb.GraphProto{
		Name:   proto("bad"),
		Node:   []*pb.NodeProto{onnx.NewNode("NoSuchOp", "n", []string{"X"}, []string{"Y"})},
		Input:  []*pb.ValueInfoProto{onnx.ValueInfo("X", pb.TensorProto_FLOAT, onnx.Dim{Value: 1})},
		Output: []*pb.ValueInfoProto{onnx.ValueInfo("Y", pb.TensorProto_FLOAT, onnx.Dim{Value: 1})},
	}
	bad := filepath.Join(dir, "bad.onnx")
	if err := os.WriteFile(bad, encode(t, g), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = NewSessionFile(bad, Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "ort: "+bad+": onnxruntime cannot load the model") || !strings.Contains(err.Error(), "NoSuchOp") {
		t.Fatalf("bad op: %v", err)
	}
}

func TestTorchvisionExportRuns(t *testing.T) {
	initORT(t)
	path := filepath.Join(testenv.RepoRoot(t), "onnx", "testdata", "tiny_torchvision.onnx")
	s, err := NewSessionFile(path, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	x := make([]float32, 2*3*32*32)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	out, err := s.Run(map[string]Tensor{"input": {Shape: []int64{2, 3, 32, 32}, Data: x}})
	if err != nil {
		t.Fatal(err)
	}
	o := out["output"]
	if len(o.Shape) != 2 || o.Shape[0] != 2 || o.Shape[1] != 10 {
		t.Fatalf("output shape %v, want [2 10]", o.Shape)
	}
	// The exported graph is in training mode (BatchNorm uses batch statistics), so the two
	// images' logits must differ: a broken batch layout would make them equal or NaN.
	d := o.Data.([]float32)
	same := true
	for j := 0; j < 10; j++ {
		if math.IsNaN(float64(d[j])) {
			t.Fatalf("NaN in logits %v", d)
		}
		same = same && d[j] == d[10+j]
	}
	if same {
		t.Fatalf("both images gave the same logits %v", d[:10])
	}
}

func TestCUDAWithCPULibraryIsAClearError(t *testing.T) {
	initORT(t)
	s, err := NewSession(denseModel(t), Options{Provider: "cuda"})
	if err == nil {
		// A GPU build with a working device: nothing to check here.
		s.Close()
		t.Skipf("%s has a CUDA provider", Loaded())
	}
	for _, want := range []string{"has no CUDA provider", Loaded(), "--ort-lib", "onnxruntime-linux-x64-gpu-"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q should contain %q", err, want)
		}
	}
}

func TestOptionsValidation(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Provider: "tpu"}, `unknown provider "tpu"; want one of cpu, cuda`},
		{Options{Provider: "cuda", DeviceID: -1}, "CUDA device -1"},
		{Options{Threads: -3}, "-3 threads"},
	} {
		if _, err := NewSession(nil, c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.o, err, c.want)
		}
	}
}
