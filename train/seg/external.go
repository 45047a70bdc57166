package seg

import (
	"fmt"
	"strings"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/train"
)

// ResNetLayout says whether init's initializers follow graphs' (torchvision's) ResNet names
// — conv1.weight and layer1.0.conv1.weight, possibly under a common prefix — so that --init
// copies them into graphs' ResNet by name. Any other network (ConvNeXt, EfficientNet,
// MobileNet, RegNet, ViT…) becomes the encoder itself (ExternalEncoder).
func ResNetLayout(init *pb.ModelProto) bool {
	names := map[string]bool{}
	for _, t := range init.GetGraph().GetInitializer() {
		names[t.GetName()] = true
	}
	for n := range names {
		if p, ok := strings.CutSuffix(n, "layer1.0.conv1.weight"); ok && names[p+"conv1.weight"] {
			return true
		}
	}
	return false
}

// ExternalEncoder makes init's own graph the encoder: its dense map is the tensor named
// features (--features), or by default an output named "features" (an earlier run's
// encoder.onnx), else importer.DenseMaps' default (the last map before global pooling, a
// ViT's patch tokens). The low-level map for heads that want one (DeepLabv3+) is the
// stride-4 stage output before it (else the finest stage output of stride ≥ 4 before it;
// else the features).
// from names the file in messages; errors are bad input, without a package prefix: callers
// wrap them in their usage error (exit 2).
func ExternalEncoder(init *pb.ModelProto, features, from string) (*graphs.External, error) {
	maps, err := importer.DenseMaps(init)
	if err != nil {
		return nil, fmt.Errorf("--init %s: %v", from, err)
	}
	low, outFeatures := "", false
	for _, o := range init.GetGraph().GetOutput() {
		switch o.GetName() {
		case graphs.Features:
			outFeatures = true
		case graphs.LowLevel:
			low = o.GetName() // an earlier run's encoder.onnx: keep its pair
		}
	}
	if features == "" && outFeatures {
		features = graphs.Features
	}
	d, err := importer.PickDenseMap(maps, features)
	if err != nil {
		return nil, fmt.Errorf("--init %s: %v", from, err)
	}
	e := &graphs.External{Model: init, Name: from, Features: d.Name, Channels: d.Channels, Stride: d.Stride,
		Tokens: d.Tokens, Drop: d.Drop, GridH: d.GridH, GridW: d.GridW}
	var best *importer.DenseMap
	for i := range maps {
		m := &maps[i]
		if m.Name == d.Name {
			break
		}
		if low != "" && m.Name == low {
			best = m
			break
		}
		if low == "" && m.Stage && !m.Tokens && m.Stride >= 4 && (best == nil || m.Stride <= best.Stride) {
			best = m
		}
	}
	if best != nil {
		e.LowLevel, e.CLow = best.Name, best.Channels
	}
	return e, nil
}

// FixedSize is the input side an external encoder requires (a ViT's position embedding
// fixes it), or 0 when any size works.
func FixedSize(e *graphs.External) (int, int) {
	for _, v := range e.Model.GetGraph().GetInput() {
		d := v.GetType().GetTensorType().GetShape().GetDim()
		if len(d) == 4 && d[2].GetDimValue() > 0 && d[3].GetDimValue() > 0 {
			return int(d[2].GetDimValue()), int(d[3].GetDimValue())
		}
	}
	return 0, 0
}

// CheckSize refuses a training size an external encoder cannot take.
func CheckSize(e *graphs.External, flag string, size int) error {
	h, w := FixedSize(e)
	if h > 0 && (h != size || w != size) {
		return fmt.Errorf("%s %d: the --init model %s takes %d×%d images only (its input is fixed, e.g. a ViT's position embedding); use %s %d",
			flag, size, e.Name, h, w, flag, h)
	}
	return nil
}

// resolveFeatures decides what --init is: a ResNet with torchvision's names fills graphs'
// ResNet (cfg.Features stays empty), anything else (or any --features) is the encoder, and
// cfg.Features becomes its dense map's tensor name, checked against --crop and --val-size.
func (f *Flags) resolveFeatures(cfg *Config) error {
	if cfg.Init == "" || cfg.Model != "" {
		if f.Features != "" {
			return &train.UsageError{Msg: "seg: --features needs --init (a classification network's ONNX export) and no --model"}
		}
		return nil
	}
	if f.Resume && f.Features == "" {
		return nil // a ResNet run (the settings record no dense map): its --init file may be gone
	}
	ip, err := onnx.ReadFile(cfg.Init)
	if err != nil {
		return err
	}
	if f.Features == "" && ResNetLayout(ip) {
		return nil
	}
	ext, err := ExternalEncoder(ip, f.Features, cfg.Init)
	if err != nil {
		return &train.UsageError{Msg: "seg: " + err.Error()}
	}
	if err := CheckSize(ext, "--crop", cfg.Crop); err != nil {
		return &train.UsageError{Msg: "seg: " + err.Error()}
	}
	if h, _ := FixedSize(ext); h > 0 && cfg.ValSize != h {
		return &train.UsageError{Msg: fmt.Sprintf("seg: --val-size %d: the --init model %s takes %d×%d images only; use --val-size %d", cfg.ValSize, cfg.Init, h, h, h)}
	}
	cfg.Features, f.external = ext.Features, true
	return nil
}
