package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SoftmaxCrossEntropy is the fused softmax + negative log-likelihood of PyTorch's
// F.cross_entropy(logits, labels, ignore_index=ignore) with mean reduction.
//
// logits is [N, C] or [N, C, d1, …]; labels has the logits' shape without the class axis
// (axis 1) and holds class indices as float values, so it can be an input node bound anew
// each step. Entries equal to ignore contribute nothing; the result is the scalar mean over
// the others, or 0 (with zero gradient) when every entry is ignored — where PyTorch gives NaN.
// Any other label outside [0, C), or not a whole number, makes the run fail with an error
// naming the value and its position.
//
// The gradient with respect to the logits is (softmax − onehot(label)) / count; labels get
// none.
func SoftmaxCrossEntropy(logits, labels *G.Node, ignore int) (*G.Node, error) {
	if logits == nil || labels == nil {
		return nil, errorf("SoftmaxCrossEntropy: nil input")
	}
	ls, ys := logits.Shape().Clone(), labels.Shape().Clone()
	if len(ls) < 2 {
		return nil, errorf("SoftmaxCrossEntropy: logits %q have shape %v, want [N, C] or [N, C, d1, ...]", logits.Name(), ls)
	}
	want := append(tensor.Shape{ls[0]}, ls[2:]...)
	if !ys.Eq(want) {
		return nil, errorf("SoftmaxCrossEntropy: labels %q have shape %v, want %v (logits %v without the class axis)", labels.Name(), ys, want, ls)
	}
	y, err := G.ApplyOp(xentOp{ignore: ignore, logits: ls, labels: ys}, logits, labels)
	if err != nil {
		return nil, errorf("SoftmaxCrossEntropy: %w", err)
	}
	return y, nil
}

type xentOp struct {
	ignore         int
	logits, labels tensor.Shape
}

func (op xentOp) Arity() int                                     { return 2 }
func (op xentOp) Type() hm.Type                                  { return rankFnType(0, len(op.logits), len(op.labels)) }
func (op xentOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.Shape{}, nil }
func (op xentOp) ReturnsPtr() bool                               { return false }
func (op xentOp) CallsExtern() bool                              { return false }
func (op xentOp) OverwritesInput() int                           { return -1 }
func (op xentOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.SoftmaxCrossEntropy{ignore=%d}%v", op.ignore, op.logits)
}
func (op xentOp) Hashcode() uint32 { return hashOf(op) }
func (op xentOp) String() string   { return fmt.Sprintf("SoftmaxCrossEntropy{ignore=%d}", op.ignore) }

func (op xentOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp("SoftmaxCrossEntropy", forward, 0)()
	if err := op.check("SoftmaxCrossEntropy", vs, 2); err != nil {
		return nil, err
	}
	if e, t, err := valuesOn("SoftmaxCrossEntropy", vs[0], vs[1]); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		return op.forwardDevice(e, t[0], t[1])
	}
	f32, err := isFloat32("SoftmaxCrossEntropy", vs[0])
	if err != nil {
		return nil, err
	}
	if f32 {
		return xentDo[float32](op, vs[0], vs[1])
	}
	return xentDo[float64](op, vs[0], vs[1])
}

// check validates the run-time inputs (logits, labels[, grad]).
func (op xentOp) check(what string, vs []G.Value, n int) error {
	if len(vs) != n {
		return errorf("%s: got %d inputs, want %d", what, len(vs), n)
	}
	if err := checkRunShape(what, vs[0], op.logits); err != nil {
		return err
	}
	if err := checkRunShape(what, vs[1], op.labels); err != nil {
		return err
	}
	if vs[1].Dtype() != vs[0].Dtype() {
		return errorf("%s: labels are %v, want %v like the logits", what, vs[1].Dtype(), vs[0].Dtype())
	}
	return nil
}

