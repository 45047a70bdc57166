package importer

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/ops"
)

// lowerGemm: Y = alpha·A'·B' + beta·C with A' = transA ? Aᵀ : A (likewise B), C optional
// (opset 11) and broadcast to [M,N]. A fully connected layer exported by PyTorch is
// Gemm(x, W, b, transB=1).
func lowerGemm(c *nodeCtx, in []value) ([]value, error) {
	a, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	b, err := c.nodeOf(in, 1)
	if err != nil {
		return nil, err
	}
	if a.Dims() != 2 || b.Dims() != 2 {
		return nil, c.errf("A %v and B %v must be matrices", a.Shape(), b.Shape())
	}
	if onnx.AttrInt(c.n, "transA", 0) == 1 {
		if a, err = ops.Transpose(a, []int{1, 0}); err != nil {
			return nil, c.wrap(err)
		}
	}
	if onnx.AttrInt(c.n, "transB", 0) == 1 {
		if b, err = ops.Transpose(b, []int{1, 0}); err != nil {
			return nil, c.wrap(err)
		}
	}
	if a.Shape()[1] != b.Shape()[0] {
		return nil, c.errf("A' %v and B' %v: inner dimensions differ", a.Shape(), b.Shape())
	}
	y, err := G.Mul(a, b)
	if err != nil {
		return nil, c.wrap(err)
	}
	if alpha := onnx.AttrFloat(c.n, "alpha", 1); alpha != 1 {
		if y, err = c.scale(y, alpha, "alpha"); err != nil {
			return nil, err
		}
	}
	if len(in) < 3 || !in[2].present() {
		return []value{nodeValue(y)}, nil
	}
	cn, err := c.nodeOf(in, 2)
	if err != nil {
		return nil, err
	}
	if beta := onnx.AttrFloat(c.n, "beta", 1); beta != 1 {
		if cn, err = c.scale(cn, beta, "beta"); err != nil {
			return nil, err
		}
	}
	y, err = ops.Add(y, cn)
	return one(y, c.wrap(err))
}

// scale multiplies x by a constant factor.
func (c *nodeCtx) scale(x *G.Node, f float32, what string) (*G.Node, error) {
	k := &konst{dt: pb.TensorProto_FLOAT, f: []float64{float64(f)}}
	fn, err := c.m.konstNode(k, fmt.Sprintf("%s/%s", nodeName(c.n), what))
	if err != nil {
		return nil, c.wrap(err)
	}
	y, err := ops.Mul(x, fn)
	return y, c.wrap(err)
}
