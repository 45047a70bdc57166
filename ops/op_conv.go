package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ConvParams follows ONNX Conv: Pads = [top, left, bottom, right]; zero Stride/Dilation
// entries mean 1; Groups 0 means 1.
type ConvParams struct {
	Stride   [2]int
	Pads     [4]int
	Dilation [2]int
	Groups   int
}

// normalised replaces the zero defaults by 1.
func (p ConvParams) normalised() ConvParams {
	p.Stride = [2]int{oneIfZero(p.Stride[0]), oneIfZero(p.Stride[1])}
	p.Dilation = [2]int{oneIfZero(p.Dilation[0]), oneIfZero(p.Dilation[1])}
	p.Groups = oneIfZero(p.Groups)
	return p
}

// Conv2D is ONNX Conv for 2-D images: x [N,C,H,W], w [M, C/Groups, kH, kW], b [M] or nil →
// [N,M,Ho,Wo]. It is im2col + GEMM through BLAS (op_conv_gemm.go: per image, or all images
// in one product for small output planes), split across CPUs; depthwise
// convolutions (Groups == C) use a direct loop instead of thousands of tiny GEMMs.
//
// Unlike Gorgonia's Conv2d it takes a bias, groups, and asymmetric pads.
func Conv2D(x, w, b *G.Node, p ConvParams) (*G.Node, error) {
	op, err := newConvOp(x, w, b, p)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return G.ApplyOp(op, x, w)
	}
	return G.ApplyOp(op, x, w, b)
}

// convOp is the forward convolution. Shapes are static, so the op records them; Do checks the
// values it is given against them.
type convOp struct {
	p       ConvParams // normalised
	hasBias bool
	x, w    tensor.Shape
	g       geom2D
	buf     outBuf

	taps []convTap // the taps that read the plane (op_conv_taps.go), fixed by the geometry
}

func newConvOp(x, w, b *G.Node, p ConvParams) (*convOp, error) {
	if x == nil || w == nil {
		return nil, errorf("Conv2D: x and w must not be nil")
	}
	if x.Dims() != 4 {
		return nil, errorf("Conv2D: x has shape %v, want 4 dims [N,C,H,W]", x.Shape())
	}
	if w.Dims() != 4 {
		return nil, errorf("Conv2D: w has shape %v, want 4 dims [M,C/groups,kH,kW]", w.Shape())
	}
	if x.Dtype() != w.Dtype() {
		return nil, errorf("Conv2D: x is %v but w is %v", x.Dtype(), w.Dtype())
	}
	p = p.normalised()
	for i, s := range p.Stride {
		if s < 1 {
			return nil, errorf("Conv2D: stride[%d] = %d, want ≥ 1", i, s)
		}
	}
	for i, d := range p.Dilation {
		if d < 1 {
			return nil, errorf("Conv2D: dilation[%d] = %d, want ≥ 1", i, d)
		}
	}
	for i, pd := range p.Pads {
		if pd < 0 {
			return nil, errorf("Conv2D: pads[%d] = %d, want ≥ 0 (pads are [top, left, bottom, right])", i, pd)
		}
	}
	xs, ws := x.Shape().Clone(), w.Shape().Clone()
	c, m, grp := xs[1], ws[0], p.Groups
	if grp < 1 || c%grp != 0 || m%grp != 0 {
		return nil, errorf("Conv2D: groups = %d must divide input channels %d and output channels %d", grp, c, m)
	}
	if ws[1] != c/grp {
		return nil, errorf("Conv2D: w has shape %v, want [%d, %d, kH, kW] for %d input channels in %d groups", ws, m, c/grp, c, grp)
	}
	if b != nil {
		if b.Dims() != 1 || b.Shape()[0] != m {
			return nil, errorf("Conv2D: b has shape %v, want [%d]", b.Shape(), m)
		}
		if b.Dtype() != x.Dtype() {
			return nil, errorf("Conv2D: b is %v but x is %v", b.Dtype(), x.Dtype())
		}
	}
	op := &convOp{p: p, hasBias: b != nil, x: xs, w: ws}
	op.g = geom2D{
		H: xs[2], W: xs[3], KH: ws[2], KW: ws[3],
		SH: p.Stride[0], SW: p.Stride[1], DH: p.Dilation[0], DW: p.Dilation[1],
		PT: p.Pads[0], PL: p.Pads[1], PB: p.Pads[2], PR: p.Pads[3],
	}
	op.g.OH = windowCount(op.g.H, op.g.KH, op.g.SH, op.g.DH, op.g.PT, op.g.PB, false)
	op.g.OW = windowCount(op.g.W, op.g.KW, op.g.SW, op.g.DW, op.g.PL, op.g.PR, false)
	if op.g.OH < 1 || op.g.OW < 1 {
		return nil, errorf("Conv2D: %v leaves no output position", op.g)
	}
	op.taps = op.convTaps()
	return op, nil
}

