package importer

import (
	"fmt"

	"github.com/ssl4dp/ssl4dp/onnx"
)

// Folding of the ops that move elements (Transpose, Concat, Gather, Slice, Expand) on
// import-time constants, and the index helpers they share with the elementwise folds.

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