// xentCount checks every label and counts the positions that are not ignored; it fails on
// the first label that is neither a class in [0, C) nor the ignore value.
func xentCount[T Float](op xentOp, labels []T) (int, error) {
	c := op.logits[1]
	count := 0
	for pos, v := range labels {
		// A whole label converts to int and back unchanged; NaN, ±Inf and values past int's
		// range do not (their int is whatever the CPU makes of them), nor do fractions.
		l := int(v)
		if T(l) == v && l == op.ignore {
			continue
		}
		if T(l) != v || l < 0 || l >= c {
			return 0, errorf("SoftmaxCrossEntropy: label %v at position %d of labels %v is not a class in [0, %d) nor the ignore value %d", float64(v), pos, op.labels, c, op.ignore)
		}
		count++
	}
	return count, nil
}

// The kernels below walk memory in order. With a class axis followed by H·W positions, the C
// logits of one position lie H·W elements apart, so a loop over positions that reads each
// position's C logits touches a new cache line for every element. Instead each goroutine
// takes a block of consecutive positions of one image and makes each pass (max, exp and sum,
// the gradient) plane by plane over the block: contiguous runs of every class's logits, with
// the block's per-position max and sum in a scratch that stays in L1, and for the gradient
// the block's exponentials too, so that each element of it is written once. Without
// positions after the class axis ([N, C], inner = 1) a position's logits are one contiguous
// row and are walked as such.
//
// Every position's values come out of the same arithmetic in the same order whatever the
// block or the split across CPUs, and the loss adds them in position order, image by image,
// so results do not depend on GOMAXPROCS. In float64 the gradient is that of the plain
// per-position loop bit for bit, and the loss differs from it by rounding only.

// xentBlockBytes bounds the scratch of exponentials the gradient keeps for one block of
// positions: with 21 classes in float32 that is 195 positions, whose C planes of logits the
// max and exp passes then read as runs of 780 bytes. Larger blocks measured no faster,
// smaller ones slower.
const xentBlockBytes = 16 << 10

// xentScratch is one goroutine's working memory for blocks of n positions of c classes.
type xentScratch[T Float] struct {
	n   int
	e   []T       // c·n: exp(x − max) of the block, class by class; a row (c) for inner = 1
	m   []T       // n: max over the classes, then the gradient's scale
	s   []float64 // n: Σ exp(x − max)
	pos []int32   // n: the block's positions sorted by label (gradient)
	at  []int32   // c+2: where each label's positions start in pos, ignored ones last
}

func newXentScratch[T Float](c, inner int) *xentScratch[T] {
	if inner == 1 {
		return &xentScratch[T]{e: make([]T, c)}
	}
	n := min(inner, max(16, xentBlockBytes/(max(c, 1)*int(dtypeOf[T]().Size()))))
	return &xentScratch[T]{n: n, e: make([]T, c*n), m: make([]T, n), s: make([]float64, n),
		pos: make([]int32, n), at: make([]int32, c+2)}
}

// xentImages runs fn(o, sc) for every image o (outer index) across CPUs, with a scratch per
// goroutine. Images are independent, so any split gives the same results.
func xentImages[T Float](op xentOp, fn func(o int, sc *xentScratch[T])) {
	outer, c, inner := splitAt(op.logits, 1)
	parallelFor(outer, outer*c*inner, func(lo, hi int) {
		sc := newXentScratch[T](c, inner)
		for o := lo; o < hi; o++ {
			fn(o, sc)
		}
	})
}

// xentMax sets m[j] to the max of the c logits x[k·inner + j] of each of len(m) positions.
// max propagates NaN, so a NaN logit makes its position's softmax NaN in every class. (The
// builtin is branch-free; a plain comparison measured slower on random logits, where its
// branch mispredicts a few times per position.)
func xentMax[T Float](m, x []T, c, inner int) {
	n := len(m)
	copy(m, x[:n])
	for k := 1; k < c; k++ {
		src := x[k*inner : k*inner+n]
		m := m[:len(src)]
		for j, v := range src {
			m[j] = max(m[j], v)
		}
	}
}

