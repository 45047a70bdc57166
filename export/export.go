package export

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/ssl4dp/ssl4dp/export/modelinfo"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// What selects the part of the network to export.
type What string

const (
	// Seg exports image → segmentation logits [N,K,H,W] (or labels with Argmax).
	Seg What = "seg"
	// Encoder exports image → encoder features [N,C,h,w].
	Encoder What = "encoder"
)

// Tensor names export looks for in the trained model (graphs' names) and writes.
const (
	LogitsName   = "logits"   // segmentation logits, resized to the input
	FeaturesName = "features" // the encoder's last stage
	LabelsName   = "labels"   // --argmax output: class index per pixel, int64 [N,H,W]
)

// Options choose the export. The zero value exports the segmentation logits at the
// source's opset with a fixed 1×3×512×512 input (or the source's fixed input shape).
type Options struct {
	What    What  // Seg (default) or Encoder
	Argmax  bool  // Seg only: end with ArgMax over classes; the output is LabelsName
	Dynamic bool  // N, H and W of the input (and the outputs that follow them) symbolic
	Opset   int64 // 13–17; 0 keeps the source's
	FoldBN  bool  // fold BatchNorm into the preceding convolutions
	// Tensor names the tensor to export when the model does not use graphs' names ("logits",
	// "features"), e.g. "out" of a PyTorch export; "" picks by What.
	Tensor string

	// Batch, H and W fix the input shape of a static export and the first verification
	// shape; 0 takes the source's fixed dimension, else batch 1 and 512×512. A dynamic
	// export is verified at batch 2 (at least) and at a second shape, batch 1 and
	// (H+17)×(W+23).
	Batch, H, W int
	Seed        int64   // seed of the verification input
	Tol         float64 // largest accepted relative error; 0 means 1e-4
	ORT         ort.Options

	// Info is written into metadata_props (modelinfo); Export sets Version, Output,
	// Argmax and, for Seg, NumClasses. The source's own modelinfo keys are not copied:
	// Source.Info starts from them.
	Info modelinfo.Info
}

// Result is the exported model and how it was checked.
type Result struct {
	Model    *pb.ModelProto
	Input    string   // the image input's name
	Output   string   // the output's name
	Opset    int64    // the written opset
	FoldedBN int      // BatchNorms folded into convolutions (FoldBN)
	KeptBN   []string // BatchNorms left as nodes (in inference form)
	Nodes    int      // nodes in the export
	Dropped  int      // nodes of the source that the export does not need
	Checks   []Check  // one per verification shape
}

func (o Options) withDefaults() (Options, error) {
	if o.What == "" {
		o.What = Seg
	}
	if o.What != Seg && o.What != Encoder {
		return o, &OptionsError{fmt.Sprintf("what %q; want %s or %s", o.What, Seg, Encoder)}
	}
	if o.Argmax && o.What != Seg {
		return o, &OptionsError{"argmax applies to segmentation logits (--what seg), not to encoder features"}
	}
	if o.Opset != 0 && (o.Opset < onnx.MinWriteOpset || o.Opset > onnx.MaxWriteOpset) {
		return o, &OptionsError{fmt.Sprintf("opset %d; want %d–%d", o.Opset, onnx.MinWriteOpset, onnx.MaxWriteOpset)}
	}
	if o.Batch < 0 || o.H < 0 || o.W < 0 {
		return o, &OptionsError{fmt.Sprintf("input shape batch %d, %d×%d; want positive sizes", o.Batch, o.H, o.W)}
	}
	if o.Tol == 0 {
		o.Tol = 1e-4
	}
	if !(o.Tol > 0) {
		return o, &OptionsError{fmt.Sprintf("tolerance %v; want > 0", o.Tol)}
	}
	return o, nil
}

// OptionsError is a bad option: bad user input (exit code 2 in the CLI).
type OptionsError struct{ Msg string }

func (e *OptionsError) Error() string { return "export: " + e.Msg }

// ExitCode makes the CLI exit with 2.
func (e *OptionsError) ExitCode() int { return 2 }

// VerifyError is an export that onnxruntime runs differently from Gorgonia: it is not
// written.
type VerifyError struct {
	Check Check
	Tol   float64
}

func (e *VerifyError) Error() string {
	c := e.Check
	if c.LabelErrors > 0 {
		return fmt.Sprintf("export: not written: at input %v, %d of %d onnxruntime labels differ from the argmax of Gorgonia's logits", c.Input, c.LabelErrors, c.Labels)
	}
	return fmt.Sprintf("export: not written: at input %v onnxruntime's output differs from Gorgonia's by %.3g relative (%.3g absolute), above the tolerance %g",
		c.Input, c.MaxRel, c.MaxAbs, e.Tol)
}

