package importer

import (
	"fmt"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// Folding of shape-manipulation ops on import-time constants. The argument resolution
// (reshape targets, squeeze axes, slice ranges) is shared with the lowerings of the same ops
// on run-time tensors, so both agree by construction.

// foldShape: Shape (opset 15 adds start/end). Needs only the input's static shape, so it
// folds even when the input is computed at run time.
func foldShape(c *nodeCtx, in []value) ([]value, error) {
	s := in[0].shape()
	r := len(s)
	start, end := int(onnx.AttrInt(c.n, "start", 0)), int(onnx.AttrInt(c.n, "end", int64(r)))
	clamp := func(a int) int {
		if a < 0 {
			a += r
		}
		return min(max(a, 0), r)
	}
	start, end = clamp(start), clamp(end)
	out := []int64{}
	for d := start; d < end; d++ {
		out = append(out, int64(s[d]))
	}
	return []value{konstValue(int64Konst([]int{len(out)}, out...))}, nil
}

// foldSize: Size, the element count, also known for run-time tensors.
func foldSize(c *nodeCtx, in []value) ([]value, error) {
	return []value{konstValue(int64Konst(nil, int64(numel(in[0].shape()))))}, nil
}

func foldIdentity(c *nodeCtx, in []value) ([]value, error) { return []value{in[0]}, nil }

// reshaped returns a copy of k with a new shape (same element order).
func reshaped(k *konst, shape []int) *konst {
	return &konst{dt: k.dt, shape: shape, f: k.f, i: k.i}
}

// reshapeTarget resolves Reshape's shape input: 0 copies the input dimension (unless
// allowzero=1, opset 14), −1 is inferred.
func reshapeTarget(c *nodeCtx, inShape []int, shapeK *konst) ([]int, error) {
	if shapeK == nil {
		return nil, c.errf("Reshape needs its shape input")
	}
	allowZero := onnx.AttrInt(c.n, "allowzero", 0) == 1
	want := shapeK.ints()
	out := make([]int, len(want))
	infer, known := -1, 1
	for d, s := range want {
		switch {
		case s == 0 && !allowZero:
			if d >= len(inShape) {
				return nil, c.errf("shape %v copies dimension %d (0) but the input %v has rank %d", want, d, inShape, len(inShape))
			}
			out[d] = inShape[d]
		case s == -1:
			if infer >= 0 {
				return nil, c.errf("shape %v has more than one -1", want)
			}
			infer = d
			continue
		case s < 0:
			return nil, c.errf("shape %v has a negative entry %d", want, s)
		default:
			out[d] = s
		}
		known *= out[d]
	}
	total := numel(inShape)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, c.errf("cannot reshape %v (%d elements) to %v", inShape, total, want)
		}
		out[infer] = total / known
	} else if known != total {
		return nil, c.errf("cannot reshape %v (%d elements) to %v (%d elements)", inShape, total, want, known)
	}
	return out, nil
}

func foldReshape(c *nodeCtx, in []value) ([]value, error) {
	s, err := reshapeTarget(c, in[0].shape(), in[1].k)
	if err != nil {
		return nil, err
	}
	return []value{konstValue(reshaped(in[0].k, s))}, nil
}

// flattenShape is Flatten's 2-D output shape.
func flattenShape(c *nodeCtx, inShape []int) ([]int, error) {
	r := len(inShape)
	axis := int(onnx.AttrInt(c.n, "axis", 1))
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis > r {
		return nil, c.errf("axis %d is out of range for an input of rank %d", onnx.AttrInt(c.n, "axis", 1), r)
	}
	return []int{numel(inShape[:axis]), numel(inShape[axis:])}, nil
}

func foldFlatten(c *nodeCtx, in []value) ([]value, error) {
	s, err := flattenShape(c, in[0].shape())
	if err != nil {
		return nil, err
	}
	return []value{konstValue(reshaped(in[0].k, s))}, nil
}

// axesArg reads an "axes" list: an attribute before opset `fromOpset`, the input at index
// idx from then on. ok is false when neither is given.
func axesArg(c *nodeCtx, in []value, idx int, fromOpset int64) (axes []int, ok bool, err error) {
	if c.opset < fromOpset {
		a := onnx.Attr(c.n, "axes")
		if a == nil {
			return nil, false, nil
		}
		out := make([]int, len(a.GetInts()))
		for j, v := range a.GetInts() {
			out[j] = int(v)
		}
		return out, true, nil
	}
	if idx >= len(in) || !in[idx].present() {
		return nil, false, nil
	}
	k, err := c.konstInput(in, idx, "axes")
	if err != nil {
		return nil, false, err
	}
	return k.ints(), true, nil
}

