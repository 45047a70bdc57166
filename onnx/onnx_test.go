package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

const tinyPath = "testdata/tiny_torchvision.onnx"

func TestReadTorchvisionExport(t *testing.T) {
	m, err := ReadFile(tinyPath)
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(m)
	// conv1 216 + bn1 16 + block (1152+32+2304+32) + downsample (128+32) + fc (160+10).
	if want := int64(216 + 16 + 1152 + 32 + 2304 + 32 + 128 + 32 + 160 + 10); s.Params != want {
		t.Errorf("trainable parameters = %d, want %d", s.Params, want)
	}
	if want := int64(2 * (8 + 16 + 16 + 16)); s.Buffers != want {
		t.Errorf("buffer values = %d, want %d", s.Buffers, want)
	}
	if len(s.Tied) != 0 {
		t.Errorf("tied = %v, want none", s.Tied)
	}
	if s.Opsets["ai.onnx"] != 13 || len(s.Inputs) != 1 || s.Inputs[0].Shape[0] != "N" {
		t.Errorf("summary = %+v", s)
	}
	w, err := Floats(Initializer(m.Graph, "layer1.0.bn1.running_var"))
	if err != nil || len(w) != 16 || w[0] <= 0 {
		t.Errorf("running_var = %v, %v", w, err)
	}
}

func TestRoundTrip(t *testing.T) {
	m, err := ReadFile(tinyPath)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "copy.onnx")
	if err := WriteFile(out, m); err != nil {
		t.Fatal(err)
	}
	m2, err := ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(m, m2) {
		t.Fatal("model changed in a load/save/load round trip")
	}
}

func TestTensorConversions(t *testing.T) {
	f := FromFloats("w", []int{2, 3}, []float32{1, -2, 3.5, 0, 1e-8, -7})
	got, err := Floats(f)
	if err != nil || len(got) != 6 || got[2] != 3.5 || got[4] != 1e-8 {
		t.Fatalf("Floats(raw) = %v, %v", got, err)
	}
	typed := &pb.TensorProto{Dims: []int64{2}, DataType: ptr(int32(pb.TensorProto_FLOAT)), FloatData: []float32{4, 5}}
	if got, err := Floats(typed); err != nil || got[1] != 5 {
		t.Fatalf("Floats(float_data) = %v, %v", got, err)
	}
	i := FromInt64s("s", []int{3}, []int64{-1, 0, 1 << 40})
	if got, err := Int64s(i); err != nil || got[0] != -1 || got[2] != 1<<40 {
		t.Fatalf("Int64s = %v, %v", got, err)
	}
	if got, err := Int64s(FromInt32s("", []int{2}, []int32{-5, 7})); err != nil || got[0] != -5 {
		t.Fatalf("Int64s(int32) = %v, %v", got, err)
	}
	if got, err := Int64s(FromUint8s("", []int{2}, []uint8{255, 3})); err != nil || got[0] != 255 {
		t.Fatalf("Int64s(uint8) = %v, %v", got, err)
	}
	sc := FromFloats("scalar", nil, []float32{2.5})
	if got, err := Floats(sc); err != nil || len(got) != 1 || got[0] != 2.5 || len(sc.Dims) != 0 {
		t.Fatalf("scalar = %v, %v", got, err)
	}
	// float16 1.0 = 0x3c00, -2.0 = 0xc000; bfloat16 1.0 = 0x3f80.
	h := &pb.TensorProto{Dims: []int64{2}, DataType: ptr(int32(pb.TensorProto_FLOAT16)), Int32Data: []int32{0x3c00, 0xc000}}
	if got, err := Floats(h); err != nil || got[0] != 1 || got[1] != -2 {
		t.Fatalf("float16 = %v, %v", got, err)
	}
	b := &pb.TensorProto{Dims: []int64{1}, DataType: ptr(int32(pb.TensorProto_BFLOAT16)), RawData: []byte{0x80, 0x3f}}
	if got, err := Floats(b); err != nil || got[0] != 1 {
		t.Fatalf("bfloat16 = %v, %v", got, err)
	}
	if _, err := Floats(i); err == nil {
		t.Fatal("Floats of an INT64 tensor must fail")
	}
}

