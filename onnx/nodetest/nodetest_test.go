package nodetest

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

func ptr[T any](v T) *T { return &v }

func TestCompare(t *testing.T) {
	w := onnx.FromFloats("y", []int{2, 3}, []float32{1, -2, 1000, 0, float32(math.NaN()), float32(math.Inf(-1))})
	ok := []float32{1.0009, -2.0019, 1000.9, 9e-8, float32(math.NaN()), float32(math.Inf(-1))}
	if err := Compare(w, []int64{2, 3}, ok, RTol, ATol); err != nil {
		t.Fatalf("within tolerance: %v", err)
	}
	cases := []struct {
		name  string
		shape []int64
		got   any
		want  string
	}{
		{"rtol", []int64{2, 3}, []float32{1, -2, 1001.1, 0, float32(math.NaN()), float32(math.Inf(-1))}, "1 of 6 values differ (max |diff| 1.1); first at [0 2]: got 1001.1, want 1000"},
		{"atol at zero", []int64{2, 3}, []float32{1, -2, 1000, 2e-7, float32(math.NaN()), float32(math.Inf(-1))}, "first at [1 0]: got 2e-07, want 0"},
		{"nan", []int64{2, 3}, []float32{1, -2, 1000, 0, 0, float32(math.Inf(-1))}, "first at [1 1]: got 0, want NaN"},
		{"inf", []int64{2, 3}, []float32{1, -2, 1000, 0, float32(math.NaN()), float32(math.Inf(1))}, "got +Inf, want -Inf"},
		{"two", []int64{2, 3}, []float32{2, -3, 1000, 0, float32(math.NaN()), float32(math.Inf(-1))}, "2 of 6 values differ (max |diff| 1); first at [0 0]"},
		{"shape", []int64{3, 2}, ok, "shape [3 2], want [2 3]"},
		{"type", []int64{2, 3}, []float64{1, 2, 3, 4, 5, 6}, "values are []float64, want []float32"},
		{"length", []int64{2, 3}, ok[:5], "5 values for shape [2 3], want 6"},
	}
	for _, c := range cases {
		err := Compare(w, c.shape, c.got, RTol, ATol)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}

	ints := onnx.FromInt64s("i", []int{3}, []int64{1, 1 << 40, -3})
	if err := Compare(ints, []int64{3}, []int64{1, 1 << 40, -3}, RTol, ATol); err != nil {
		t.Errorf("equal int64: %v", err)
	}
	// 2^40+1 is within rtol of 2^40, but integers must match exactly.
	if err := Compare(ints, []int64{3}, []int64{1, 1<<40 + 1, -3}, RTol, ATol); err == nil || !strings.Contains(err.Error(), "first at [1]: got 1099511627777, want 1099511627776") {
		t.Errorf("int64 off by one: %v", err)
	}
	scalar := onnx.FromFloats("s", nil, []float32{2})
	if err := Compare(scalar, []int64{}, []float32{2}, RTol, ATol); err != nil {
		t.Errorf("scalar: %v", err)
	}
	if err := Compare(scalar, []int64{1}, []float32{2}, RTol, ATol); err == nil {
		t.Error("a [1] tensor must not pass as a scalar")
	}
}

func TestDecodeKeepsTypes(t *testing.T) {
	dbl := &pb.TensorProto{Dims: []int64{2}, DataType: ptr(int32(pb.TensorProto_DOUBLE)), DoubleData: []float64{1 + 1e-12, -2}}
	_, d, err := Decode(dbl)
	if err != nil || d.([]float64)[0] != 1+1e-12 {
		t.Fatalf("double_data: %v %v", d, err)
	}
	raw := &pb.TensorProto{Dims: []int64{1}, DataType: ptr(int32(pb.TensorProto_DOUBLE)), RawData: []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}}
	if _, d, err := Decode(raw); err != nil || d.([]float64)[0] != 1 {
		t.Fatalf("raw double: %v %v", d, err)
	}
	b := &pb.TensorProto{Dims: []int64{3}, DataType: ptr(int32(pb.TensorProto_BOOL)), Int32Data: []int32{1, 0, 1}}
	if _, d, err := Decode(b); err != nil || !d.([]bool)[0] || d.([]bool)[1] {
		t.Fatalf("bool: %v %v", d, err)
	}
	u := &pb.TensorProto{Dims: []int64{2}, DataType: ptr(int32(pb.TensorProto_UINT8)), RawData: []byte{255, 7}}
	if _, d, err := Decode(u); err != nil || d.([]uint8)[0] != 255 {
		t.Fatalf("uint8: %v %v", d, err)
	}
	i32 := onnx.FromInt32s("", []int{2}, []int32{-5, 9})
	if _, d, err := Decode(i32); err != nil || d.([]int32)[0] != -5 {
		t.Fatalf("int32: %v %v", d, err)
	}
	f16 := &pb.TensorProto{Dims: []int64{1}, DataType: ptr(int32(pb.TensorProto_FLOAT16)), Int32Data: []int32{0x3c00}}
	if _, _, err := Decode(f16); err == nil || !strings.Contains(err.Error(), "FLOAT16") {
		t.Fatalf("float16 must be refused by name: %v", err)
	}
	short := &pb.TensorProto{Name: ptr("w"), Dims: []int64{3}, DataType: ptr(int32(pb.TensorProto_FLOAT)), FloatData: []float32{1}}
	if _, _, err := Decode(short); err == nil {
		t.Fatal("a tensor holding fewer values than its shape must be an error")
	}
}

