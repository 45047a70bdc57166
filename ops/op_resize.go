package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Resize2D resizes the last two axes of x ([N, C, H, W], or any rank ≥ 2) to outH × outW as
// ONNX Resize does when the model gives sizes: the scale of each axis is out/in. mode, coord
// and nearest are ONNX's mode, coordinate_transformation_mode and nearest_mode (nearest is
// ignored in Linear mode). Results match onnxruntime, and PyTorch's F.interpolate for
// bilinear (HalfPixel = align_corners=False, AlignCorners = True) and nearest
// (Asymmetric + Floor). Nearest mode computes source coordinates in float32 as onnxruntime
// does, so it picks the same element even where rounding moves a coordinate off a whole or
// half number; only at exact ties does onnxruntime sometimes decide otherwise (see
// TestResizeNearestMatchesORT). Linear mode computes them exactly.
//
// Each plane is resized as Y = Rh · X · Rwᵀ with the two small interpolation matrices, through
// BLAS; the gradient is Rhᵀ · dY · Rw. That is exact for every mode, and fast because the
// matrices are tiny next to the data.
func Resize2D(x *G.Node, outH, outW int, mode ResizeMode, coord CoordMode, nearest NearestMode) (*G.Node, error) {
	if x == nil {
		return nil, errorf("Resize2D: nil input")
	}
	if outH < 1 || outW < 1 {
		return nil, errorf("Resize2D: output size %dx%d for input %q, want both >= 1", outH, outW, x.Name())
	}
	return applyResize("Resize2D", x, outH, outW, 0, 0, mode, coord, nearest)
}

// ResizeScales is Resize2D for models that give scales instead of sizes: the output length is
// floor(in·scale) and the coordinate transform divides by the given scale, not by out/in
// (they differ when in·scale is fractional). Scales are float32 in ONNX, and like onnxruntime
// this op rounds them to float32 and forms in·scale in float32 (10 × 0.7f gives 7, where
// float64 arithmetic would give 6).
func ResizeScales(x *G.Node, scaleH, scaleW float64, mode ResizeMode, coord CoordMode, nearest NearestMode) (*G.Node, error) {
	if x == nil {
		return nil, errorf("ResizeScales: nil input")
	}
	for _, s := range []float64{scaleH, scaleW} {
		if !(s > 0) || math.IsInf(float64(float32(s)), 1) {
			return nil, errorf("ResizeScales: scales %v, %v for input %q, want positive finite values", scaleH, scaleW, x.Name())
		}
	}
	s := x.Shape()
	if len(s) < 2 {
		return nil, errorf("ResizeScales: input %q has shape %v, want rank >= 2", x.Name(), s)
	}
	h, w := s[len(s)-2], s[len(s)-1]
	outH, outW := int(float32(h)*float32(scaleH)), int(float32(w)*float32(scaleW))
	if outH < 1 || outW < 1 {
		return nil, errorf("ResizeScales: scales %v, %v turn %dx%d into %dx%d, want at least 1x1", scaleH, scaleW, h, w, outH, outW)
	}
	return applyResize("ResizeScales", x, outH, outW, scaleH, scaleW, mode, coord, nearest)
}

