package graphs

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// Head names what follows the encoder: a segmentation head, the ImageNet classifier, or
// nothing.
type Head string

// The heads.
const (
	HeadNone          Head = "none" // the zero value "" means the same
	HeadFCN           Head = "fcn"  // MoCo's FCN: two dilated 3x3 convs (head_mocofcn.go)
	HeadPSP           Head = "psp"
	HeadDeepLabV3Plus Head = "deeplabv3plus"
	HeadNonLocal      Head = "nonlocal"
	HeadClassifier    Head = "classifier" // avgpool + fc, as torchvision
)

// Heads lists every head.
var Heads = []Head{HeadNone, HeadFCN, HeadPSP, HeadDeepLabV3Plus, HeadNonLocal, HeadClassifier}

var segHeads = map[Head]func(*Builder, headIn) (Tensor, int){
	HeadFCN:           mocoFCN,
	HeadPSP:           pspHead,
	HeadDeepLabV3Plus: deepLabV3Plus,
	HeadNonLocal:      nonLocalHead,
}

// ParseHead turns a name such as "psp" into a Head.
func ParseHead(s string) (Head, error) {
	if slices.Contains(Heads, Head(s)) {
		return Head(s), nil
	}
	return "", fmt.Errorf("graphs: unknown head %q; want one of %v", s, Heads)
}

// The fixed names of the tensors a model can produce (see Spec).
const (
	Input           = "input"            // [N,3,H,W]
	Features        = "features"         // [N,C,H/os,W/os] last encoder stage
	LowLevel        = "low_level"        // [N,C,H/4,W/4] layer1
	Logits          = "logits"           // [N,Classes,H,W]
	DecoderFeatures = "decoder_features" // [N,DecoderWidth,h,w] at the head's resolution
	Projection      = "projection"       // [N,Dim]
	Prediction      = "prediction"       // [N,Dim]
	DenseProjection = "dense_projection" // [N,DenseDim,h,w]
	RotationLogits  = "rotation_logits"  // [N,4,H,W]
	ClassLogits     = "class_logits"     // [N,Classes]
	PPMValue        = "ppm_value"        // [N,DenseDim,h,w] PixPro's value transform of DenseProjection
)

// Pretext selects the self-supervised heads. Zero sizes take the paper's values (see
// projectorLayers and Spec).
type Pretext struct {
	Projector       Projector // "" for none → Projection (and Prediction for BYOL, SimSiam)
	Dim             int       // projection size (MoCo v2 128, BYOL 256, SimSiam 2048)
	Hidden          int       // projector hidden width
	PredictorHidden int       // predictor hidden width (BYOL 4096, SimSiam 512)

	Dense       bool // DenseCL's 1x1-conv MLP → DenseProjection
	PixPro      bool // with Dense: PixPro's projector (conv-BN-ReLU-conv, hidden 4096×width, dim 256) and its PPM's value transform → PPMValue
	DenseDim    int  // 128
	DenseHidden int  // the input's channels

	Rotation  bool // PLR's per-pixel 4-way classifier on DecoderFeatures → RotationLogits
	OnDecoder bool // projector and dense projector read DecoderFeatures, not Features
}

// Spec describes one model: an encoder and any heads. See the package documentation.
type Spec struct {
	Encoder      Encoder
	OutputStride int     // 32, 16 or 8; 0 means 32
	Width        float64 // multiplies every encoder stage and head width; 0 means 1
	Head         Head
	Classes      int // classes of a segmentation head (Logits) or the classifier (ClassLogits)
	DecoderWidth int // a segmentation head ending in this many channels (DecoderFeatures) instead of Classes
	Pretext      Pretext
	Seed         int64
	// Outputs lists the graph outputs; nil means every tensor the spec produces, in the
	// order of the constants above.
	Outputs []string
	// External, when set, is the encoder instead of Encoder's ResNet (OutputStride then
	// plays no part: the external map has the stride its architecture gives it).
	External *External `json:",omitempty"`
}

// SpecError reports a Spec that describes no model: bad user input, not a failure.
type SpecError struct {
	Msg string // names the field and its value
}

func (e *SpecError) Error() string { return "graphs: spec: " + e.Msg }

// ExitCode makes the CLI exit with 2 (bad input), as for a bad flag.
func (e *SpecError) ExitCode() int { return 2 }