// Export builds the inference model of src that o describes and checks it: onnxruntime
// runs it and its output must equal, within o.Tol relative to the output's scale, what
// Gorgonia computes with the trained network in evaluation mode on the same seeded input.
// The steps, in order: keep only the nodes the output needs; put BatchNorm and Dropout in
// inference form; fold BatchNorm (FoldBN); convert the opset; fix or free the input shape;
// append ArgMax (Argmax); verify; write shapes and metadata. src is not modified.
func Export(src *pb.ModelProto, o Options) (*Result, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if src == nil || src.Graph == nil {
		return nil, fmt.Errorf("export: the model has no graph")
	}
	opset, err := onnx.Opset(src, "")
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if opset < onnx.MinWriteOpset || opset > onnx.MaxWriteOpset {
		return nil, fmt.Errorf("export: the model has opset %d; export reads and writes opsets %d–%d (re-export the source at opset %d or later, e.g. torch.onnx.export(..., opset_version=13))",
			opset, onnx.MinWriteOpset, onnx.MaxWriteOpset, onnx.MinWriteOpset)
	}
	if o.Opset == 0 {
		o.Opset = opset
	}
	input, err := imageInput(src.Graph)
	if err != nil {
		return nil, err
	}
	output, err := outputTensor(src.Graph, o.What, o.Tensor)
	if err != nil {
		return nil, err
	}
	shapes := verifyShapes(input, o)

	g, err := prune(src.Graph, []string{output})
	if err != nil {
		return nil, err
	}
	pruned, err := onnx.NewModel(g, opset)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	pruned.MetadataProps = otherMetadata(src.MetadataProps)
	trained, err := importer.InferenceForm(pruned)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	// The reference imports at every verification shape, whatever the source declared.
	setInputDims(trained.Graph, input.GetName(), inputDims(shapes[0], true))
	res := &Result{Input: input.GetName(), Output: output, Opset: o.Opset, Dropped: len(src.Graph.Node) - len(g.Node)}

	m := proto.Clone(trained).(*pb.ModelProto)
	if o.FoldBN {
		if res.FoldedBN, res.KeptBN, err = foldBatchNorm(m.Graph); err != nil {
			return nil, err
		}
	} else {
		for _, n := range m.Graph.Node {
			if n.GetOpType() == "BatchNormalization" {
				res.KeptBN = append(res.KeptBN, n.GetName())
			}
		}
	}
	if err := convertOpset(m, o.Opset); err != nil {
		return nil, err
	}
	setInputDims(m.Graph, res.Input, inputDims(shapes[0], o.Dynamic))
	for i, v := range m.Graph.Output {
		m.Graph.Output[i] = unshaped(v.GetName(), elemType(v))
	}
	final := m
	if o.Argmax {
		if final, err = withArgmax(m, output); err != nil {
			return nil, err
		}
		res.Output = LabelsName
	}

	var outShapes [][]int64
	classes := 0
	for _, shape := range shapes {
		x := seededInput(shape, o.Seed)
		want, wantShape, err := reference(trained, res.Input, output, shape, x)
		if err != nil {
			return nil, err
		}
		if len(wantShape) != 4 {
			return nil, fmt.Errorf("export: %q has shape %v at input %v; a %s output is [N,C,H,W]", output, wantShape, shape, o.What)
		}
		classes = wantShape[1]
		c := Check{Input: shape}
		got, err := runORT(m, res.Input, shape, x, o.ORT)
		if err != nil {
			return nil, err
		}
		if err := compare(&c, got, want, wantShape); err != nil {
			return nil, err
		}
		if !(c.MaxRel <= o.Tol) {
			return nil, &VerifyError{Check: c, Tol: o.Tol}
		}
		if o.Argmax {
			if got, err = runORT(final, res.Input, shape, x, o.ORT); err != nil {
				return nil, err
			}
			if err := compareLabels(&c, got, want, wantShape, o.Tol); err != nil {
				return nil, err
			}
			if c.LabelErrors > 0 {
				return nil, &VerifyError{Check: c, Tol: o.Tol}
			}
		}
		outShapes = append(outShapes, got.Shape)
		res.Checks = append(res.Checks, c)
	}
	setOutputDims(final.Graph.Output[0], outShapes, shapes, o.Dynamic)

	info := o.Info
	info.Version = onnx.Version
	info.Output = string(o.What)
	info.Argmax = o.Argmax
	if o.What == Seg {
		info.NumClasses = classes
		if len(info.Classes) > 0 && len(info.Classes) != classes {
			return nil, fmt.Errorf("export: the run names %d classes (%s) but the model's %q has %d channels", len(info.Classes), strings.Join(info.Classes, ", "), output, classes)
		}
	} else {
		info.NumClasses, info.Classes = 0, nil
	}
	info.Write(final)
	if err := onnx.Validate(final); err != nil {
		return nil, fmt.Errorf("export: built an invalid model (a bug): %w", err)
	}
	res.Model = final
	res.Nodes = len(final.Graph.Node)
	return res, nil
}

