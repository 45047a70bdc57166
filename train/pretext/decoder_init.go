package pretext

import (
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// The decoder's last conv, which graphs names like a segmentation classifier.
const (
	decoderWeight = "head.conv_dec.weight"
	decoderBias   = "head.conv_dec.bias"
)

// initDecoderOutput re-draws the decoder's last conv with nn.Conv2d's default
// initialisation, U(±1/√fan_in) for weight and bias, seeded by (seed, name).
//
// graphs initialises head.conv_dec like mmseg's classifier, N(0, 0.01²), which suits logits
// but not a feature output that another layer reads: behind a second 0.01-scale layer (PLR's
// rotation classifier) the input's influence on the loss is ~1e-4 and the encoder-decoder
// barely learns (measured: PLR stayed at log 4 for 150 steps). Pre-training treats the
// decoder output as features, as CP2 does when it swaps the classifier for plain 1×1 convs
// (default init).
func initDecoderOutput(mp *pb.ModelProto, seed int64) error {
	inits := onnx.Initializers(mp.Graph)
	w, ok := inits[decoderWeight]
	if !ok {
		return errorf("the encoder-decoder has no %s", decoderWeight)
	}
	shape := onnx.Shape(w)
	fanIn := 1
	for _, d := range shape[1:] {
		fanIn *= d
	}
	bound := 1 / math.Sqrt(float64(fanIn))
	draw := func(name string, shape []int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		h := fnv.New64a()
		h.Write([]byte("pretext:" + name))
		r := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
		v := make([]float32, n)
		for i := range v {
			v[i] = float32((2*r.Float64() - 1) * bound)
		}
		onnx.SetInitializer(mp.Graph, onnx.FromFloats(name, shape, v))
	}
	draw(decoderWeight, shape)
	if b, ok := inits[decoderBias]; ok {
		draw(decoderBias, onnx.Shape(b))
	}
	return nil
}