// TestLoadDebianNodeTests checks the selection the conformance tests rely on: 158 node tests
// use only CNN ops, each with one data set whose tensors map onto the graph's names.
func TestLoadDebianNodeTests(t *testing.T) {
	cases, err := Load(testenv.NodeTests(t), CNNOps)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Case{}
	skipped := 0
	for _, c := range cases {
		byName[c.Name] = c
		if c.Skip != "" {
			skipped++
			continue
		}
		if len(c.Sets) == 0 || len(c.Sets[0].In) != len(c.Inputs) || len(c.Sets[0].Out) != len(c.Outputs) {
			t.Errorf("%s: inputs %v outputs %v, sets %d", c.Name, c.Inputs, c.Outputs, len(c.Sets))
		}
	}
	t.Logf("%d CNN-op node tests, %d skipped", len(cases), skipped)
	if len(cases) != 158 {
		t.Errorf("%d CNN-op node tests, want 158 (libonnx-testdata 1.12)", len(cases))
	}
	for name := range Skips {
		if c, ok := byName[name]; !ok || c.Skip == "" {
			t.Errorf("Skips names %s, which is not a skipped CNN-op case", name)
		}
	}
	c, ok := byName["test_conv_with_strides_padding"]
	if !ok || c.Op != "Conv" || strings.Join(c.Inputs, ",") != "x,W" || c.Outputs[0] != "y" {
		t.Fatalf("test_conv_with_strides_padding = %+v", c)
	}
	shape, x, err := Decode(c.Sets[0].Inputs["x"])
	if err != nil || len(shape) != 4 || shape[2] != 7 || x.([]float32)[1] != 1 {
		t.Errorf("x = %v %v, %v", shape, x, err)
	}
	if _, ok := byName["test_softmax_axis_0_expanded"]; ok {
		t.Error("an expanded test using ReduceMax/Exp must not be selected")
	}
	// A narrower op list selects only the cases it covers.
	ops, _ := Load(testenv.NodeTests(t), []string{"Relu"})
	if len(ops) != 1 || ops[0].Name != "test_relu" || ops[0].Op != "Relu" {
		t.Errorf("Load(Relu) = %d cases", len(ops))
	}
}

// writeCase writes a node-test folder with a one-node Relu model and the given data files.
func writeCase(t *testing.T, root, name string, files map[string][]byte) {
	t.Helper()
	g := &pb.GraphProto{
		Name:   ptr("g"),
		Node:   []*pb.NodeProto{onnx.NewNode("Relu", "r", []string{"x"}, []string{"y"})},
		Input:  []*pb.ValueInfoProto{onnx.ValueInfo("x", pb.TensorProto_FLOAT, onnx.Dim{Value: 2})},
		Output: []*pb.ValueInfoProto{onnx.ValueInfo("y", pb.TensorProto_FLOAT, onnx.Dim{Value: 2})},
	}
	m, _ := onnx.NewModel(g, 13)
	data, err := onnx.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Join(dir, "test_data_set_0"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.onnx"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	for f, b := range files {
		if err := os.WriteFile(filepath.Join(dir, "test_data_set_0", f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func marshal(t *testing.T, tp *pb.TensorProto) []byte {
	b, err := proto.Marshal(tp)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadErrors(t *testing.T) {
	x := marshal(t, onnx.FromFloats("x", []int{2}, []float32{-1, 2}))
	y := marshal(t, onnx.FromFloats("y", []int{2}, []float32{0, 2}))

	root := t.TempDir()
	writeCase(t, root, "test_ok", map[string][]byte{"input_0.pb": x, "output_0.pb": y})
	cases, err := Load(root, CNNOps)
	if err != nil || len(cases) != 1 || cases[0].Sets[0].Inputs["x"] == nil || cases[0].Sets[0].Out[0] == nil {
		t.Fatalf("Load = %+v, %v", cases, err)
	}

	for _, c := range []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"test_missing_output", map[string][]byte{"input_0.pb": x}, "test_missing_output: test_data_set_0 has 0 output files, the graph has 1 outputs (y)"},
		{"test_bad_pb", map[string][]byte{"input_0.pb": []byte{0xff, 0xff}, "output_0.pb": y}, "input_0.pb: not a TensorProto"},
		{"test_short", map[string][]byte{"input_0.pb": x[:len(x)-4], "output_0.pb": y}, "input_0.pb"},
	} {
		root := t.TempDir()
		writeCase(t, root, c.name, c.files)
		if _, err := Load(root, CNNOps); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := Load(t.TempDir(), CNNOps); err == nil || !strings.Contains(err.Error(), "no test_* folders") {
		t.Errorf("empty dir: %v", err)
	}
}