// imageInput is the model's one image input, [N,C,H,W] float.
func imageInput(g *pb.GraphProto) (*pb.ValueInfoProto, error) {
	ins := onnx.GraphInputs(g)
	if len(ins) != 1 {
		var names []string
		for _, in := range ins {
			names = append(names, fmt.Sprintf("%q", in.GetName()))
		}
		return nil, fmt.Errorf("export: the model has %d inputs (%s); export handles models with one image input [N,3,H,W]", len(ins), strings.Join(names, ", "))
	}
	dims, et := onnx.Dims(ins[0])
	if et != pb.TensorProto_FLOAT || (dims != nil && len(dims) != 4) {
		return nil, fmt.Errorf("export: input %q is %v %v; want a float image batch [N,3,H,W]", ins[0].GetName(), et, dims)
	}
	return ins[0], nil
}

// notSegOutputs are graphs' outputs that are not segmentation logits: a model whose only
// output is one of these (a pre-training network) has nothing for --what seg.
var notSegOutputs = []string{graphs.Features, graphs.LowLevel, graphs.DecoderFeatures, graphs.Projection,
	graphs.Prediction, graphs.DenseProjection, graphs.RotationLogits, graphs.ClassLogits}

// outputTensor picks the tensor to export: graphs' "logits" or "features", or for Seg a
// model's only output (a user's own segmentation network).
func outputTensor(g *pb.GraphProto, what What, name string) (string, error) {
	produced := map[string]bool{}
	for _, n := range g.Node {
		for _, o := range n.Output {
			produced[o] = true
		}
	}
	var outs []string
	for _, o := range g.Output {
		outs = append(outs, o.GetName())
	}
	switch {
	case name != "" && produced[name]:
		return name, nil
	case name != "":
		return "", &OptionsError{fmt.Sprintf("the model computes no tensor %q (its outputs: %s)", name, strings.Join(outs, ", "))}
	case what == Seg && produced[LogitsName]:
		return LogitsName, nil
	case what == Seg && len(outs) == 1 && !slices.Contains(notSegOutputs, outs[0]):
		return outs[0], nil
	case what == Encoder && produced[FeaturesName]:
		return FeaturesName, nil
	}
	hint := "a pre-training model has no segmentation head: export its encoder with --what encoder, or fine-tune it first (ssl4dp train seg)"
	want := LogitsName
	if what == Encoder {
		want, hint = FeaturesName, "the encoder's last stage must be named \"features\", as graphs/ names it"
	}
	if what == Seg && len(outs) > 1 {
		hint = "name the logits with --tensor (Options.Tensor); or, for a pre-training model, export its encoder with --what encoder"
	}
	return "", fmt.Errorf("export: --what %s: the model has no tensor %q (its outputs: %s); %s", what, want, strings.Join(outs, ", "), hint)
}

// verifyShapes are the input shapes export checks at: the export's own shape, and for a
// dynamic export a second one with another batch and size.
func verifyShapes(in *pb.ValueInfoProto, o Options) [][]int {
	dims, _ := onnx.Dims(in)
	pick := func(i, given, def int) int {
		if given > 0 {
			return given
		}
		if dims != nil && dims[i].Param == "" && dims[i].Value > 0 {
			return int(dims[i].Value)
		}
		return def
	}
	first := []int{pick(0, o.Batch, 1), pick(1, 0, 3), pick(2, o.H, 512), pick(3, o.W, 512)}
	shapes := [][]int{first}
	if o.Dynamic {
		if first[0] == 1 {
			first[0] = 2 // a batch of one would hide batch-mixing errors
		}
		shapes = append(shapes, []int{1, first[1], first[2] + 17, first[3] + 23})
	}
	return shapes
}

