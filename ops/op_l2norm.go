package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// L2Normalize divides x by its Euclidean norm along axis, clamped below by eps:
// y = x / max(‖x‖₂, eps), as torch.nn.functional.normalize(x, p=2, dim=axis, eps=eps) — the
// projection every contrastive head (MoCo, SimCLR, BYOL) applies before its dot products.
// Negative axes count from the end; eps must be positive (PyTorch's default is 1e-12).
func L2Normalize(x *G.Node, axis int, eps float64) (*G.Node, error) {
	if x == nil {
		return nil, errorf("L2Normalize: nil input")
	}
	in := x.Shape().Clone()
	if len(in) == 0 {
		return nil, errorf("L2Normalize: input %q is a scalar, want rank >= 1", x.Name())
	}
	ax, err := onnxAxis("L2Normalize", axis, len(in))
	if err != nil {
		return nil, err
	}
	if !(eps > 0) || math.IsInf(eps, 1) {
		return nil, errorf("L2Normalize: eps %v, want a positive finite value", eps)
	}
	y, err := G.ApplyOp(l2normOp{axis: ax, eps: eps, in: in, buf: new(outBuf)}, x)
	if err != nil {
		return nil, errorf("L2Normalize: %w", err)
	}
	return y, nil
}

type l2normOp struct {
	axis int
	eps  float64
	in   tensor.Shape
	buf  *outBuf
}

func (op l2normOp) Arity() int    { return 1 }
func (op l2normOp) Type() hm.Type { return rankFnType(len(op.in), len(op.in)) }
func (op l2normOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.in.Clone(), nil
}
func (op l2normOp) ReturnsPtr() bool     { return false }
func (op l2normOp) CallsExtern() bool    { return false }
func (op l2normOp) OverwritesInput() int { return -1 }
func (op l2normOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.L2Normalize{axis=%d,eps=%x}%v", op.axis, math.Float64bits(op.eps), op.in)
}
func (op l2normOp) Hashcode() uint32 { return hashOf(op) }
func (op l2normOp) String() string {
	return fmt.Sprintf("L2Normalize{axis=%d,eps=%g}", op.axis, op.eps)
}

func (op l2normOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp("L2Normalize", forward, 0)()
	if len(vs) != 1 {
		return nil, errorf("L2Normalize: got %d inputs, want 1", len(vs))
	}
	if err := checkRunShape("L2Normalize", vs[0], op.in); err != nil {
		return nil, err
	}
	if e, t, err := valuesOn("L2Normalize", vs[0]); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		return op.forwardDevice(e, t[0])
	}
	f32, err := isFloat32("L2Normalize", vs[0])
	if err != nil {
		return nil, err
	}
	if f32 {
		return l2normDo[float32](op, vs[0])
	}
	return l2normDo[float64](op, vs[0])
}

// fibreNorm is ‖x‖₂ of the n values x[0], x[inner], …, accumulated in float64.
func fibreNorm[T Float](x []T, n, inner int) float64 {
	var s float64
	for k := 0; k < n; k++ {
		v := float64(x[k*inner])
		s += v * v
	}
	return math.Sqrt(s)
}

func l2normDo[T Float](op l2normOp, v G.Value) (G.Value, error) {
	x, err := valueData[T](v)
	if err != nil {
		return nil, errorf("L2Normalize: %w", err)
	}
	yt, y := keptOutput[T](op.buf, op.in)
	outer, n, inner := splitAt(op.in, op.axis)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*n*inner + i
			d := math.Max(fibreNorm(x[base:], n, inner), op.eps)
			for k := 0; k < n; k++ {
				y[base+k*inner] = T(float64(x[base+k*inner]) / d)
			}
		}
	}
	return yt, nil
}

func (op l2normOp) DiffWRT(int) []bool { return []bool{true} }

func (op l2normOp) SymDiff(in G.Nodes, out, g *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(l2normDiffOp{f: op, buf: new(outBuf)}, in[0], out, g)
	if err != nil {
		return nil, errorf("L2Normalize gradient: %w", err)
	}
	return G.Nodes{dx}, nil
}

// l2normDiffOp computes dL/dx from (x, y, g) per fibre with norm r: (g − y·Σ g⊙y) / r where
// r > eps, and g / eps where the clamp is active (the denominator is then a constant).
type l2normDiffOp struct {
	f   l2normOp
	buf *outBuf // its own, not the forward op's f.buf
}

func (op l2normDiffOp) Arity() int { return 3 }
func (op l2normDiffOp) Type() hm.Type {
	d := len(op.f.in)
	return rankFnType(d, d, d, d)
}
func (op l2normDiffOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.f.in.Clone(), nil
}
func (op l2normDiffOp) ReturnsPtr() bool     { return false }
func (op l2normDiffOp) CallsExtern() bool    { return false }
func (op l2normDiffOp) OverwritesInput() int { return -1 }
func (op l2normDiffOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.L2NormalizeDiff{axis=%d,eps=%x}%v", op.f.axis, math.Float64bits(op.f.eps), op.f.in)
}
func (op l2normDiffOp) Hashcode() uint32 { return hashOf(op) }
func (op l2normDiffOp) String() string {
	return fmt.Sprintf("L2NormalizeDiff{axis=%d,eps=%g}", op.f.axis, op.f.eps)
}

func (op l2normDiffOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp("L2Normalize", backward, 0)()
	if len(vs) != 3 {
		return nil, errorf("L2NormalizeDiff: got %d inputs, want 3", len(vs))
	}
	for _, v := range vs {
		if err := checkRunShape("L2NormalizeDiff", v, op.f.in); err != nil {
			return nil, err
		}
	}
	if e, t, err := valuesOn("L2NormalizeDiff", vs[0], vs[1], vs[2]); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		return op.f.backwardDevice(e, op.buf, t[0], t[1], t[2])
	}
	f32, err := isFloat32("L2NormalizeDiff", vs[0])
	if err != nil {
		return nil, err
	}
	if f32 {
		return l2normDiffDo[float32](op.f, op.buf, vs)
	}
	return l2normDiffDo[float64](op.f, op.buf, vs)
}

func l2normDiffDo[T Float](op l2normOp, buf *outBuf, vs []G.Value) (G.Value, error) {
	var data [3][]T
	for i := range data {
		d, err := valueData[T](vs[i])
		if err != nil {
			return nil, errorf("L2NormalizeDiff: %w", err)
		}
		data[i] = d
	}
	x, y, g := data[0], data[1], data[2]
	dxt, dx := keptOutput[T](buf, op.in)
	outer, n, inner := splitAt(op.in, op.axis)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*n*inner + i
			r := fibreNorm(x[base:], n, inner)
			if r <= op.eps {
				for k := 0; k < n; k++ {
					dx[base+k*inner] = T(float64(g[base+k*inner]) / op.eps)
				}
				continue
			}
			var s float64
			for k := 0; k < n; k++ {
				s += float64(g[base+k*inner]) * float64(y[base+k*inner])
			}
			for k := 0; k < n; k++ {
				p := base + k*inner
				dx[p] = T((float64(g[p]) - float64(y[p])*s) / r)
			}
		}
	}
	return dxt, nil
}
