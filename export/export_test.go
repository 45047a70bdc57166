package export

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// The trained model's BatchNorm statistics and weights have left their initial values, so
// the tests below check trained values, not an identity-like BatchNorm.
func TestTrainedModelMoved(t *testing.T) {
	m := trained(t)
	fresh, err := graphs.Build(segSpec)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bn1.running_mean", "bn1.running_var", "conv1.weight", "head.conv_seg.bias"} {
		a, _ := onnx.Floats(onnx.Initializer(m.Graph, name))
		b, _ := onnx.Floats(onnx.Initializer(fresh.Graph, name))
		if relErr(a, b) < 1e-3 {
			t.Errorf("%s did not move in training (relative change %.2g)", name, relErr(a, b))
		}
	}
}

// The export's logits (onnxruntime) equal Gorgonia's evaluation-mode logits of the whole
// trained model, computed here independently of export's own check.
func TestSegMatchesGorgonia(t *testing.T) {
	initORT(t)
	src := trained(t)
	r := mustExport(t, src, Options{Batch: 2})
	shape := []int{2, 3, 32, 48}
	x := seededInput(shape, 11)
	got := onnxruntime(t, r.Model, shape, x)
	want := gorgonia(t, src, graphs.Logits, shape, x)
	if !slices.Equal(got.Shape, []int64{2, 3, 32, 48}) {
		t.Fatalf("logits shape %v", got.Shape)
	}
	if e := relErr(got.Data.([]float32), want); e > 1e-4 {
		t.Errorf("onnxruntime vs Gorgonia: relative error %.3g > 1e-4", e)
	} else {
		t.Logf("relative error %.2g; export's own check: %+v", e, r.Checks)
	}
	if r.Output != graphs.Logits || r.Input != graphs.Input || len(r.Checks) != 1 || r.Checks[0].MaxRel > 1e-4 {
		t.Errorf("result %+v", r)
	}
	// Only the logits survive: no other output, no low_level-only nodes, BatchNorm in
	// inference form (one output, no training_mode).
	if len(r.Model.Graph.Output) != 1 || r.Model.Graph.Output[0].GetName() != graphs.Logits {
		t.Errorf("outputs %v", r.Model.Graph.Output)
	}
	dims, _ := onnx.Dims(r.Model.Graph.Input[0])
	if fmt.Sprint(dims) != "[2 3 32 48]" {
		t.Errorf("static input dims %v", dims)
	}
	if dims, _ := onnx.Dims(r.Model.Graph.Output[0]); fmt.Sprint(dims) != "[2 3 32 48]" {
		t.Errorf("static output dims %v", dims)
	}
	for _, n := range r.Model.Graph.Node {
		if n.GetOpType() == "BatchNormalization" && (len(n.Output) != 1 || onnx.Attr(n, "training_mode") != nil) {
			t.Errorf("BatchNorm %s not in inference form", n.GetName())
		}
	}
}

// An export from a model with pretext heads keeps none of their nodes or initializers.
func TestPrunesTrainingOnlyParts(t *testing.T) {
	initORT(t)
	spec := graphs.Spec{Encoder: graphs.ResNet18, OutputStride: 16, Width: 0.125, Head: graphs.HeadDeepLabV3Plus, DecoderWidth: 8,
		Pretext: graphs.Pretext{Projector: graphs.ProjectorBYOL, Dim: 8, Hidden: 16, PredictorHidden: 8, Dense: true, DenseDim: 8, Rotation: true, OnDecoder: true}, Seed: 3}
	src, err := graphs.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Export(src, Options{H: 32, W: 32}); err == nil || !strings.Contains(err.Error(), "--what encoder") {
		t.Errorf("--what seg of a pre-training model: %v, want a hint to --what encoder", err)
	}
	for _, out := range []string{graphs.DenseProjection, graphs.RotationLogits, graphs.DecoderFeatures} {
		single := cloneModel(src)
		single.Graph.Output = []*pb.ValueInfoProto{unshaped(out, pb.TensorProto_FLOAT)}
		if _, err := Export(single, Options{H: 32, W: 32}); err == nil || !strings.Contains(err.Error(), "has no tensor \"logits\"") {
			t.Errorf("--what seg of a model whose only output is %s: %v", out, err)
		}
	}
	r := mustExport(t, src, Options{What: Encoder})
	for _, init := range r.Model.Graph.Initializer {
		for _, p := range []string{"projector.", "predictor.", "dense_projector.", "rotation.", "head."} {
			if strings.HasPrefix(init.GetName(), p) {
				t.Errorf("initializer %s kept", init.GetName())
			}
		}
	}
	if r.Dropped == 0 || len(r.Model.Graph.Output) != 1 || r.Output != graphs.Features {
		t.Errorf("dropped %d nodes, outputs %v", r.Dropped, r.Model.Graph.Output)
	}
	if ops := opTypes(r.Model); ops["Gemm"] > 0 || ops["Resize"] > 0 {
		t.Errorf("encoder export has head ops: %v", ops)
	}
}