// inputDims is the declared input shape: fixed at shape, or N, C, H, W symbolic but C.
func inputDims(shape []int, dynamic bool) []onnx.Dim {
	if dynamic {
		return []onnx.Dim{{Param: "N"}, {Value: int64(shape[1])}, {Param: "H"}, {Param: "W"}}
	}
	return []onnx.Dim{{Value: int64(shape[0])}, {Value: int64(shape[1])}, {Value: int64(shape[2])}, {Value: int64(shape[3])}}
}

func setInputDims(g *pb.GraphProto, name string, dims []onnx.Dim) {
	for i, in := range g.Input {
		if in.GetName() == name {
			g.Input[i] = onnx.ValueInfo(name, pb.TensorProto_FLOAT, dims...)
		}
	}
}

// setOutputDims declares the output's shape from what onnxruntime produced at each input
// shape. A static export declares those sizes. A dynamic one declares the batch as N, the
// channels (classes) fixed when they did not change, and the last two (spatial) dimensions
// symbolic: H or W when they followed the input's, else unnamed — two sizes cannot prove
// that a spatial size is fixed.
func setOutputDims(v *pb.ValueInfoProto, got [][]int64, inputs [][]int, dynamic bool) {
	first := got[0]
	dims := make([]onnx.Dim, len(first))
	for d, n := range first {
		dims[d] = onnx.Dim{Value: n}
		if !dynamic {
			continue
		}
		same, followsH, followsW := true, true, true
		for i, s := range got {
			same = same && s[d] == n
			followsH = followsH && s[d] == int64(inputs[i][2])
			followsW = followsW && s[d] == int64(inputs[i][3])
		}
		spatial := d >= len(first)-2 // the last two: [N,C,H,W] logits and features, [N,H,W] labels
		switch {
		case d == 0:
			dims[d] = onnx.Dim{Param: "N"}
		case !spatial && same:
		case spatial && followsH && !followsW:
			dims[d] = onnx.Dim{Param: "H"}
		case spatial && followsW && !followsH:
			dims[d] = onnx.Dim{Param: "W"}
		default:
			dims[d] = onnx.Dim{}
		}
	}
	*v = *onnx.ValueInfo(v.GetName(), elemType(v), dims...)
	for d, dim := range dims { // onnx.ValueInfo writes dim_value 0 for an unnamed dimension
		if dim.Param == "" && dim.Value == 0 {
			v.Type.GetTensorType().Shape.Dim[d].Value = nil
		}
	}
}

func elemType(v *pb.ValueInfoProto) pb.TensorProto_DataType {
	_, et := onnx.Dims(v)
	if et == pb.TensorProto_UNDEFINED {
		return pb.TensorProto_FLOAT
	}
	return et
}

// withArgmax returns a copy of m whose output is the class index per pixel: ArgMax over
// dimension 1 without keeping it, ties to the lowest index (select_last_index 0), as
// metrics.ArgmaxLogits and torch.argmax do.
func withArgmax(m *pb.ModelProto, logits string) (*pb.ModelProto, error) {
	out := proto.Clone(m).(*pb.ModelProto)
	g := out.Graph
	for _, n := range g.Node {
		if slices.Contains(n.Output, LabelsName) || n.GetName() == "argmax" {
			return nil, fmt.Errorf("export: --argmax: the model already has a node or tensor called %q or \"argmax\"", LabelsName)
		}
	}
	g.Node = append(g.Node, onnx.NewNode("ArgMax", "argmax", []string{logits}, []string{LabelsName},
		onnx.IntAttr("axis", 1), onnx.IntAttr("keepdims", 0), onnx.IntAttr("select_last_index", 0)))
	g.Output = []*pb.ValueInfoProto{unshaped(LabelsName, pb.TensorProto_INT64)}
	return out, nil
}

// otherMetadata copies the metadata that is not modelinfo's (the graphs spec, a user's own
// keys): modelinfo's keys are rewritten from Options.Info, so none of the source's can go
// stale (an earlier export's "argmax", a class count an encoder does not have).
func otherMetadata(ps []*pb.StringStringEntryProto) []*pb.StringStringEntryProto {
	var out []*pb.StringStringEntryProto
	for _, p := range ps {
		if !strings.HasPrefix(p.GetKey(), "ssl4dp.") || p.GetKey() == "ssl4dp.graphs.spec" {
			out = append(out, proto.Clone(p).(*pb.StringStringEntryProto))
		}
	}
	return out
}