// depthwise reports whether each group holds exactly one input channel (Groups == C > 1),
// where a direct loop beats per-group GEMMs of one row.
func (op *convOp) depthwise() bool { return op.p.Groups > 1 && op.x[1] == op.p.Groups }

// pointwise reports whether im2col would copy x unchanged (1×1 kernel, stride 1, no pads), so
// the GEMMs can read x directly.
func (op *convOp) pointwise() bool {
	g := op.g
	return g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.PT == 0 && g.PL == 0 && g.PB == 0 && g.PR == 0
}

func (op *convOp) outShape() tensor.Shape {
	return tensor.Shape{op.x[0], op.w[0], op.g.OH, op.g.OW}
}

func (op *convOp) Arity() int {
	if op.hasBias {
		return 3
	}
	return 2
}

func (op *convOp) Type() hm.Type {
	if op.hasBias {
		return dimsFnType(4, 4, 1, 4)
	}
	return dimsFnType(4, 4, 4)
}

func (op *convOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := inputShapes("Conv2D", in, op.Arity())
	if err != nil {
		return nil, err
	}
	if !s[0].Eq(op.x) || !s[1].Eq(op.w) {
		return nil, errorf("Conv2D: inputs have shapes %v, %v; the op was built for %v, %v", s[0], s[1], op.x, op.w)
	}
	return op.outShape(), nil
}

func (op *convOp) ReturnsPtr() bool      { return false }
func (op *convOp) CallsExtern() bool     { return false }
func (op *convOp) OverwritesInput() int  { return -1 }
func (op *convOp) Hashcode() uint32      { return hashOf(op) }
func (op *convOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", op) }

func (op *convOp) String() string {
	return fmt.Sprintf("Conv2D{stride=%v pads=%v dilation=%v groups=%d bias=%t x=%v w=%v}",
		op.p.Stride, op.p.Pads, op.p.Dilation, op.p.Groups, op.hasBias, op.x, op.w)
}

func (op *convOp) DiffWRT(inputs int) []bool {
	d := make([]bool, inputs)
	for i := range d {
		d[i] = true
	}
	return d
}

// SymDiff applies one diff op per input: dX = col2im(Wᵀ·dY), dW = dY·colᵀ, dB = Σ dY.
func (op *convOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != op.Arity() {
		return nil, errorf("Conv2D: SymDiff got %d inputs, want %d", len(inputs), op.Arity())
	}
	x, w := inputs[0], inputs[1]
	dx, err := G.ApplyOp(&convDiffXOp{convOp: op}, w, grad)
	if err != nil {
		return nil, err
	}
	dw, err := G.ApplyOp(&convDiffWOp{convOp: op}, x, grad)
	if err != nil {
		return nil, err
	}
	if !op.hasBias {
		return G.Nodes{dx, dw}, nil
	}
	db, err := newChanSum(grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw, db}, nil
}

func (op *convOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *convOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	defer timeOp(op.kind(), forward, op.flops())()
	a, err := denseInputs("Conv2D", op.Arity(), in)
	if err != nil {
		return nil, err
	}
	if !a[0].Shape().Eq(op.x) || !a[1].Shape().Eq(op.w) {
		return nil, errorf("Conv2D: got x %v and w %v at run time, want %v and %v", a[0].Shape(), a[1].Shape(), op.x, op.w)
	}
	if e, err := devOf("Conv2D", a...); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		y := op.buf.onDevice(e, prealloc, op.outShape())
		return y, op.forwardDevice(e, a, y)
	}
	y := op.buf.get(prealloc, a[0].Dtype(), op.outShape())
	if a[0].Dtype() == tensor.Float32 {
		convForward(op, elems[float32](a[0]), elems[float32](a[1]), biasData[float32](a), elems[float32](y))
	} else {
		convForward(op, elems[float64](a[0]), elems[float64](a[1]), biasData[float64](a), elems[float64](y))
	}
	return y, nil
}

// biasData returns input 2's elements, or nil without a bias.
func biasData[T Float](a []*tensor.Dense) []T {
	if len(a) < 3 {
		return nil
	}
	return elems[T](a[2])
}

// kind names the convolution for profiles: its kernel size, and whether it is depthwise.
func (op *convOp) kind() string {
	k := fmt.Sprintf("Conv2D %d×%d", op.g.KH, op.g.KW)
	if op.depthwise() {
		k += " depthwise"
	}
	return k
}

// flops is 2 × the multiply-adds of the forward pass (each gradient pass does as many).
func (op *convOp) flops() float64 {
	return 2 * float64(op.x[0]*op.w[0]*op.g.OH*op.g.OW) * float64(op.w[1]*op.g.KH*op.g.KW)
}
