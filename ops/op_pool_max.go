package ops

import (
	"fmt"
	"hash"
	"math"
	"sync"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MaxPool2D is ONNX MaxPool over [N,C,H,W] with pads, dilation and ceil_mode. Padding never
// wins the max (ONNX semantics); ties go to the first maximum in row-major window order and
// NaN propagates, as in PyTorch. A window that holds only padding (possible only with
// dilation) outputs the lowest finite value, as onnxruntime does, and passes no gradient.
func MaxPool2D(x *G.Node, p PoolParams) (*G.Node, error) {
	if p.CountIncludePad {
		return nil, errorf("MaxPool2D: CountIncludePad is an AveragePool setting; MaxPool never counts padding")
	}
	g, err := poolGeom("MaxPool2D", x, p)
	if err != nil {
		return nil, err
	}
	return G.ApplyOp(&maxPoolOp{g: g, x: x.Shape().Clone()}, x)
}

type maxPoolOp struct {
	g   geom2D
	x   tensor.Shape
	buf outBuf
}

func (op *maxPoolOp) outShape() tensor.Shape {
	return tensor.Shape{op.x[0], op.x[1], op.g.OH, op.g.OW}
}

func (op *maxPoolOp) Arity() int            { return 1 }
func (op *maxPoolOp) Type() hm.Type         { return dimsFnType(4, 4) }
func (op *maxPoolOp) ReturnsPtr() bool      { return false }
func (op *maxPoolOp) CallsExtern() bool     { return false }
func (op *maxPoolOp) OverwritesInput() int  { return -1 }
func (op *maxPoolOp) Hashcode() uint32      { return hashOf(op) }
func (op *maxPoolOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", op) }
func (op *maxPoolOp) String() string        { return fmt.Sprintf("MaxPool2D{%v}", op.g) }
func (op *maxPoolOp) DiffWRT(int) []bool    { return []bool{true} }

func (op *maxPoolOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := inputShapes("MaxPool2D", in, 1)
	if err != nil {
		return nil, err
	}
	if !s[0].Eq(op.x) {
		return nil, errorf("MaxPool2D: input has shape %v; the op was built for %v", s[0], op.x)
	}
	return op.outShape(), nil
}

func (op *maxPoolOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, errorf("MaxPool2D: SymDiff got %d inputs, want 1", len(inputs))
	}
	dx, err := G.ApplyOp(&maxPoolDiffOp{maxPoolOp: op}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

func (op *maxPoolOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *maxPoolOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	defer timeOp("MaxPool", forward, 0)()
	a, err := denseInputs("MaxPool2D", 1, in)
	if err != nil {
		return nil, err
	}
	if !a[0].Shape().Eq(op.x) {
		return nil, errorf("MaxPool2D: got x %v at run time, want %v", a[0].Shape(), op.x)
	}
	if e, err := devOf("MaxPool2D", a...); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		y := op.buf.onDevice(e, prealloc, op.outShape())
		return y, op.forwardDevice(e, a[0], y)
	}
	y := op.buf.get(prealloc, a[0].Dtype(), op.outShape())
	planes := op.x[0] * op.x[1]
	if a[0].Dtype() == tensor.Float32 {
		maxPool(&op.g, planes, elems[float32](a[0]), elems[float32](y), math.MaxFloat32)
	} else {
		maxPool(&op.g, planes, elems[float64](a[0]), elems[float64](y), math.MaxFloat64)
	}
	return y, nil
}

// maxPool writes each window's maximum into y, plane by plane. lowest is the magnitude of the
// value an all-padding window outputs.
func maxPool[T Float](g *geom2D, planes int, x, y []T, lowest float64) {
	ohw := g.OH * g.OW
	argmaxPlanes(g, planes, x, func(pl int, xp []T, at []int) {
		yp := y[pl*ohw : (pl+1)*ohw]
		for o, a := range at {
			if a < 0 {
				yp[o] = T(-lowest)
			} else {
				yp[o] = xp[a]
			}
		}
	})
}

// maxPoolBackward overwrites dx with the max-pool gradient: each dy goes to its window's
// maximum, found again exactly as the forward pass found it (planeArgmax, for both), and is
// added to the cleared dx in output order, so overlapping windows sum in a fixed order.
//
// Each plane is cleared just before its gradients are scattered into it, on the CPU that
// scatters them, rather than all of dx in one serial pass beforehand: so cleared, it costs
// nothing measurable (the clear brings the plane into cache for the scatter). Writing dy
// straight into dx where windows cannot overlap (stride ≥ window) would therefore save
// nothing, and would turn a −0 dy into −0 where 0 + −0 gives +0.
func maxPoolBackward[T Float](g *geom2D, planes int, x, dy, dx []T) {
	hw, ohw := g.H*g.W, g.OH*g.OW
	argmaxPlanes(g, planes, x, func(pl int, _ []T, at []int) {
		dyp, dxp := dy[pl*ohw:(pl+1)*ohw], dx[pl*hw:(pl+1)*hw]
		clear(dxp)
		for o, a := range at {
			if a >= 0 {
				dxp[a] += dyp[o]
			}
		}
	})
}

// argmaxPlanes calls fn for every plane pl of x with the plane and planeArgmax's answer for
// it, the planes split across CPUs (each plane's result depends on that plane alone).
func argmaxPlanes[T Float](g *geom2D, planes int, x []T, fn func(pl int, xp []T, at []int)) {
	hw, ohw := g.H*g.W, g.OH*g.OW
	in := interiorOf(g) // once per run, not per position
	parallelFor(planes, planes*ohw*g.KH*g.KW, func(lo, hi int) {
		s, _ := maxScratch.Get().(*maxPoolScratch)
		if s == nil {
			s = &maxPoolScratch{}
		}
		defer maxScratch.Put(s)
		if cap(s.at) < ohw {
			s.at = make([]int, ohw)
		}
		at := s.at[:ohw]
		for pl := lo; pl < hi; pl++ {
			xp := x[pl*hw : (pl+1)*hw]
			planeArgmax(g, in, xp, s, at)
			fn(pl, xp, at)
		}
	})
}

// interior is the block of output positions, rows [hlo, hhi) by columns [wlo, whi), whose
// windows lie wholly inside the plane: no tap of theirs needs a padding check.
type interior struct{ hlo, hhi, wlo, whi int }

func interiorOf(g *geom2D) interior {
	hlo, _ := tapRange(g.H, -g.PT, g.SH, g.OH)               // first tap inside
	_, hhi := tapRange(g.H, -g.PT+(g.KH-1)*g.DH, g.SH, g.OH) // last tap inside
	wlo, _ := tapRange(g.W, -g.PL, g.SW, g.OW)
	_, whi := tapRange(g.W, -g.PL+(g.KW-1)*g.DW, g.SW, g.OW)
	return interior{hlo, max(hhi, hlo), wlo, max(whi, wlo)}
}

// maxScratch holds planeArgmax's buffers, one set per goroutine at a time, reused from run
// to run: an order-key plane and a window-index plane, a few KB each.
var maxScratch sync.Pool

type maxPoolScratch struct {
	k32 []int32
	k64 []int64
	at  []int
}

// planeArgmax writes at[oh·OW + ow] = the plane index of the tap windowMax picks for window
// (oh, ow) of plane xp, or −1 for an all-padding window.
//
// windowMax compares floats with a branch per tap, and on real data which tap wins is a coin
// toss the branch predictor loses. So, unless the plane holds a NaN, the taps are compared as
// integer order keys instead (see orderKeys32), which the compiler turns into conditional
// moves: the same comparisons (key(a) > key(b) exactly when a > b), so the same tap wins.
// Interior windows run without padding checks, in unrolled loops for 3×3 and 2×2 kernels at
// dilation 1 (3×3 at stride 2 two windows at a time); border windows clip their tap ranges
// once per window. A plane with a NaN where
// a window reads goes through windowMax itself, whose NaN rule (the first NaN wins) has no key
// equivalent. All told, about four times faster than windowMax everywhere on random data.
func planeArgmax[T Float](g *geom2D, in interior, xp []T, s *maxPoolScratch, at []int) {
	nan := true // named float types (elems gives none) take windowMax's path
	switch xs := any(xp).(type) {
	case []float32:
		if cap(s.k32) < len(xs) {
			s.k32 = make([]int32, len(xs))
		}
		nan = bandArgmax(g, in, xs, s.k32[:len(xs)], at, orderKeys32)
	case []float64:
		if cap(s.k64) < len(xs) {
			s.k64 = make([]int64, len(xs))
		}
		nan = bandArgmax(g, in, xs, s.k64[:len(xs)], at, orderKeys64)
	}
	if nan {
		for oh := 0; oh < g.OH; oh++ {
			for ow := 0; ow < g.OW; ow++ {
				_, at[oh*g.OW+ow] = windowMax(g, xp, oh, ow)
			}
		}
	}
}

// bandArgmax is planeArgmax through order keys kp, which it converts from xp (with keys) a
// few rows at a time, as the output rows come to read them: rows no window reads are never
// converted, and the conversion runs between the comparisons rather than as a pass of its own
// (a few per cent faster, measured). It reports a NaN in the rows read, leaving at unfinished.
func bandArgmax[F Float, K orderKey](g *geom2D, in interior, xp []F, kp []K, at []int, keys func([]F, []K) bool) (nan bool) {
	done := 0 // rows converted
	for oh := 0; oh < g.OH; oh++ {
		if need := min(g.H, oh*g.SH-g.PT+(g.KH-1)*g.DH+1); need > done { // rows window row oh reads
			if keys(xp[done*g.W:need*g.W], kp[done*g.W:need*g.W]) {
				return true
			}
			done = need
		}
		keyArgmaxRow(g, in, kp, at[oh*g.OW:(oh+1)*g.OW], oh)
	}
	return false
}

// orderKeys32 writes into k, for each non-NaN x, the int32 that orders as x does, with −0
// and +0 equal: the magnitude bits, negated for negative x. It reports whether x holds a NaN
// (whose keys are meaningless): a magnitude above +Inf's bits, which adding 0x7fffff carries
// into bit 31. Unrolled by four, which takes a fifth off its time.
func orderKeys32(x []float32, k []int32) (nan bool) {
	k = k[:len(x)]
	var bad uint32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		xi, ki := x[i:i+4:i+4], k[i:i+4:i+4]
		b0, b1 := int32(math.Float32bits(xi[0])), int32(math.Float32bits(xi[1]))
		b2, b3 := int32(math.Float32bits(xi[2])), int32(math.Float32bits(xi[3]))
		s0, m0 := b0>>31, b0&math.MaxInt32
		s1, m1 := b1>>31, b1&math.MaxInt32
		s2, m2 := b2>>31, b2&math.MaxInt32
		s3, m3 := b3>>31, b3&math.MaxInt32
		bad |= (uint32(m0) + 0x7fffff) | (uint32(m1) + 0x7fffff) | (uint32(m2) + 0x7fffff) | (uint32(m3) + 0x7fffff)
		ki[0], ki[1], ki[2], ki[3] = m0^s0-s0, m1^s1-s1, m2^s2-s2, m3^s3-s3
	}
	for ; i < len(x); i++ {
		b := int32(math.Float32bits(x[i]))
		sign, mag := b>>31, b&math.MaxInt32
		bad |= uint32(mag) + 0x7fffff
		k[i] = mag ^ sign - sign
	}
	return bad>>31 != 0
}

// orderKeys64 is orderKeys32 for float64 (not unrolled: float64 serves gradient checks).
func orderKeys64(x []float64, k []int64) (nan bool) {
	k = k[:len(x)]
	var bad uint64
	for i, v := range x {
		b := int64(math.Float64bits(v))
		sign, mag := b>>63, b&math.MaxInt64
		bad |= uint64(mag) + 0xfffffffffffff
		k[i] = mag ^ sign - sign
	}
	return bad>>63 != 0
}

type orderKey interface{ int32 | int64 }

// keyArgmaxRow is planeArgmax for output row oh, ao, over the order keys kp of a plane
// without NaN (in the rows it reads). Every loop visits a window's taps in windowMax's order
// (row-major, padding skipped) and takes a later tap only when its key is strictly greater.
func keyArgmaxRow[K orderKey](g *geom2D, in interior, kp []K, ao []int, oh int) {
	if oh < in.hlo || oh >= in.hhi {
		for ow := range ao {
			ao[ow] = clippedArgmax(g, kp, oh, ow)
		}
		return
	}
	for ow := 0; ow < in.wlo; ow++ {
		ao[ow] = clippedArgmax(g, kp, oh, ow)
	}
	// p0 is the plane index of window (oh, 0)'s first tap, were it inside the plane.
	p0 := (oh*g.SH-g.PT)*g.W - g.PL
	switch {
	case g.KH == 3 && g.KW == 3 && g.DH == 1 && g.DW == 1:
		argmax3x3(kp, ao, p0, g.W, g.SW, in.wlo, in.whi)
	case g.KH == 2 && g.KW == 2 && g.DH == 1 && g.DW == 1:
		argmax2x2(kp, ao, p0, g.W, g.SW, in.wlo, in.whi)
	default:
		for ow := in.wlo; ow < in.whi; ow++ {
			p := p0 + ow*g.SW
			best, a := kp[p], p
			for i := 0; i < g.KH; i++ {
				row := p + i*g.DH*g.W
				for j := 0; j < g.KW; j++ {
					if v := kp[row+j*g.DW]; v > best {
						best, a = v, row+j*g.DW
					}
				}
			}
			ao[ow] = a
		}
	}
	for ow := in.whi; ow < g.OW; ow++ {
		ao[ow] = clippedArgmax(g, kp, oh, ow)
	}
}

// argmax3x3 is keyArgmaxRow's loop over interior columns [lo, hi) of one output row for 3×3
// windows at dilation 1, the first of which starts at plane index p0 + ow·sw. It tracks the
// winning tap's number t, a constant per comparison, and turns it into a plane index once per
// window, arithmetically: the compiler emits branches rather than conditional moves for
// values that feed a load's address (an offset table), or for so many live indices that they
// spill.
func argmax3x3[K orderKey](kp []K, ao []int, p0, w, sw, lo, hi int) {
	if sw == 2 {
		argmax3x3s2(kp, ao, p0, w, lo, hi)
		return
	}
	for ow := lo; ow < hi; ow++ {
		p := p0 + ow*sw
		r0, r1, r2 := kp[p:p+3:p+3], kp[p+w:p+w+3:p+w+3], kp[p+2*w:p+2*w+3:p+2*w+3]
		best, t := r0[0], 0
		if r0[1] > best {
			best, t = r0[1], 1
		}
		if r0[2] > best {
			best, t = r0[2], 2
		}
		if r1[0] > best {
			best, t = r1[0], 3
		}
		if r1[1] > best {
			best, t = r1[1], 4
		}
		if r1[2] > best {
			best, t = r1[2], 5
		}
		if r2[0] > best {
			best, t = r2[0], 6
		}
		if r2[1] > best {
			best, t = r2[1], 7
		}
		if r2[2] > best {
			t = 8
		}
		i := t * 11 >> 5 // t / 3 for t < 9
		ao[ow] = p + i*w + t - 3*i
	}
}

// argmax3x3s2 is argmax3x3 at stride 2 (ResNet's stem), some 15% faster: two windows per
// iteration, which share a column of taps, each in its own chain of comparisons, over row
// slices and a column index the compiler can bound once.
func argmax3x3s2[K orderKey](kp []K, ao []int, p0, w, lo, hi int) {
	if lo >= hi {
		return
	}
	base := p0 + 2*lo  // window lo's first tap
	n := 2*(hi-lo) + 1 // columns the windows read
	r0, r1, r2 := kp[base:base+n], kp[base+w:base+w+n], kp[base+2*w:base+2*w+n]
	r1, r2 = r1[:len(r0)], r2[:len(r0)]
	ao = ao[lo:hi]
	// Window k reads columns 2k … c = 2k+2 of the three rows.
	k, c := 0, 2
	for ; c+2 < len(r0); c, k = c+4, k+2 {
		a0, a1, a2 := r0[c-2], r0[c-1], r0[c] // window k
		b0, b1, b2 := r1[c-2], r1[c-1], r1[c]
		d0, d1, d2 := r2[c-2], r2[c-1], r2[c]
		best, t := a0, 0
		if a1 > best {
			best, t = a1, 1
		}
		if a2 > best {
			best, t = a2, 2
		}
		if b0 > best {
			best, t = b0, 3
		}
		if b1 > best {
			best, t = b1, 4
		}
		if b2 > best {
			best, t = b2, 5
		}
		if d0 > best {
			best, t = d0, 6
		}
		if d1 > best {
			best, t = d1, 7
		}
		if d2 > best {
			t = 8
		}
		best2, u := a2, 0 // window k+1, whose first column is window k's last
		if v := r0[c+1]; v > best2 {
			best2, u = v, 1
		}
		if v := r0[c+2]; v > best2 {
			best2, u = v, 2
		}
		if b2 > best2 {
			best2, u = b2, 3
		}
		if v := r1[c+1]; v > best2 {
			best2, u = v, 4
		}
		if v := r1[c+2]; v > best2 {
			best2, u = v, 5
		}
		if d2 > best2 {
			best2, u = d2, 6
		}
		if v := r2[c+1]; v > best2 {
			best2, u = v, 7
		}
		if v := r2[c+2]; v > best2 {
			u = 8
		}
		i, j := t*11>>5, u*11>>5
		_ = ao[k+1]
		ao[k] = base + c - 2 + i*w + t - 3*i
		ao[k+1] = base + c + j*w + u - 3*j
	}
	if c < len(r0) { // an odd window left
		best, t := r0[c-2], 0
		if v := r0[c-1]; v > best {
			best, t = v, 1
		}
		if v := r0[c]; v > best {
			best, t = v, 2
		}
		if v := r1[c-2]; v > best {
			best, t = v, 3
		}
		if v := r1[c-1]; v > best {
			best, t = v, 4
		}
		if v := r1[c]; v > best {
			best, t = v, 5
		}
		if v := r2[c-2]; v > best {
			best, t = v, 6
		}
		if v := r2[c-1]; v > best {
			best, t = v, 7
		}
		if v := r2[c]; v > best {
			t = 8
		}
		i := t * 11 >> 5
		ao[k] = base + c - 2 + i*w + t - 3*i
	}
}

// argmax2x2 is argmax3x3 for 2×2 windows.
func argmax2x2[K orderKey](kp []K, ao []int, p0, w, sw, lo, hi int) {
	for ow := lo; ow < hi; ow++ {
		p := p0 + ow*sw
		r0, r1 := kp[p:p+2:p+2], kp[p+w:p+w+2:p+w+2]
		best, t := r0[0], 0
		if r0[1] > best {
			best, t = r0[1], 1
		}
		if r1[0] > best {
			best, t = r1[0], 2
		}
		if r1[1] > best {
			t = 3
		}
		ao[ow] = p + t>>1*w + t&1
	}
}

// clippedArgmax is keyArgmaxRow for a border window: its taps inside the plane, or −1 if none.
func clippedArgmax[K orderKey](g *geom2D, kp []K, oh, ow int) int {
	h0, w0 := oh*g.SH-g.PT, ow*g.SW-g.PL
	i0, i1 := tapRange(g.H, h0, g.DH, g.KH)
	j0, j1 := tapRange(g.W, w0, g.DW, g.KW)
	if i0 >= i1 || j0 >= j1 {
		return -1
	}
	a := (h0+i0*g.DH)*g.W + w0 + j0*g.DW
	best := kp[a]
	for i := i0; i < i1; i++ {
		row := (h0+i*g.DH)*g.W + w0
		for j := j0; j < j1; j++ {
			if v := kp[row+j*g.DW]; v > best {
				best, a = v, row+j*g.DW
			}
		}
	}
	return a
}

// windowMax returns the maximum of window (oh, ow) of plane xp and its index in the plane, or
// at = −1 when every tap reads padding. The first valid tap is always taken and a later one
// only when strictly larger (the first maximum wins ties) or NaN (NaN propagates), matching
// PyTorch's CPU kernel.
func windowMax[T Float](g *geom2D, xp []T, oh, ow int) (best T, at int) {
	h0, w0 := oh*g.SH-g.PT, ow*g.SW-g.PL
	at = -1
	for i := 0; i < g.KH; i++ {
		h := h0 + i*g.DH
		if h < 0 || h >= g.H {
			continue
		}
		row := xp[h*g.W : (h+1)*g.W]
		for j := 0; j < g.KW; j++ {
			w := w0 + j*g.DW
			if w < 0 || w >= g.W {
				continue
			}
			if v := row[w]; at < 0 || v > best || v != v {
				best, at = v, h*g.W+w
				if v != v {
					return best, at
				}
			}
		}
	}
	return best, at
}

// maxPoolDiffOp is MaxPool2D's gradient: (x, dy) → dx.
type maxPoolDiffOp struct {
	*maxPoolOp
	buf outBuf // its own, not the forward op's
}

func (op *maxPoolDiffOp) Arity() int            { return 2 }
func (op *maxPoolDiffOp) Type() hm.Type         { return dimsFnType(4, 4, 4) }
func (op *maxPoolDiffOp) Hashcode() uint32      { return hashOf(op) }
func (op *maxPoolDiffOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", op) }
func (op *maxPoolDiffOp) String() string        { return "d/" + op.maxPoolOp.String() }
func (op *maxPoolDiffOp) DiffWRT(n int) []bool  { return make([]bool, n) }
func (op *maxPoolDiffOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errorf("MaxPool2D: second derivatives are not implemented")
}

func (op *maxPoolDiffOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if _, err := inputShapes("MaxPool2D dx", in, 2); err != nil {
		return nil, err
	}
	return op.x.Clone(), nil
}

func (op *maxPoolDiffOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *maxPoolDiffOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	defer timeOp("MaxPool", backward, 0)()
	a, err := denseInputs("MaxPool2D dx", 2, in)
	if err != nil {
		return nil, err
	}
	if !a[0].Shape().Eq(op.x) || !a[1].Shape().Eq(op.outShape()) {
		return nil, errorf("MaxPool2D dx: got x %v and dy %v, want %v and %v", a[0].Shape(), a[1].Shape(), op.x, op.outShape())
	}
	if e, err := devOf("MaxPool2D dx", a...); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		dx := op.buf.onDevice(e, prealloc, op.x)
		return dx, op.backwardDevice(e, a[0], a[1], dx)
	}
	dx := op.buf.get(prealloc, a[0].Dtype(), op.x)
	planes := op.x[0] * op.x[1]
	if a[0].Dtype() == tensor.Float32 {
		maxPoolBackward(&op.g, planes, elems[float32](a[0]), elems[float32](a[1]), elems[float32](dx))
	} else {
		maxPoolBackward(&op.g, planes, elems[float64](a[0]), elems[float64](a[1]), elems[float64](dx))
	}
	return dx, nil
}
