package pretext

import (
	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/ops"
)

// RotationLoss is patch-level rotation's per-pixel cross-entropy: logits [N, 4, H, W] score
// the four turns (0°, 90°, 180°, 270°) at every pixel, turns [N, H, W] hold the true class
// 0–3 of each pixel's patch (data.PLR's labels), 255 marks pixels without one. The loss is
// the mean over labelled pixels.
func RotationLoss(logits, turns *G.Node) (*G.Node, error) {
	if logits == nil || logits.Dims() != 4 || logits.Shape()[1] != 4 {
		return nil, errorf("RotationLoss: logits have shape %v, want [N, 4, H, W]", shapeOf(logits))
	}
	return ops.SoftmaxCrossEntropy(logits, turns, 255)
}