// badModel returns a copy of the tiny model with one thing broken.
func badModel(t *testing.T, breakIt func(m *pb.ModelProto)) []byte {
	m, err := ReadFile(tinyPath)
	if err != nil {
		t.Fatal(err)
	}
	breakIt(m)
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBadInput(t *testing.T) {
	good, err := os.ReadFile(tinyPath)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "file is empty"},
		{"truncated", good[:len(good)/2], "truncated"},
		{"text", []byte("hello, this is not a model\n"), "not an ONNX model"},
		{"random", []byte{0x08, 0x96, 0x01, 0xff, 0xff, 0xff}, "not an ONNX model"},
		{"future IR", badModel(t, func(m *pb.ModelProto) { m.IrVersion = ptr(int64(99)) }), "IR version 99"},
		{"opset 0", badModel(t, func(m *pb.ModelProto) { m.OpsetImport[0].Version = ptr(int64(0)) }), "opset 0"},
		{"no graph", badModel(t, func(m *pb.ModelProto) { m.Graph = nil }), "no graph"},
		{"short tensor", badModel(t, func(m *pb.ModelProto) {
			w := Initializer(m.Graph, "fc.weight")
			w.RawData = w.RawData[:len(w.RawData)-4]
		}), `"fc.weight": shape [10 16] needs 160 elements but the file holds 159`},
		{"ragged raw", badModel(t, func(m *pb.ModelProto) {
			w := Initializer(m.Graph, "fc.bias")
			w.RawData = w.RawData[:len(w.RawData)-1]
		}), "not a multiple of 4"},
		{"external", badModel(t, func(m *pb.ModelProto) {
			Initializer(m.Graph, "fc.bias").DataLocation = pb.TensorProto_EXTERNAL.Enum()
		}), "external file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.data, "bad.onnx")
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("want *FormatError, got %v", err)
			}
			if !strings.Contains(err.Error(), "bad.onnx") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q should name the file and say %q", err, c.want)
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	_, err := ReadFile("testdata/nope.onnx")
	if err == nil || !strings.Contains(err.Error(), "testdata/nope.onnx: no such file") {
		t.Fatalf("got %v", err)
	}
}

func TestWriteKeepsOldFileOnInvalidModel(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.onnx")
	m, _ := ReadFile(tinyPath)
	if err := WriteFile(p, m); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, &pb.ModelProto{}); err == nil {
		t.Fatal("writing an invalid model must fail")
	}
	if _, err := ReadFile(p); err != nil {
		t.Fatalf("old file damaged: %v", err)
	}
}

func TestTiedInitializers(t *testing.T) {
	m, _ := ReadFile(tinyPath)
	// Make two BatchNorms share a scale, as PyTorch's exporter does for equal values.
	for _, n := range m.Graph.Node {
		if n.GetOpType() == "BatchNormalization" {
			n.Input[1] = "bn1.weight"
		}
	}
	tied := Tied(m.Graph)
	if len(tied) != 1 || tied[0] != "bn1.weight" {
		t.Fatalf("Tied = %v", tied)
	}
}

func FuzzDecode(f *testing.F) {
	good, err := os.ReadFile(tinyPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:100])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data, "fuzz.onnx")
		if err != nil {
			return
		}
		// Whatever decodes must be usable without panics.
		_ = Summarize(m)
		for _, init := range m.Graph.Initializer {
			switch pb.TensorProto_DataType(init.GetDataType()) {
			case pb.TensorProto_FLOAT, pb.TensorProto_DOUBLE, pb.TensorProto_FLOAT16, pb.TensorProto_BFLOAT16:
				_, _ = Floats(init)
			default:
				_, _ = Int64s(init)
			}
		}
	})
}