// unsqueezeShape inserts 1s at axes (resolved against the output rank).
func unsqueezeShape(c *nodeCtx, in []value) ([]int, error) {
	axes, ok, err := axesArg(c, in, 1, 13)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, c.errf("Unsqueeze needs axes")
	}
	s := in[0].shape()
	r := len(s) + len(axes)
	ins := make([]bool, r)
	for _, a := range axes {
		n, err := normAxis(a, r)
		if err != nil || ins[n] {
			return nil, c.errf("axes %v are invalid or repeated for output rank %d", axes, r)
		}
		ins[n] = true
	}
	out := make([]int, 0, r)
	j := 0
	for d := 0; d < r; d++ {
		if ins[d] {
			out = append(out, 1)
		} else {
			out = append(out, s[j])
			j++
		}
	}
	return out, nil
}

// squeezeShape removes the listed size-1 axes, or every size-1 axis when none are listed.
func squeezeShape(c *nodeCtx, in []value) ([]int, error) {
	axes, ok, err := axesArg(c, in, 1, 13)
	if err != nil {
		return nil, err
	}
	s := in[0].shape()
	drop := make([]bool, len(s))
	if !ok {
		for d, n := range s {
			drop[d] = n == 1
		}
	}
	for _, a := range axes {
		n, err := normAxis(a, len(s))
		if err != nil {
			return nil, c.errf("%v", err)
		}
		if s[n] != 1 {
			return nil, c.errf("cannot squeeze axis %d of shape %v: its size is %d, want 1", a, s, s[n])
		}
		drop[n] = true
	}
	out := []int{}
	for d, n := range s {
		if !drop[d] {
			out = append(out, n)
		}
	}
	return out, nil
}

func foldUnsqueeze(c *nodeCtx, in []value) ([]value, error) {
	s, err := unsqueezeShape(c, in)
	if err != nil {
		return nil, err
	}
	return []value{konstValue(reshaped(in[0].k, s))}, nil
}

func foldSqueeze(c *nodeCtx, in []value) ([]value, error) {
	s, err := squeezeShape(c, in)
	if err != nil {
		return nil, err
	}
	return []value{konstValue(reshaped(in[0].k, s))}, nil
}

// permArg reads Transpose's perm (default: reversed axes) and checks it is a permutation.
func permArg(c *nodeCtx, rank int) ([]int, error) {
	perm := make([]int, rank)
	for d := range perm {
		perm[d] = rank - 1 - d
	}
	if a := onnx.Attr(c.n, "perm"); a != nil {
		p := a.GetInts()
		if len(p) != rank {
			return nil, c.errf("perm %v has %d entries, want %d", p, len(p), rank)
		}
		seen := make([]bool, rank)
		for d, v := range p {
			if v < 0 || int(v) >= rank || seen[v] {
				return nil, c.errf("perm %v is not a permutation of 0..%d", p, rank-1)
			}
			seen[v] = true
			perm[d] = int(v)
		}
	}
	return perm, nil
}

func foldTranspose(c *nodeCtx, in []value) ([]value, error) {
	k := in[0].k
	perm, err := permArg(c, len(k.shape))
	if err != nil {
		return nil, err
	}
	outShape := make([]int, len(perm))
	for d, p := range perm {
		outShape[d] = k.shape[p]
	}
	out := newKonst(k.dt, outShape)
	ist := strides(k.shape)
	forEachIndex(outShape, func(j int, idx []int) {
		src := 0
		for d, p := range perm {
			src += idx[d] * ist[p]
		}
		copyElem(out, j, k, src)
	})
	return []value{konstValue(out)}, nil
}