// xentExp is the softmax's exponential for one element type, over a run of positions of one
// plane (sum adds exp(x[j] − m[j]) to s[j], store also sets e[j] to it) or over one row
// (row sets dst[k] = exp(x[k] − m) and returns Σ dst in order). Sums are float64 and take
// the values before rounding to T.
type xentExp[T Float] struct {
	sum   func(s []float64, x, m []T)
	store func(s []float64, e, x, m []T)
	row   func(dst, x []T, m T) float64
}

// xentExpFor is exp32 for float32, the training type, and math.Exp for float64, the type
// finite-difference gradient checks need exact.
func xentExpFor[T Float]() xentExp[T] {
	var f any
	switch any(T(0)).(type) {
	case float32:
		f = xentExp[float32]{xentSum32, xentStore32, xentRow32}
	case float64:
		f = xentExp[float64]{xentSum64, xentStore64, xentRow64}
	}
	return f.(xentExp[T])
}

func xentSum32(s []float64, x, m []float32) {
	k := exp32Params
	m, s = m[:len(x)], s[:len(x)]
	for j, v := range x {
		s[j] += k.at(v - m[j])
	}
}

func xentStore32(s []float64, e, x, m []float32) {
	k := exp32Params
	e, m, s = e[:len(x)], m[:len(x)], s[:len(x)]
	for j, v := range x {
		y := k.at(v - m[j])
		e[j] = float32(y)
		s[j] += y
	}
}

func xentRow32(dst, x []float32, m float32) (sum float64) {
	k := exp32Params
	dst = dst[:len(x)]
	for i, v := range x {
		y := k.at(v - m)
		dst[i] = float32(y)
		sum += y
	}
	return sum
}

func xentSum64(s []float64, x, m []float64) {
	m, s = m[:len(x)], s[:len(x)]
	for j, v := range x {
		s[j] += math.Exp(v - m[j])
	}
}

func xentStore64(s []float64, e, x, m []float64) {
	e, m, s = e[:len(x)], m[:len(x)], s[:len(x)]
	for j, v := range x {
		e[j] = math.Exp(v - m[j])
		s[j] += e[j]
	}
}

func xentRow64(dst, x []float64, m float64) (sum float64) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = math.Exp(v - m)
		sum += dst[i]
	}
	return sum
}

// xentRowMax is the max of x (NaN if any is NaN). Four running maxima break the dependency
// chain; max is exact, so the result is the same in any order.
func xentRowMax[T Float](x []T) T {
	m0 := x[0]
	m1, m2, m3 := m0, m0, m0
	i := 1
	for ; i+4 <= len(x); i += 4 {
		q := x[i : i+4 : i+4]
		m0, m1, m2, m3 = max(m0, q[0]), max(m1, q[1]), max(m2, q[2]), max(m3, q[3])
	}
	for ; i < len(x); i++ {
		m0 = max(m0, x[i])
	}
	return max(max(m0, m1), max(m2, m3))
}

// xentLogSum adds up log s over positions with one math.Log per hundreds of them, which would
// otherwise cost a tenth of the forward pass. Every softmax sum s is at least 1 (the max's own
// term is exactly 1), so a running product only grows; it is logged and restarted before it
// can overflow. Its rounding error (~1e-16 per factor) matches that of adding the logs.
// A NaN sum makes the total NaN. It starts at p = 1.
type xentLogSum struct{ p, logs float64 }

func (a *xentLogSum) add(s float64) {
	a.p *= s
	if a.p > 0x1p900 { // s ≤ C < 2^100: the next factor cannot overflow
		a.logs += math.Log(a.p)
		a.p = 1
	}
}

func (a *xentLogSum) total() float64 { return a.logs + math.Log(a.p) }