func applyResize(name string, x *G.Node, outH, outW int, scaleH, scaleW float64, mode ResizeMode, coord CoordMode, nearest NearestMode) (*G.Node, error) {
	in := x.Shape().Clone()
	if len(in) < 2 {
		return nil, errorf("%s: input %q has shape %v, want rank >= 2", name, x.Name(), in)
	}
	if mode != Nearest && mode != Linear {
		return nil, errorf("%s: unknown mode %d, want Nearest or Linear", name, int(mode))
	}
	if coord < HalfPixel || coord > Asymmetric {
		return nil, errorf("%s: unknown coordinate mode %d, want HalfPixel, PytorchHalfPixel, AlignCorners or Asymmetric", name, int(coord))
	}
	if nearest < RoundPreferFloor || nearest > Ceil {
		return nil, errorf("%s: unknown nearest mode %d, want RoundPreferFloor, RoundPreferCeil, Floor or Ceil", name, int(nearest))
	}
	if mode == Linear {
		nearest = RoundPreferFloor // unused; keeps equal resizes from hashing differently
	}
	r := len(in)
	op := resizeOp{
		mode: mode, coord: coord, nearest: nearest, in: in, buf: new(outBuf),
		h: resizeAxis{in: in[r-2], out: outH, scale: float32(scaleH)},
		w: resizeAxis{in: in[r-1], out: outW, scale: float32(scaleW)},
	}
	if outH == op.h.in && outW == op.w.in {
		// onnxruntime copies the input when the output shape equals it, whatever the scales
		// say (ResizeScales by 1.3 of a length-3 axis gives 3 and the identity, not a
		// stretched pick); forgetting the explicit scale gives the identity here too.
		op.h.scale, op.w.scale = 0, 0
	}
	op.rh = op.h.matrix(mode, coord, nearest)
	op.rw = op.w.matrix(mode, coord, nearest)
	op.out = in.Clone()
	op.out[r-2], op.out[r-1] = outH, outW
	y, err := G.ApplyOp(op, x)
	if err != nil {
		return nil, errorf("%s: %w", name, err)
	}
	return y, nil
}

type resizeOp struct {
	mode    ResizeMode
	coord   CoordMode
	nearest NearestMode
	h, w    resizeAxis
	in, out tensor.Shape
	rh, rw  []float64 // outH×inH and outW×inW interpolation matrices
	buf     *outBuf
}

func (op resizeOp) Arity() int    { return 1 }
func (op resizeOp) Type() hm.Type { return rankFnType(len(op.in), len(op.in)) }
func (op resizeOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.out.Clone(), nil
}
func (op resizeOp) ReturnsPtr() bool     { return false }
func (op resizeOp) CallsExtern() bool    { return false }
func (op resizeOp) OverwritesInput() int { return -1 }
func (op resizeOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.Resize{%v,%v,%v,h=%+v,w=%+v}%v", op.mode, op.coord, op.nearest, op.h, op.w, op.in)
}
func (op resizeOp) Hashcode() uint32 { return hashOf(op) }
func (op resizeOp) String() string {
	return fmt.Sprintf("Resize{%v,%v,%v,%dx%d}", op.mode, op.coord, op.nearest, op.h.out, op.w.out)
}

// planes is the number of H×W planes (the product of the leading axes).
func (op resizeOp) planes() int { return volume(op.in[:len(op.in)-2]) }

func (op resizeOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp("Resize", forward, 0)()
	if len(vs) != 1 {
		return nil, errorf("Resize: got %d inputs, want 1", len(vs))
	}
	if err := checkRunShape("Resize", vs[0], op.in); err != nil {
		return nil, err
	}
	if e, t, err := valuesOn("Resize", vs[0]); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		y := op.buf.onDevice(e, nil, op.out)
		return y, op.resizeDevice(e, t[0], y, false)
	}
	f32, err := isFloat32("Resize", vs[0])
	if err != nil {
		return nil, err
	}
	if f32 {
		return resizeDo[float32](op, vs[0])
	}
	return resizeDo[float64](op, vs[0])
}

// convertSlice turns the float64 interpolation matrices into the run's element type.
func convertSlice[T Float](m []float64) []T {
	out := make([]T, len(m))
	for i, v := range m {
		out[i] = T(v)
	}
	return out
}

func resizeDo[T Float](op resizeOp, v G.Value) (G.Value, error) {
	x, err := valueData[T](v)
	if err != nil {
		return nil, errorf("Resize: %w", err)
	}
	p, ih, iw, oh, ow := op.planes(), op.h.in, op.w.in, op.h.out, op.w.out
	rh, rw := convertSlice[T](op.rh), convertSlice[T](op.rw)
	// Width first for all planes at once: T1[p·ih, ow] = X[p·ih, iw] · Rwᵀ.
	t1 := getScratch[T](p * ih * ow)
	defer putScratch(t1)
	gemmPar(false, true, p*ih, ow, iw, 1, x, iw, rw, iw, 0, t1, ow)
	// Then height, plane by plane: Y[p] = Rh · T1[p].
	yt, y := keptOutput[T](op.buf, op.out)
	runBlocks(p, func(k int) {
		gemm(false, false, oh, ow, ih, 1, rh, ih, t1[k*ih*ow:], ow, 0, y[k*oh*ow:], ow)
	})
	return yt, nil
}

