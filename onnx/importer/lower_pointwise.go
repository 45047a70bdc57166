package importer

import (
	"fmt"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/ops"
)

// lowerPointwise: Erf, Gelu, Sqrt, HardSigmoid and HardSwish on run-time tensors, each one
// ops.Pointwise node (the activations of ConvNeXt/ViT, MobileNetV3, and LayerNorm's
// opset-13 decomposition).
func lowerPointwise(c *nodeCtx, in []value) ([]value, error) {
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	var k ops.PointwiseKind
	var alpha, beta float64
	switch c.n.GetOpType() {
	case "Erf":
		k = ops.Erf
	case "Gelu":
		if a := onnx.AttrString(c.n, "approximate", "none"); a != "none" {
			return nil, c.unsupported(fmt.Sprintf("approximate=%q", a), `export with approximate="none" (torch.nn.GELU's default)`)
		}
		k = ops.Gelu
	case "Sqrt":
		k = ops.Sqrt
	case "HardSigmoid":
		k, alpha, beta = ops.HardSigmoid, float64(onnx.AttrFloat(c.n, "alpha", 0.2)), float64(onnx.AttrFloat(c.n, "beta", 0.5))
	case "HardSwish":
		k = ops.HardSwish
	default:
		return nil, c.errf("lowerPointwise has no case for %s", c.n.GetOpType())
	}
	y, err := ops.Pointwise(x, k, alpha, beta)
	return one(y, c.wrap(err))
}

// lowerPow: Pow of a run-time base by an import-time scalar exponent (LayerNorm's
// decomposition squares with Pow(x, 2)); a run-time or non-scalar exponent is refused.
func lowerPow(c *nodeCtx, in []value) ([]value, error) {
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	if len(in) < 2 || !in[1].present() || in[1].k == nil || in[1].k.size() != 1 {
		return nil, c.unsupported("an exponent computed at run time, or not one number",
			"make the exponent a scalar initializer or Constant (x**2 in PyTorch exports as one)")
	}
	y, err := ops.Pointwise(x, ops.PowConst, in[1].k.at(0), 0)
	return one(y, c.wrap(err))
}