// forEachIndex calls f for every element of shape in row-major order with its flat index
// and coordinates (the coordinate slice is reused between calls).
func forEachIndex(shape []int, f func(j int, idx []int)) {
	n := numel(shape)
	idx := make([]int, len(shape))
	for j := 0; j < n; j++ {
		f(j, idx)
		for d := len(shape) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
}

// copyElem copies element src of a into element dst of out (same type).
func copyElem(out *konst, dst int, a *konst, src int) {
	if out.isFloat() {
		out.f[dst] = a.f[src]
	} else {
		out.i[dst] = a.i[src]
	}
}

func foldConcat(c *nodeCtx, in []value) ([]value, error) {
	var parts []*konst
	for _, v := range in {
		if v.present() {
			parts = append(parts, v.k)
		}
	}
	if len(parts) == 0 {
		return nil, c.errf("Concat has no inputs")
	}
	r := len(parts[0].shape)
	axis, err := normAxis(int(onnx.AttrInt(c.n, "axis", 0)), r)
	if err != nil {
		return nil, c.errf("%v", err)
	}
	outShape := append([]int{}, parts[0].shape...)
	outShape[axis] = 0
	for _, p := range parts {
		if len(p.shape) != r || p.dt != parts[0].dt {
			return nil, c.errf("inputs differ in rank or type: %v%v vs %v%v", parts[0].dt, parts[0].shape, p.dt, p.shape)
		}
		for d := range p.shape {
			if d != axis && p.shape[d] != parts[0].shape[d] {
				return nil, c.errf("input shapes %v and %v differ off axis %d", parts[0].shape, p.shape, axis)
			}
		}
		outShape[axis] += p.shape[axis]
	}
	out := newKonst(parts[0].dt, outShape)
	outer := numel(outShape[:axis])
	inner := numel(outShape[axis+1:])
	j := 0
	for o := 0; o < outer; o++ {
		for _, p := range parts {
			blk := p.shape[axis] * inner
			for e := 0; e < blk; e++ {
				copyElem(out, j, p, o*blk+e)
				j++
			}
		}
	}
	return []value{konstValue(out)}, nil
}

func foldGather(c *nodeCtx, in []value) ([]value, error) {
	data, idx := in[0].k, in[1].k
	if idx.isFloat() {
		return nil, c.errf("indices have type %v, want an integer type", idx.dt)
	}
	r := len(data.shape)
	axis, err := normAxis(int(onnx.AttrInt(c.n, "axis", 0)), r)
	if err != nil {
		return nil, c.errf("%v", err)
	}
	outShape := append(append(append([]int{}, data.shape[:axis]...), idx.shape...), data.shape[axis+1:]...)
	out := newKonst(data.dt, outShape)
	outer, inner, dim := numel(data.shape[:axis]), numel(data.shape[axis+1:]), data.shape[axis]
	j := 0
	for o := 0; o < outer; o++ {
		for _, g := range idx.i {
			if g < 0 {
				g += int64(dim)
			}
			if g < 0 || g >= int64(dim) {
				return nil, c.errf("index %d is out of range for axis %d of size %d", g, axis, dim)
			}
			for e := 0; e < inner; e++ {
				copyElem(out, j, data, (o*dim+int(g))*inner+e)
				j++
			}
		}
	}
	return []value{konstValue(out)}, nil
}

// sliceArgs resolves Slice's arguments (attributes before opset 10, inputs from then on)
// into per-axis (start, count, step) over an input of the given shape, with ONNX's
// clamping rules. Axes not listed take everything.
type sliceRange struct{ start, count, step int }

func sliceArgs(c *nodeCtx, in []value, shape []int) ([]sliceRange, error) {
	var starts, ends, axes, steps []int
	if c.opset < 10 {
		toInts := func(v []int64) []int {
			o := make([]int, len(v))
			for j, x := range v {
				o[j] = int(x)
			}
			return o
		}
		starts, ends = toInts(onnx.AttrInts(c.n, "starts", nil)), toInts(onnx.AttrInts(c.n, "ends", nil))
		if a := onnx.Attr(c.n, "axes"); a != nil {
			axes = toInts(a.GetInts())
		}
	} else {
		for j, dst := range []*[]int{&starts, &ends, &axes, &steps} {
			if j+1 >= len(in) || !in[j+1].present() {
				continue
			}
			k, err := c.konstInput(in, j+1, [...]string{"starts", "ends", "axes", "steps"}[j])
			if err != nil {
				return nil, err
			}
			*dst = k.ints()
		}
	}
	if len(ends) != len(starts) {
		return nil, c.errf("starts %v and ends %v differ in length", starts, ends)
	}
	if axes == nil {
		for d := range starts {
			axes = append(axes, d)
		}
	}
	if steps == nil {
		for range starts {
			steps = append(steps, 1)
		}
	}
	if len(axes) != len(starts) || len(steps) != len(starts) {
		return nil, c.errf("starts, ends, axes and steps differ in length: %d, %d, %d, %d", len(starts), len(ends), len(axes), len(steps))
	}
	rs := make([]sliceRange, len(shape))
	for d, n := range shape {
		rs[d] = sliceRange{0, n, 1}
	}
	seen := map[int]bool{}
	for j, a := range axes {
		d, err := normAxis(a, len(shape))
		if err != nil || seen[d] {
			return nil, c.errf("axes %v are invalid or repeated for rank %d", axes, len(shape))
		}
		seen[d] = true
		n, s, e, st := shape[d], starts[j], ends[j], steps[j]
		if st == 0 {
			return nil, c.errf("step 0 on axis %d", a)
		}
		if s < 0 {
			s += n
		}
		if e < 0 {
			e += n
		}
		var cnt int
		if st > 0 {
			s, e = min(max(s, 0), n), min(max(e, 0), n)
			cnt = max(0, (e-s+st-1)/st)
		} else {
			s, e = min(max(s, 0), n-1), min(max(e, -1), n-1)
			cnt = max(0, (s-e+(-st)-1)/(-st))
		}
		rs[d] = sliceRange{s, cnt, st}
	}
	return rs, nil
}

func foldSlice(c *nodeCtx, in []value) ([]value, error) {
	k := in[0].k
	rs, err := sliceArgs(c, in, k.shape)
	if err != nil {
		return nil, err
	}
	outShape := make([]int, len(rs))
	for d, r := range rs {
		outShape[d] = r.count
	}
	out := newKonst(k.dt, outShape)
	ist := strides(k.shape)
	forEachIndex(outShape, func(j int, idx []int) {
		src := 0
		for d, r := range rs {
			src += (r.start + idx[d]*r.step) * ist[d]
		}
		copyElem(out, j, k, src)
	})
	return []value{konstValue(out)}, nil
}

// broadcastShapes is numpy's multidirectional broadcasting of several shapes.
func broadcastShapes(shapes ...[]int) ([]int, error) {
	r := 0
	for _, s := range shapes {
		r = max(r, len(s))
	}
	out := make([]int, r)
	for d := range out {
		out[d] = 1
	}
	for _, s := range shapes {
		off := r - len(s)
		for d, n := range s {
			switch {
			case out[off+d] == 1:
				out[off+d] = n
			case n != 1 && n != out[off+d]:
				return nil, fmt.Errorf("shapes %v cannot be broadcast together", shapes)
			}
		}
	}
	return out, nil
}

// bcastIndexer maps flat output indices of outShape to flat indices of an input broadcast
// to it.
func bcastIndexer(in, outShape []int) func(idx []int) int {
	st := strides(in)
	off := len(outShape) - len(in)
	return func(idx []int) int {
		j := 0
		for d, n := range in {
			if n != 1 {
				j += idx[off+d] * st[d]
			}
		}
		return j
	}
}

func foldExpand(c *nodeCtx, in []value) ([]value, error) {
	k := in[0].k
	target, err := c.konstInput(in, 1, "shape")
	if err != nil {
		return nil, err
	}
	outShape, err := broadcastShapes(k.shape, target.ints())
	if err != nil {
		return nil, c.errf("%v", err)
	}
	out := newKonst(k.dt, outShape)
	ix := bcastIndexer(k.shape, outShape)
	forEachIndex(outShape, func(j int, idx []int) { copyElem(out, j, k, ix(idx)) })
	return []value{konstValue(out)}, nil
}

func foldConstantOfShape(c *nodeCtx, in []value) ([]value, error) {
	shape := in[0].k.ints()
	for _, s := range shape {
		if s < 0 {
			return nil, c.errf("shape %v has a negative dimension", shape)
		}
	}
	fill := &konst{dt: pb.TensorProto_FLOAT, shape: []int{1}, f: []float64{0}}
	if t := onnx.AttrTensor(c.n, "value"); t != nil {
		k, err := konstFromTensor(t)
		if err != nil {
			return nil, c.errf("value: %v", err)
		}
		if k.size() != 1 {
			return nil, c.errf("value has %d elements, want 1", k.size())
		}
		fill = k
	}
	out := newKonst(fill.dt, shape)
	for j := 0; j < out.size(); j++ {
		copyElem(out, j, fill, 0)
	}
	return []value{konstValue(out)}, nil
}

func foldRange(c *nodeCtx, in []value) ([]value, error) {
	start, limit, delta := in[0].k, in[1].k, in[2].k
	if delta.at(0) == 0 {
		return nil, c.errf("delta is 0")
	}
	var n int
	if start.isFloat() {
		n = max(0, int(ceil((limit.at(0)-start.at(0))/delta.at(0))))
	} else {
		s, l, d := start.i[0], limit.i[0], delta.i[0]
		n = max(0, int(ceilDiv(l-s, d)))
	}
	out := newKonst(start.dt, []int{n})
	for j := 0; j < n; j++ {
		if start.isFloat() {
			out.set(j, start.at(0)+float64(j)*delta.at(0))
		} else {
			out.i[j] = start.i[0] + int64(j)*delta.i[0]
		}
	}
	return []value{konstValue(out)}, nil
}

// ceilDiv is ⌈a/b⌉ for integers of any sign.
func ceilDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) == (b < 0)) {
		q++
	}
	return q
}