// xentByLabel sorts the positions 0…len(lab)−1 of a block by label (a counting sort into
// pos): those labelled k are pos[at[k]:at[k+1]], the ignored ones pos[at[c]:]. The labels
// have passed xentCount.
func xentByLabel[T Float](pos, at []int32, lab []T, ignore int) ([]int32, []int32) {
	c := len(at) - 2
	clear(at)
	for _, l := range lab {
		k := int(l)
		if k == ignore {
			k = c
		}
		at[k+1]++
	}
	for k := 1; k < len(at); k++ {
		at[k] += at[k-1]
	}
	// at[k] is now where label k's run starts; filling advances it to where k+1's starts,
	// so shifting at up by one entry restores the starts.
	for j, l := range lab {
		k := int(l)
		if k == ignore {
			k = c
		}
		pos[at[k]] = int32(j)
		at[k]++
	}
	copy(at[1:], at[:len(at)-1])
	at[0] = 0
	return pos, at
}

// xentBlocks runs fn(i, n) over the blocks of positions [i, i+n) of one image.
func xentBlocks(inner, n int, fn func(i, n int)) {
	for i := 0; i < inner; i += n {
		fn(i, min(n, inner-i))
	}
}

func xentDo[T Float](op xentOp, lv, yv G.Value) (G.Value, error) {
	x, err := valueData[T](lv)
	if err != nil {
		return nil, errorf("SoftmaxCrossEntropy: %w", err)
	}
	labels, err := valueData[T](yv)
	if err != nil {
		return nil, errorf("SoftmaxCrossEntropy: %w", err)
	}
	count, err := xentCount(op, labels)
	if err != nil {
		return nil, err
	}
	if count == 0 {
		return newValue(tensor.Shape{}, []T{0}), nil
	}
	// Per-image sums, added in image order: the same total for any number of CPUs.
	outer, c, inner := splitAt(op.logits, 1)
	exp := xentExpFor[T]()
	partial := make([]float64, outer)
	xentImages(op, func(o int, sc *xentScratch[T]) {
		// The loss of a position is m + log s − x_label; the logs are summed apart.
		var sum float64
		logs := xentLogSum{p: 1}
		if inner == 1 {
			if l := int(labels[o]); l != op.ignore {
				f := x[o*c : (o+1)*c]
				m := xentRowMax(f)
				sum = float64(m) - float64(f[l])
				logs.add(exp.row(sc.e, f, m))
			}
			partial[o] = sum + logs.total()
			return
		}
		xentBlocks(inner, sc.n, func(i, n int) {
			lab := labels[o*inner+i : o*inner+i+n]
			f, m, s := x[o*c*inner+i:], sc.m[:n], sc.s[:n]
			xentMax(m, f, c, inner)
			for j, l := range lab {
				if l := int(l); l != op.ignore {
					sum += float64(m[j]) - float64(f[l*inner+j])
				}
			}
			clear(s)
			for k := 0; k < c; k++ {
				exp.sum(s, f[k*inner:k*inner+n], m)
			}
			for j, l := range lab {
				if int(l) != op.ignore {
					logs.add(s[j])
				}
			}
		})
		partial[o] = sum + logs.total()
	})
	var total float64
	for _, v := range partial {
		total += v
	}
	return newValue(tensor.Shape{}, []T{T(total / float64(count))}), nil
}

func (op xentOp) DiffWRT(int) []bool { return []bool{true, false} }

func (op xentOp) SymDiff(in G.Nodes, out, g *G.Node) (G.Nodes, error) {
	if len(in) != 2 {
		return nil, errorf("SoftmaxCrossEntropy gradient: got %d inputs, want 2", len(in))
	}
	dx, err := G.ApplyOp(xentDiffOp{f: op, buf: new(outBuf)}, in[0], in[1], g)
	if err != nil {
		return nil, errorf("SoftmaxCrossEntropy gradient: %w", err)
	}
	return G.Nodes{dx, nil}, nil
}

// xentDiffOp computes dL/dlogits = g · (softmax(logits) − onehot(label)) / count from
// (logits, labels, g), with zero rows for ignored positions.
type xentDiffOp struct {
	f   xentOp
	buf *outBuf
}