// --what encoder from a segmentation model: input → features only, equal to the "features"
// tensor of the whole seg model in Gorgonia.
func TestEncoderFromSeg(t *testing.T) {
	initORT(t)
	src := trained(t)
	r := mustExport(t, src, Options{What: Encoder, Dynamic: true})
	shape := []int{2, 3, 40, 56}
	x := seededInput(shape, 5)
	got := onnxruntime(t, r.Model, shape, x)
	want := gorgonia(t, src, graphs.Features, shape, x)
	if !slices.Equal(got.Shape, []int64{2, 64, 3, 4}) {
		t.Errorf("features shape %v, want [2 64 3 4]", got.Shape)
	}
	if e := relErr(got.Data.([]float32), want); e > 1e-4 {
		t.Errorf("features: relative error %.3g", e)
	}
	for _, init := range r.Model.Graph.Initializer {
		if strings.HasPrefix(init.GetName(), "head.") {
			t.Errorf("encoder export keeps %s", init.GetName())
		}
	}
	if dims, _ := onnx.Dims(r.Model.Graph.Output[0]); fmt.Sprint(dims) != "[N 64 ? ?]" {
		t.Errorf("features dims %v, want [N 64 ? ?]", dims)
	}
}

// A dynamic export runs in onnxruntime at sizes other than the ones it was verified at.
func TestDynamicTwoSizes(t *testing.T) {
	initORT(t)
	src := trained(t)
	r := mustExport(t, src, Options{Dynamic: true})
	if len(r.Checks) != 2 {
		t.Fatalf("%d checks, want 2 (two shapes)", len(r.Checks))
	}
	if in, _ := onnx.Dims(r.Model.Graph.Input[0]); fmt.Sprint(in) != "[N 3 H W]" {
		t.Errorf("input dims %v", in)
	}
	if out, _ := onnx.Dims(r.Model.Graph.Output[0]); fmt.Sprint(out) != "[N 3 H W]" {
		t.Errorf("output dims %v", out)
	}
	for _, shape := range [][]int{{1, 3, 45, 61}, {3, 3, 64, 33}} {
		x := seededInput(shape, 2)
		got := onnxruntime(t, r.Model, shape, x)
		want := gorgonia(t, src, graphs.Logits, shape, x)
		if !slices.Equal(got.Shape, []int64{int64(shape[0]), 3, int64(shape[2]), int64(shape[3])}) {
			t.Errorf("%v: output shape %v", shape, got.Shape)
		}
		if e := relErr(got.Data.([]float32), want); e > 1e-4 {
			t.Errorf("%v: relative error %.3g", shape, e)
		}
	}
}

// --fold-bn: no BatchNormalization left, same logits as the unfolded export.
func TestFoldBNMatchesUnfolded(t *testing.T) {
	initORT(t)
	src := trained(t)
	plain := mustExport(t, src, Options{Batch: 2})
	folded := mustExport(t, src, Options{Batch: 2, FoldBN: true})
	if n := opTypes(folded.Model)["BatchNormalization"]; n != 0 || len(folded.KeptBN) != 0 {
		t.Errorf("%d BatchNormalization nodes left (%v)", n, folded.KeptBN)
	}
	if folded.FoldedBN != opTypes(plain.Model)["BatchNormalization"] || folded.FoldedBN == 0 {
		t.Errorf("folded %d of %d", folded.FoldedBN, opTypes(plain.Model)["BatchNormalization"])
	}
	for _, init := range folded.Model.Graph.Initializer {
		if strings.Contains(init.GetName(), "running_") || strings.Contains(init.GetName(), "bn") && strings.HasSuffix(init.GetName(), ".weight") {
			t.Errorf("folded export keeps BatchNorm value %s", init.GetName())
		}
	}
	shape := []int{2, 3, 32, 48}
	x := seededInput(shape, 8)
	a := onnxruntime(t, plain.Model, shape, x).Data.([]float32)
	b := onnxruntime(t, folded.Model, shape, x).Data.([]float32)
	if e := relErr(b, a); e > 1e-4 {
		t.Errorf("folded vs unfolded: relative error %.3g", e)
	}
}