// normalized fills defaults and checks s; every error names the field and the bad value.
func (s Spec) normalized() (Spec, error) {
	fail := func(format string, args ...any) (Spec, error) {
		return Spec{}, &SpecError{fmt.Sprintf(format, args...)}
	}
	if s.External != nil {
		if s.External.Model == nil || s.External.Features == "" || s.External.Channels <= 0 {
			return fail("external encoder %q needs a model, a features tensor and its channels", s.External.Name)
		}
		// The heads' dilation rates follow the output stride (DeepLab's ASPP is 16-based).
		s.OutputStride = min(max(s.External.Stride, 8), 32)
		if s.OutputStride != 8 && s.OutputStride != 16 {
			s.OutputStride = 32
		}
	} else if _, ok := resnets[s.Encoder]; !ok {
		return fail("unknown encoder %q; want one of %v", s.Encoder, Encoders)
	}
	if s.OutputStride == 0 {
		s.OutputStride = 32
	}
	if s.OutputStride != 32 && s.OutputStride != 16 && s.OutputStride != 8 {
		return fail("output stride %d; want 32, 16 or 8", s.OutputStride)
	}
	if s.Width == 0 {
		s.Width = 1
	}
	if !(s.Width > 0 && s.Width <= 8) || math.IsNaN(s.Width) {
		return fail("width %v; want a multiplier in (0, 8]", s.Width)
	}
	if s.Head == "" {
		s.Head = HeadNone
	}
	if !slices.Contains(Heads, s.Head) {
		return fail("unknown head %q; want one of %v", s.Head, Heads)
	}
	pt := s.Pretext
	for name, v := range map[string]int{"classes": s.Classes, "decoder width": s.DecoderWidth, "pretext dim": pt.Dim,
		"pretext hidden": pt.Hidden, "predictor hidden": pt.PredictorHidden, "dense dim": pt.DenseDim, "dense hidden": pt.DenseHidden} {
		if v < 0 {
			return fail("%s %d is negative", name, v)
		}
	}
	_, seg := segHeads[s.Head]
	switch {
	case seg && (s.Classes > 0) == (s.DecoderWidth > 0):
		return fail("head %s needs exactly one of classes (got %d) and decoder width (got %d)", s.Head, s.Classes, s.DecoderWidth)
	case s.Head == HeadClassifier && (s.Classes == 0 || s.DecoderWidth > 0):
		return fail("head classifier needs classes > 0 and no decoder width (got %d, %d)", s.Classes, s.DecoderWidth)
	case s.Head == HeadNone && (s.Classes > 0 || s.DecoderWidth > 0):
		return fail("classes %d / decoder width %d given without a head", s.Classes, s.DecoderWidth)
	}
	switch pt.Projector {
	case "", ProjectorMoCoV2, ProjectorBYOL, ProjectorSimSiam:
	default:
		return fail("unknown projector %q; want %q, %q or %q", pt.Projector, ProjectorMoCoV2, ProjectorBYOL, ProjectorSimSiam)
	}
	if (pt.Rotation || pt.OnDecoder) && s.DecoderWidth == 0 {
		return fail("rotation and on-decoder pretext heads need a decoder (decoder width > 0)")
	}
	if pt.OnDecoder && pt.Projector == "" && !pt.Dense {
		return fail("on-decoder is set but there is no projector or dense projector")
	}
	return s, nil
}

// output is a produced tensor with its declared dims.
type output struct {
	t    Tensor
	dims []onnx.Dim
}

var (
	dimN, dimH, dimW = onnx.Dim{Param: "N"}, onnx.Dim{Param: "H"}, onnx.Dim{Param: "W"}
	unknown          = onnx.Dim{}
)

func dims(c ...int) []onnx.Dim {
	d := []onnx.Dim{dimN}
	for _, v := range c {
		d = append(d, onnx.Dim{Value: int64(v)})
	}
	return d
}