func (op resizeOp) DiffWRT(int) []bool { return []bool{true} }

func (op resizeOp) SymDiff(in G.Nodes, out, g *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(resizeDiffOp{f: op, buf: new(outBuf)}, g)
	if err != nil {
		return nil, errorf("Resize gradient: %w", err)
	}
	return G.Nodes{dx}, nil
}

// resizeDiffOp is the adjoint of the resize: dX[p] = Rhᵀ · dY[p] · Rw.
type resizeDiffOp struct {
	f   resizeOp
	buf *outBuf // its own, not the forward op's f.buf
}

func (op resizeDiffOp) Arity() int    { return 1 }
func (op resizeDiffOp) Type() hm.Type { return rankFnType(len(op.f.in), len(op.f.in)) }
func (op resizeDiffOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.f.in.Clone(), nil
}
func (op resizeDiffOp) ReturnsPtr() bool     { return false }
func (op resizeDiffOp) CallsExtern() bool    { return false }
func (op resizeDiffOp) OverwritesInput() int { return -1 }
func (op resizeDiffOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.ResizeDiff{%v,%v,%v,h=%+v,w=%+v}%v", op.f.mode, op.f.coord, op.f.nearest, op.f.h, op.f.w, op.f.in)
}
func (op resizeDiffOp) Hashcode() uint32 { return hashOf(op) }
func (op resizeDiffOp) String() string {
	return fmt.Sprintf("ResizeDiff{%v,%v,%v,%dx%d}", op.f.mode, op.f.coord, op.f.nearest, op.f.h.out, op.f.w.out)
}

func (op resizeDiffOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp("Resize", backward, 0)()
	if len(vs) != 1 {
		return nil, errorf("ResizeDiff: got %d inputs, want 1", len(vs))
	}
	if err := checkRunShape("ResizeDiff", vs[0], op.f.out); err != nil {
		return nil, err
	}
	if e, t, err := valuesOn("ResizeDiff", vs[0]); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		dx := op.buf.onDevice(e, nil, op.f.in)
		return dx, op.f.resizeDevice(e, t[0], dx, true)
	}
	f32, err := isFloat32("ResizeDiff", vs[0])
	if err != nil {
		return nil, err
	}
	if f32 {
		return resizeDiffDo[float32](op.f, op.buf, vs[0])
	}
	return resizeDiffDo[float64](op.f, op.buf, vs[0])
}

func resizeDiffDo[T Float](op resizeOp, buf *outBuf, v G.Value) (G.Value, error) {
	dy, err := valueData[T](v)
	if err != nil {
		return nil, errorf("ResizeDiff: %w", err)
	}
	p, ih, iw, oh, ow := op.planes(), op.h.in, op.w.in, op.h.out, op.w.out
	rh, rw := convertSlice[T](op.rh), convertSlice[T](op.rw)
	// Height first, plane by plane: T2[p] = Rhᵀ · dY[p]  (ih × ow).
	t2 := getScratch[T](p * ih * ow)
	defer putScratch(t2)
	runBlocks(p, func(k int) {
		gemm(true, false, ih, ow, oh, 1, rh, ih, dy[k*oh*ow:], ow, 0, t2[k*ih*ow:], ow)
	})
	// Then width for all planes: dX[p·ih, iw] = T2[p·ih, ow] · Rw.
	dxt, dx := keptOutput[T](buf, op.in)
	gemmPar(false, false, p*ih, iw, ow, 1, t2, ow, rw, iw, 0, dx, iw)
	return dxt, nil
}
