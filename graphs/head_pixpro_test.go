package graphs

import (
	"math"
	"slices"
	"testing"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// PixPro's heads: names and shapes (hidden 4096 × width by default, dim 256), and both maps
// against a plain Go evaluation: 1×1 conv → BatchNorm (eval, its initial statistics: ÷√(1+ε))
// → ReLU → 1×1 conv, then the value transform's 1×1 conv on that.
func TestPixProHeads(t *testing.T) {
	initORT(t)
	spec := Spec{Encoder: ResNet18, OutputStride: 16, Width: 0.125, Seed: 3, Pretext: Pretext{Dense: true, PixPro: true}}
	m := mustBuild(t, spec)
	inits := onnx.Initializers(m.Graph)
	for name, shape := range map[string][]int64{"dense_projector.0.weight": {512, 64, 1, 1}, "dense_projector.1.weight": {512},
		"dense_projector.3.weight": {256, 512, 1, 1}, "ppm.value.weight": {256, 256, 1, 1}, "ppm.value.bias": {256}} {
		if !slices.Equal(inits[name].GetDims(), shape) {
			t.Errorf("initializer %s: shape %v, want %v", name, inits[name].GetDims(), shape)
		}
	}
	const n, h, w = 2, 40, 33
	out := runORT(t, m, map[string]ort.Tensor{Input: randomInput(n, h, w, 3)})
	hidden := refConv1x1(t, m.Graph, out[Features], "dense_projector.0", false)
	hd := hidden.Data.([]float32)
	for i, v := range hd {
		hd[i] = float32(max(float64(v)/math.Sqrt(1+1e-5), 0))
	}
	proj := refConv1x1(t, m.Graph, hidden, "dense_projector.3", false)
	if e := relErr(out[DenseProjection].Data.([]float32), proj.Data.([]float32)); e > 1e-5 || !slices.Equal(out[DenseProjection].Shape, proj.Shape) {
		t.Errorf("dense_projection %v vs Go reference %v: relative error %.2g", out[DenseProjection].Shape, proj.Shape, e)
	}
	value := refConv1x1(t, m.Graph, out[DenseProjection], "ppm.value", false)
	if e := relErr(out[PPMValue].Data.([]float32), value.Data.([]float32)); e > 1e-5 || !slices.Equal(out[PPMValue].Shape, value.Shape) {
		t.Errorf("ppm_value %v vs Go reference %v: relative error %.2g", out[PPMValue].Shape, value.Shape, e)
	}
}
