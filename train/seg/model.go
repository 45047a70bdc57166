package seg

import (
	"slices"
	"sort"
	"strings"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// Config is one fine-tuning task's settings; config.json records them under "task" and a
// resumed run must have the same.
type Config struct {
	// A new model from graphs/ (ignored when Model is set).
	Encoder      graphs.Encoder `json:"encoder,omitempty"`
	Width        float64        `json:"width,omitempty"`         // 0: 1
	OutputStride int            `json:"output_stride,omitempty"` // 0: 16
	Head         graphs.Head    `json:"head,omitempty"`

	// Model is an ONNX segmentation model to fine-tune instead ([N,3,H,W] → logits
	// [N,K,H,W] with K the dataset's classes), e.g. an earlier run's model.onnx.
	Model string `json:"model,omitempty"`
	// Init is an ONNX file whose initializers, matched by name and shape, replace the
	// model's initial values (LoadInit): an encoder from graphs/, a pretext run or PyTorch.
	Init string `json:"init,omitempty"`
	// Features is the dense map of an --init network that is not a ResNet (ConvNeXt,
	// EfficientNet, ViT…): that network, cut there, is the encoder (ExternalEncoder), with
	// Head on top. Resolved to a tensor name before the run starts, so a resume rebuilds it.
	Features string `json:"features,omitempty"`

	Crop int   `json:"crop"` // training crop side
	Seed int64 `json:"seed"` // parameter initialisation of a new model
	// Labels is the part of the labelled train split fine-tuned on (data.ParseLabels: "1/8",
	// "100"; "" all), a subset fixed by the run's seed (data.LabelSubset).
	Labels string `json:"labels,omitempty"`

	ValBatch int `json:"val_batch,omitempty"` // images per validation forward pass (0: 1)
	ValSize  int `json:"val_size,omitempty"`  // resize val images to this square side (0: whole images)
	ValLimit int `json:"val_limit,omitempty"` // validate on the first N val images only (0: all)
}

// encoderRoots are the first name components of torchvision's ResNet parameters; everything
// else in a segmentation model is its head.
var encoderRoots = []string{"conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "backbone"}

// startModel is the model a run starts from, its input and output names and its head
// prefixes: a fresh graphs/ model, or the --model file.
type startModel struct {
	proto  *pb.ModelProto
	input  string
	output string
	heads  []string
}

func newStartModel(cfg Config, classes int) (*startModel, error) {
	if cfg.Model == "" {
		spec := graphs.Spec{Encoder: cfg.Encoder, OutputStride: cfg.OutputStride, Width: cfg.Width, Head: cfg.Head,
			Classes: classes, Seed: cfg.Seed, Outputs: []string{graphs.Logits}}
		if spec.OutputStride == 0 {
			spec.OutputStride = 16
		}
		if spec.Head == graphs.HeadNone || spec.Head == graphs.HeadClassifier || spec.Head == "" {
			return nil, inputErrorf("head %q; want fcn, psp, deeplabv3plus or nonlocal", spec.Head)
		}
		if cfg.Features != "" {
			ip, err := onnx.ReadFile(cfg.Init)
			if err != nil {
				return nil, err
			}
			if spec.External, err = ExternalEncoder(ip, cfg.Features, cfg.Init); err != nil {
				return nil, inputErrorf("%v", err)
			}
		}
		mp, err := graphs.Build(spec)
		if err != nil {
			return nil, err
		}
		return &startModel{proto: mp, input: graphs.Input, output: graphs.Logits, heads: []string{"head."}}, nil
	}
	mp, err := onnx.ReadFile(cfg.Model)
	if err != nil {
		return nil, err
	}
	ins := onnx.GraphInputs(mp.Graph)
	if len(ins) != 1 {
		return nil, inputErrorf("--model %s has %d inputs, want one image input [N,3,H,W]", cfg.Model, len(ins))
	}
	var outs []string
	for _, o := range mp.Graph.Output {
		outs = append(outs, o.GetName())
	}
	out := ""
	switch {
	case slices.Contains(outs, graphs.Logits):
		out = graphs.Logits
	case len(outs) == 1:
		out = outs[0]
	default:
		return nil, inputErrorf("--model %s has outputs %v; want one, or one named %q", cfg.Model, outs, graphs.Logits)
	}
	return &startModel{proto: mp, input: ins[0].GetName(), output: out, heads: headPrefixes(mp)}, nil
}

// headPrefixes are the first name components of the trainable parameters that are not part
// of a torchvision ResNet encoder (e.g. "head.", or torchvision's "classifier."), each with
// its dot.
func headPrefixes(mp *pb.ModelProto) []string {
	roles := onnx.Roles(mp.Graph)
	seen := map[string]bool{}
	for _, t := range mp.Graph.Initializer {
		if roles[t.GetName()] != onnx.Param {
			continue
		}
		root, _, ok := strings.Cut(t.GetName(), ".")
		if ok && !slices.Contains(encoderRoots, root) {
			seen[root+"."] = true
		}
	}
	var ps []string
	for p := range seen {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}
