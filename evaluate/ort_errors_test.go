package evaluate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/export"
	"github.com/ssl4dp/ssl4dp/export/modelinfo"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

func writeModel(t *testing.T, m *pb.ModelProto) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "m.onnx")
	if err := onnx.WriteFile(p, m); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOpenModelErrors(t *testing.T) {
	initORT(t)
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.onnx")
	os.WriteFile(corrupt, []byte("\x08\x07garbage that is not protobuf"), 0o644)

	seg, err := graphs.Build(graphs.Spec{Encoder: graphs.ResNet18, Width: 0.125, Head: graphs.HeadFCN, Classes: 3})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := export.Export(seg, export.Options{What: export.Encoder, H: 32, W: 32})
	if err != nil {
		t.Fatal(err)
	}
	labels, err := onnx.ReadFile(colourModel(t, 3, true))
	if err != nil {
		t.Fatal(err)
	}
	labels.MetadataProps = nil // class indices, and no class count
	pretext, err := graphs.Build(graphs.Spec{Encoder: graphs.ResNet18, Width: 0.125, Pretext: graphs.Pretext{Projector: graphs.ProjectorMoCoV2, Dim: 8}})
	if err != nil {
		t.Fatal(err)
	}
	lying, err := onnx.ReadFile(colourModel(t, 3, false))
	if err != nil {
		t.Fatal(err)
	}
	modelinfo.Info{NumClasses: 5}.Write(lying)
	vec, err := onnx.NewModel(&pb.GraphProto{Name: ptr("vec"),
		Node:   []*pb.NodeProto{onnx.NewNode("Relu", "relu", []string{"x"}, []string{"logits"})},
		Input:  []*pb.ValueInfoProto{onnx.ValueInfo("x", pb.TensorProto_FLOAT, onnx.Dim{Param: "N"}, onnx.Dim{Value: 4})},
		Output: []*pb.ValueInfoProto{onnx.ValueInfo("logits", pb.TensorProto_FLOAT, onnx.Dim{Param: "N"}, onnx.Dim{Value: 4})}}, 13)
	if err != nil {
		t.Fatal(err)
	}
	denseOnly, err := graphs.Build(graphs.Spec{Encoder: graphs.ResNet18, Width: 0.125, Pretext: graphs.Pretext{Dense: true, DenseDim: 8}, Outputs: []string{graphs.DenseProjection}})
	if err != nil {
		t.Fatal(err)
	}
	classifier := filepath.Join(testenv.RepoRoot(t), "onnx", "testdata", "tiny_torchvision.onnx")
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "none.onnx"), "no such file"},
		{"corrupt", corrupt, "not an ONNX model"},
		{"encoder", writeModel(t, enc.Model), "this is an encoder export"},
		{"labels without classes", writeModel(t, labels), "does not say how many classes"},
		{"pretext", writeModel(t, pretext), `none is called "logits" or "labels"`},
		{"metadata disagrees", writeModel(t, lying), "has 3 channels but the metadata says ssl4dp.num_classes = 5"},
		{"no image input", writeModel(t, vec), `the model's inputs are "x" float32 [? 4]; evaluate needs one float image input [N,3,H,W]`},
		{"pretext head", writeModel(t, denseOnly), `its only output "dense_projection" is a pre-training head's`},
		{"classifier", classifier, `output "output" has shape [? 10]; evaluate needs logits [N,K,H,W]`},
	} {
		_, err := OpenModel(tc.path, ort.Options{})
		var fe *onnx.FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) || fe.File != tc.path {
			t.Errorf("%s: %v, want a FormatError for the file containing %q", tc.name, err, tc.want)
		}
	}
}

// A model whose class count is not the data's is refused before anything runs, naming both.
func TestCheckClasses(t *testing.T) {
	initORT(t)
	m, err := OpenModel(colourModel(t, 4, false), ort.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ds, err := data.Open("synthetic:size=16,val=2,classes=6", data.Options{Split: "val"})
	if err != nil {
		t.Fatal(err)
	}
	err = m.CheckClasses(ds)
	var ce *ClassError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "predicts 4 classes, but synthetic:") || !strings.Contains(err.Error(), "has 6 (background, disc, square, triangle, ring, cross)") {
		t.Errorf("class check: %v", err)
	}
	ok, _ := data.Open("synthetic:size=16,val=2,classes=4", data.Options{Split: "val"})
	if err := m.CheckClasses(ok); err != nil {
		t.Error(err)
	}
}

// A model exported with a fixed batch of 2 gets batches of 3 split and padded; its scores
// equal the dynamic export's.
func TestFixedBatchModel(t *testing.T) {
	initORT(t)
	src, err := graphs.Build(graphs.Spec{Encoder: graphs.ResNet18, OutputStride: 16, Width: 0.125, Head: graphs.HeadFCN, Classes: 4, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	perturbBN(src)
	ds, err := data.Open("synthetic:size=32,val=7,classes=4", data.Options{Split: "val"})
	if err != nil {
		t.Fatal(err)
	}
	var scores []float64
	for _, o := range []export.Options{{Batch: 2, H: 32, W: 32}, {Dynamic: true, H: 32, W: 32}} {
		ex, err := export.Export(src, o)
		if err != nil {
			t.Fatal(err)
		}
		m, err := OpenModel(writeModel(t, ex.Model), ort.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if n, h, w := m.Fixed(); o.Dynamic != (n == 0 && h == 0 && w == 0) {
			t.Errorf("Fixed() = %d, %d, %d for %+v", n, h, w, o)
		}
		res, err := Run(ds, m.Forward, Options{Batch: 3, Size: 32})
		if err != nil {
			t.Fatal(err)
		}
		scores = append(scores, res.Scores.MIoU)
	}
	if scores[0] != scores[1] {
		t.Errorf("mIoU fixed batch %v, dynamic %v", scores[0], scores[1])
	}
}

func ptr[T any](v T) *T { return &v }