// --argmax: the output is the class map, equal to the argmax of the logits.
func TestArgmax(t *testing.T) {
	initORT(t)
	src := trained(t)
	r := mustExport(t, src, Options{Argmax: true, Batch: 2})
	if r.Output != LabelsName || r.Checks[0].Labels != 2*32*48 || r.Checks[0].LabelErrors != 0 {
		t.Errorf("result %+v", r.Checks)
	}
	shape := []int{2, 3, 32, 48}
	x := seededInput(shape, 4)
	got := onnxruntime(t, r.Model, shape, x)
	labels, ok := got.Data.([]int64)
	if !ok || !slices.Equal(got.Shape, []int64{2, 32, 48}) {
		t.Fatalf("labels %T %v", got.Data, got.Shape)
	}
	logits := gorgonia(t, src, graphs.Logits, shape, x)
	hw := 32 * 48
	seen := map[int64]bool{}
	for b := 0; b < 2; b++ {
		for p := 0; p < hw; p++ {
			best := 0
			for c := 1; c < 3; c++ {
				if logits[(b*3+c)*hw+p] > logits[(b*3+best)*hw+p] {
					best = c
				}
			}
			seen[labels[b*hw+p]] = true
			if labels[b*hw+p] != int64(best) {
				t.Fatalf("pixel %d of image %d: label %d, argmax %d", p, b, labels[b*hw+p], best)
			}
		}
	}
	t.Logf("classes predicted: %v", seen)
	if dims, et := onnx.Dims(r.Model.Graph.Output[0]); et != pb.TensorProto_INT64 || fmt.Sprint(dims) != "[2 32 48]" {
		t.Errorf("labels declared %v %v", et, dims)
	}
	dyn := mustExport(t, src, Options{Argmax: true, Dynamic: true})
	if dims, _ := onnx.Dims(dyn.Model.Graph.Output[0]); fmt.Sprint(dims) != "[N H W]" {
		t.Errorf("dynamic labels declared %v, want [N H W]", dims)
	}
}

// Debian's onnx.checker (full_check, with shape inference) accepts every export variant at
// every opset export writes.
func TestCheckerAcceptsEveryVariant(t *testing.T) {
	initORT(t)
	py := testenv.PythonONNX(t)
	seg := trained(t)
	torch, err := onnx.ReadFile(filepath.Join(testenv.RepoRoot(t), "onnx", "importer", "testdata", "fcn_small.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var files []string
	for opset := int64(onnx.MinWriteOpset); opset <= onnx.MaxWriteOpset; opset++ {
		for _, v := range []struct {
			name string
			src  *pb.ModelProto
			o    Options
		}{
			{"plain", seg, Options{}},
			{"argmax", seg, Options{Argmax: true}},
			{"dynamic", seg, Options{Dynamic: true}},
			{"foldbn", seg, Options{FoldBN: true}},
			{"encoder", seg, Options{What: Encoder, Dynamic: true, FoldBN: true}},
			{"pytorch", torch, Options{Tensor: "output", Dynamic: true, FoldBN: true, Argmax: true}},
		} {
			if testing.Short() && v.name != "plain" && opset != onnx.MaxWriteOpset {
				continue
			}
			v.o.Opset = opset
			r := mustExport(t, v.src, v.o)
			if got, _ := onnx.Opset(r.Model, ""); got != opset {
				t.Errorf("%s: opset %d, want %d", v.name, got, opset)
			}
			path := filepath.Join(dir, fmt.Sprintf("%s_opset%d.onnx", v.name, opset))
			if err := onnx.WriteFile(path, r.Model); err != nil {
				t.Fatal(err)
			}
			files = append(files, path)
		}
	}
	// One interpreter for all files: starting Python and importing onnx takes a second.
	out, err := exec.Command(py, append([]string{"-c", `import sys, onnx
bad = 0
for p in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(p), full_check=True)
    except Exception as e:
        bad += 1
        print(p, e)
sys.exit(1 if bad else 0)`}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("onnx.checker rejects exports: %v\n%s", err, out)
	}
	t.Logf("onnx.checker accepted %d exports", len(files))
}

// A tolerance nothing can meet makes Export refuse: the verification really compares.
func TestVerifyRefuses(t *testing.T) {
	initORT(t)
	_, err := Export(trained(t), Options{H: 32, W: 48, Tol: 1e-12})
	var ve *VerifyError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "not written") || ve.Check.MaxRel == 0 {
		t.Fatalf("error %v, want a VerifyError", err)
	}
}

func TestOptionErrors(t *testing.T) {
	src := trained(t)
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{What: "decoder"}, `what "decoder"; want seg or encoder`},
		{Options{What: Encoder, Argmax: true}, "argmax applies to segmentation logits"},
		{Options{Opset: 12}, "opset 12; want 13–17"},
		{Options{Opset: 18}, "opset 18; want 13–17"},
		{Options{H: -1}, "want positive sizes"},
		{Options{Tol: -1}, "tolerance -1"},
	} {
		_, err := Export(src, tc.o)
		var oe *OptionsError
		if !errors.As(err, &oe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an OptionsError containing %q", tc.o, err, tc.want)
		}
	}
}

