package pretext

import (
	"fmt"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// Net is the network a method pre-trains: a ResNet encoder and, for the encoder-decoder
// methods (PLR, EDMoCo, PLEDMoCo), a segmentation head whose last conv outputs DecoderWidth
// feature channels instead of classes (graphs' decoder_features).
type Net struct {
	Encoder      graphs.Encoder
	Width        float64 // multiplies every encoder and head width; 0 means 1
	OutputStride int     // 32, 16 or 8; 0 means 16 (the seed's dense maps are 1/16 or 1/8)
	Head         graphs.Head
	DecoderWidth int
	// External replaces Encoder's ResNet with an imported network cut at its dense map
	// (train pretext --init X.onnx for a ConvNeXt, EfficientNet, ViT…; seg.ExternalEncoder).
	External *graphs.External
}

// DefaultHead and DefaultDecoderWidth complete a Net for the encoder-decoder methods: MoCo's
// FCN head (the segmentation head the encoder is later fine-tuned with) ending in 128
// channels, the size of MoCo's projection and of CP2's dense output.
const (
	DefaultHead         = graphs.HeadFCN
	DefaultDecoderWidth = 128
)

func (n Net) withDefaults(decoder bool) Net {
	if n.OutputStride == 0 {
		n.OutputStride = 16
	}
	if n.Width == 0 {
		n.Width = 1
	}
	if decoder {
		if n.Head == "" || n.Head == graphs.HeadNone {
			n.Head = DefaultHead
		}
		if n.DecoderWidth == 0 {
			n.DecoderWidth = DefaultDecoderWidth
		}
	} else {
		n.Head, n.DecoderWidth = graphs.HeadNone, 0
	}
	return n
}

func (n Net) String() string {
	s := fmt.Sprintf("%s width %g, output stride %d", n.Encoder, n.Width, n.OutputStride)
	if n.External != nil {
		s = "imported encoder " + n.External.String()
	}
	if n.DecoderWidth > 0 {
		s += fmt.Sprintf(", decoder %s → %d channels", n.Head, n.DecoderWidth)
	}
	return s
}

// spec is the graphs.Spec of the method's network with the given pretext heads.
func (n Net) spec(pt graphs.Pretext, seed int64, outputs ...string) graphs.Spec {
	enc := n.Encoder
	if n.External != nil {
		enc = "" // the imported network is the encoder; --encoder's default must not show
	}
	return graphs.Spec{Encoder: enc, OutputStride: n.OutputStride, Width: n.Width, Head: n.Head,
		DecoderWidth: n.DecoderWidth, Pretext: pt, Seed: seed, Outputs: outputs, External: n.External}
}

// Options are what every method needs besides its hyper-parameters.
type Options struct {
	Net  Net
	Size int   // side of the square views, in pixels
	Seed int64 // parameter initialisation and every per-step random choice (key shuffles, cells enqueued)
	// Steps is the run's total number of optimizer steps, for schedules inside a method
	// (BYOL's target momentum). 0 keeps such values at their base.
	Steps int
	// Init gives initial values by initializer name (an encoder.onnx of an earlier run, a
	// torchvision export): see InitReport. nil starts from graphs' random initialisation.
	// InitFrom names its file in messages.
	Init     *pb.ModelProto
	InitFrom string
	// Views replaces the method's augmentation (each view's Size must equal Size): two
	// configs for the two-view methods, one for PLR's base view (before its patch turns).
	// nil keeps the paper's (docs/methods.md).
	Views []data.ViewConfig
}

// twoViews is the two-view data task: the method's default unless Views replaces it.
func (o Options) twoViews(def data.TwoViews) (data.TwoViews, error) {
	switch len(o.Views) {
	case 0:
		return def, nil
	case 2:
		return data.TwoViews{A: o.Views[0], B: o.Views[1]}, o.checkViews()
	}
	return def, usagef("%d view configs given, want 2 for a two-view method", len(o.Views))
}

func (o Options) checkViews() error {
	for i, v := range o.Views {
		if v.Size != o.Size {
			return usagef("view config %d has size %d, want the view size %d", i, v.Size, o.Size)
		}
	}
	return nil
}

func (o Options) check() error {
	if o.Size < 16 {
		return usagef("view size %d, want at least 16 pixels", o.Size)
	}
	if o.Steps < 0 {
		return usagef("steps %d, want ≥ 0", o.Steps)
	}
	return nil
}
