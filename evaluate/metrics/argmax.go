package metrics

import "fmt"

// ArgmaxLogits turns one image's class scores, laid out [K, H, W] (NCHW without the batch
// axis), into a [H, W] map of predicted classes. Logits must already have the label's size
// (ops resizes them on the graph). Ties go to the lowest class index, as torch.argmax and
// numpy.argmax do. A NaN score is an error: it means the model is broken, and counting its
// pixels as some class would hide that.
func ArgmaxLogits(logits []float32, k, h, w int) ([]int32, error) {
	if k < 1 || h < 1 || w < 1 {
		return nil, fmt.Errorf("metrics: logits shape [%d, %d, %d], want positive sizes", k, h, w)
	}
	n := h * w
	if len(logits) != k*n {
		return nil, fmt.Errorf("metrics: %d logits for shape [%d, %d, %d], want %d", len(logits), k, h, w, k*n)
	}
	pred := make([]int32, n)
	best := make([]float32, n)
	// Class-major: each pass reads one contiguous [H, W] plane.
	for c := 0; c < k; c++ {
		for i, v := range logits[c*n : (c+1)*n] {
			if v != v {
				return nil, fmt.Errorf("metrics: logit of class %d at pixel (%d, %d) is NaN", c, i/w, i%w)
			}
			if c == 0 || v > best[i] {
				best[i], pred[i] = v, int32(c)
			}
		}
	}
	return pred, nil
}