func TestModelErrors(t *testing.T) {
	old := trained(t)
	two := cloneModel(old)
	two.Graph.Input = append(two.Graph.Input, onnx.ValueInfo("mask", pb.TensorProto_FLOAT, onnx.Dim{Value: 1}))
	op11 := cloneModel(old)
	op11.OpsetImport[0].Version = ptr(int64(11))
	for name, tc := range map[string]struct {
		m    *pb.ModelProto
		want string
	}{
		"two inputs": {two, `2 inputs ("input", "mask")`},
		"opset 11":   {op11, "the model has opset 11; export reads and writes opsets 13–17"},
	} {
		if _, err := Export(tc.m, Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

// A PyTorch training export (BatchNorm kept with its running-statistic outputs, two resized
// outputs, Constant-fed shape arithmetic) exports by tensor name, folded or not, at every
// opset, and matches Gorgonia on the whole model.
func TestPyTorchExport(t *testing.T) {
	initORT(t)
	src, err := onnx.ReadFile(filepath.Join(testenv.RepoRoot(t), "onnx", "importer", "testdata", "fcn_small.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Export(src, Options{H: 32, W: 32}); err == nil || !strings.Contains(err.Error(), "name the logits with --tensor") {
		t.Errorf("two outputs, no logits: %v", err)
	}
	if _, err := Export(src, Options{Tensor: "nope"}); err == nil || !strings.Contains(err.Error(), `computes no tensor "nope" (its outputs: output, aux)`) {
		t.Errorf("unknown tensor: %v", err)
	}
	shape := []int{2, 3, 37, 45}
	x := seededInput(shape, 3)
	want := gorgonia(t, src, "output", shape, x)
	for _, o := range []Options{{Tensor: "output", Dynamic: true}, {Tensor: "output", Dynamic: true, FoldBN: true, Opset: 17}} {
		r := mustExport(t, src, o)
		if len(r.Model.Graph.Output) != 1 || r.Model.Graph.Output[0].GetName() != "output" {
			t.Errorf("%+v: outputs %v", o, r.Model.Graph.Output)
		}
		if o.FoldBN && (r.FoldedBN != 3 || opTypes(r.Model)["BatchNormalization"] != 0) {
			t.Errorf("folded %d BatchNorms, %d left", r.FoldedBN, opTypes(r.Model)["BatchNormalization"])
		}
		got := onnxruntime(t, r.Model, shape, x)
		if e := relErr(got.Data.([]float32), want); e > 1e-4 {
			t.Errorf("%+v: relative error %.3g", o, e)
		}
	}
	tiny, err := onnx.ReadFile(filepath.Join(testenv.RepoRoot(t), "onnx", "testdata", "tiny_torchvision.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Export(tiny, Options{H: 32, W: 32}); err == nil || !strings.Contains(err.Error(), `"output" has shape [1 10] at input [1 3 32 32]; a seg output is [N,C,H,W]`) {
		t.Errorf("a classifier as seg: %v", err)
	}
}