// Build makes the model that spec describes, with freshly initialised parameters. It checks
// the result by inferring every shape at a 2×3×64×97 input.
func Build(spec Spec) (*pb.ModelProto, error) {
	s, err := spec.normalized()
	if err != nil {
		return nil, err
	}
	b := NewBuilder(s.Seed)
	h, w := dimH, dimW
	if s.External != nil {
		h, w = s.External.inputSides()
	}
	in := b.Input(Input, dimN, onnx.Dim{Value: 3}, h, w)
	var enc encoderOut
	if s.External != nil {
		enc = external(b, in, s.External)
	} else {
		enc = resnet(b, in, resnets[s.Encoder], s.OutputStride, s.Width)
	}
	if enc.features.Name != Features { // an external encoder may be an earlier run's, named so
		enc.features = b.Rename(enc.features, Features)
	}
	if enc.lowLevel.Name != LowLevel {
		enc.lowLevel = b.Rename(enc.lowLevel, LowLevel)
	}
	outs := map[string]output{
		Features: {enc.features, append(dims(enc.cFeatures), unknown, unknown)},
		LowLevel: {enc.lowLevel, append(dims(enc.cLow), unknown, unknown)},
	}

	var dec Tensor
	if head, ok := segHeads[s.Head]; ok {
		h := headIn{enc: enc, outputStride: s.OutputStride, width: s.Width, out: s.Classes, outName: "conv_seg"}
		if s.DecoderWidth > 0 {
			h.out, h.outName = s.DecoderWidth, "conv_dec"
		}
		y, c := head(b, h)
		if s.DecoderWidth > 0 {
			dec = b.Rename(y, DecoderFeatures)
			outs[DecoderFeatures] = output{dec, append(dims(c), unknown, unknown)}
		} else {
			outs[Logits] = output{b.ResizeTo(Logits, y, in), append(dims(c), dimH, dimW)}
		}
	}
	if s.Head == HeadClassifier {
		y := b.Rename(classifier(b, enc.features, enc.cFeatures, s.Classes), ClassLogits)
		outs[ClassLogits] = output{y, dims(s.Classes)}
	}

	pt := s.Pretext
	src, cSrc := enc.features, enc.cFeatures
	if pt.OnDecoder {
		src, cSrc = dec, s.DecoderWidth
	}
	if proj, pred := projectorLayers(pt, cSrc, s.Width); proj != nil {
		z, dim := mlp(b, "projector", b.GlobalPool("projector.pool", src), cSrc, proj)
		z = b.Rename(z, Projection)
		outs[Projection] = output{z, dims(dim)}
		if pred != nil {
			p, pdim := mlp(b, "predictor", z, dim, pred)
			outs[Prediction] = output{b.Rename(p, Prediction), dims(pdim)}
		}
	}
	if pt.Dense {
		hidden, dim := pt.DenseHidden, pt.DenseDim
		if hidden == 0 {
			hidden = cSrc
		}
		if dim == 0 {
			dim = 128
		}
		if pt.PixPro {
			y, v, d := pixproHeads(b, src, cSrc, pt.DenseHidden, pt.DenseDim, s.Width)
			outs[DenseProjection] = output{y, append(dims(d), unknown, unknown)}
			outs[PPMValue] = output{v, append(dims(d), unknown, unknown)}
		} else {
			y := b.Rename(denseProjector(b, src, cSrc, hidden, dim), DenseProjection)
			outs[DenseProjection] = output{y, append(dims(dim), unknown, unknown)}
		}
	}
	if pt.Rotation {
		y := b.ResizeTo(RotationLogits, rotationHead(b, dec, s.DecoderWidth), in)
		outs[RotationLogits] = output{y, append(dims(4), dimH, dimW)}
	}

	names := s.Outputs
	if names == nil {
		names = []string{Features, LowLevel, Logits, DecoderFeatures, Projection, Prediction, DenseProjection, RotationLogits, ClassLogits, PPMValue}
	}
	for _, name := range names {
		o, ok := outs[name]
		if !ok && s.Outputs != nil {
			return nil, &SpecError{fmt.Sprintf("output %q is not produced by this model (it has %v)", name, sortedKeys(outs))}
		}
		if ok {
			b.Output(o.t, o.dims...)
		}
	}
	name, opset := string(s.Encoder), int64(Opset)
	if s.External != nil {
		name, opset = s.External.Name, s.External.Opset()
	}
	g, err := b.Graph(name + "-" + string(s.Head))
	if err != nil {
		return nil, err
	}
	m, err := onnx.NewModel(g, opset)
	if err != nil {
		return nil, err
	}
	desc, _ := json.Marshal(s)
	onnx.SetMetadata(m, "ssl4dp.graphs.spec", string(desc))
	if s.External != nil {
		return m, nil // graphs' shape rules cover its own ops only; the importer checks the rest
	}
	if _, err := Analyze(g, map[string][]int{Input: {2, 3, 64, 97}}); err != nil {
		return nil, fmt.Errorf("graphs: built an inconsistent %s model (a bug): %w", s.Encoder, err)
	}
	return m, nil
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