func (op xentDiffOp) Arity() int { return 3 }
func (op xentDiffOp) Type() hm.Type {
	return rankFnType(len(op.f.logits), len(op.f.logits), len(op.f.labels), 0)
}
func (op xentDiffOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.f.logits.Clone(), nil
}
func (op xentDiffOp) ReturnsPtr() bool     { return false }
func (op xentDiffOp) CallsExtern() bool    { return false }
func (op xentDiffOp) OverwritesInput() int { return -1 }
func (op xentDiffOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.SoftmaxCrossEntropyDiff{ignore=%d}%v", op.f.ignore, op.f.logits)
}
func (op xentDiffOp) Hashcode() uint32 { return hashOf(op) }
func (op xentDiffOp) String() string {
	return fmt.Sprintf("SoftmaxCrossEntropyDiff{ignore=%d}", op.f.ignore)
}

func (op xentDiffOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp("SoftmaxCrossEntropy", backward, 0)()
	if err := op.f.check("SoftmaxCrossEntropyDiff", vs, 3); err != nil {
		return nil, err
	}
	if e, t, err := valuesOn("SoftmaxCrossEntropyDiff", vs[0], vs[1]); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		return op.f.backwardDevice(e, op.buf, t[0], t[1], vs[2])
	}
	f32, err := isFloat32("SoftmaxCrossEntropyDiff", vs[0])
	if err != nil {
		return nil, err
	}
	if f32 {
		return xentDiffDo[float32](op.f, op.buf, vs)
	}
	return xentDiffDo[float64](op.f, op.buf, vs)
}

func xentDiffDo[T Float](op xentOp, buf *outBuf, vs []G.Value) (G.Value, error) {
	x, err := valueData[T](vs[0])
	if err != nil {
		return nil, errorf("SoftmaxCrossEntropyDiff: %w", err)
	}
	labels, err := valueData[T](vs[1])
	if err != nil {
		return nil, errorf("SoftmaxCrossEntropyDiff: %w", err)
	}
	g, err := scalarArg[T](vs[2])
	if err != nil {
		return nil, errorf("SoftmaxCrossEntropyDiff: output gradient: %w", err)
	}
	// Count first: every row's gradient is divided by the number of labelled positions.
	count, err := xentCount(op, labels)
	if err != nil {
		return nil, err
	}
	dxt, dx := keptOutput[T](buf, op.logits)
	if count == 0 {
		clear(dx)
		return dxt, nil
	}
	_, c, inner := splitAt(op.logits, 1)
	w := float64(g) / float64(count)
	exp := xentExpFor[T]()
	xentImages(op, func(o int, sc *xentScratch[T]) {
		if inner == 1 {
			d := dx[o*c : (o+1)*c]
			l := int(labels[o])
			if l == op.ignore {
				clear(d)
				return
			}
			f := x[o*c : (o+1)*c]
			ws := T(w / exp.row(d, f, xentRowMax(f)))
			for k, v := range d {
				d[k] = ws * v
			}
			d[l] -= T(w)
			return
		}
		xentBlocks(inner, sc.n, func(i, n int) {
			base := o*c*inner + i
			f, e, m, s := x[base:], sc.e[:c*n], sc.m[:n], sc.s[:n]
			xentMax(m, f, c, inner)
			clear(s)
			for k := 0; k < c; k++ {
				exp.store(s, e[k*n:(k+1)*n], f[k*inner:k*inner+n], m)
			}
			ws := m // the max is done with: its scratch takes the scale w / s
			for j, v := range s {
				ws[j] = T(w / v)
			}
			// Each plane of the gradient is written once, its labelled positions corrected
			// while it is in cache.
			pos, at := xentByLabel(sc.pos[:n], sc.at, labels[o*inner+i:o*inner+i+n], op.ignore)
			for k := 0; k < c; k++ {
				d, src := dx[base+k*inner:base+k*inner+n], e[k*n:(k+1)*n]
				src, ws := src[:len(d)], ws[:len(d)]
				for j := range d {
					d[j] = src[j] * ws[j]
				}
				for _, j := range pos[at[k]:at[k+1]] {
					d[j] -= T(w)
				}
				for _, j := range pos[at[c]:] {
					d[j] = 0
				}
			}
		})
	})
	return dxt, nil
}
