package ops

import "fmt"

// strided walks an iteration space shared by several operands, each addressed through its own
// strides (0 on a broadcast axis). Broadcasting arithmetic, reductions and their gradients are
// all "for every index of this space, combine the operands at their offsets"; this type does
// the index bookkeeping once, row by row, so the kernels are plain loops.
type strided struct {
	shape   []int   // iteration shape after coalescing; never empty
	strides [][]int // strides[k][axis] for operand k
}

// newStrided coalesces the space: size-1 axes are dropped, and adjacent axes are merged where
// every operand steps through them as one (stride[i] == stride[i+1]·shape[i+1]). A broadcast
// add of [8,21,32,32] and [21,1,1] becomes rows of 1024, not rows of 32.
func newStrided(shape []int, strides ...[]int) strided {
	s := strided{strides: make([][]int, len(strides))}
	for ax, n := range shape {
		if n == 1 {
			continue
		}
		last := len(s.shape) - 1
		merge := last >= 0
		for k := range strides {
			if merge && s.strides[k][last] != strides[k][ax]*n {
				merge = false
			}
		}
		if merge {
			s.shape[last] *= n
			for k := range strides {
				s.strides[k][last] = strides[k][ax]
			}
			continue
		}
		s.shape = append(s.shape, n)
		for k := range strides {
			s.strides[k] = append(s.strides[k], strides[k][ax])
		}
	}
	if len(s.shape) == 0 { // all sizes 1: a single element
		s.shape = []int{1}
		for k := range s.strides {
			s.strides[k] = []int{0}
		}
	}
	return s
}

// rowLen is the length of the innermost rows rows() hands out.
func (s strided) rowLen() int { return s.shape[len(s.shape)-1] }

// inc is operand k's stride along a row.
func (s strided) inc(k int) int { return s.strides[k][len(s.shape)-1] }

// rows calls fn with the start offset of every innermost row in each operand. offs is reused
// between calls; fn must not keep it.
func (s strided) rows(fn func(offs []int)) {
	r := len(s.shape)
	offs := make([]int, len(s.strides))
	idx := make([]int, r)
	for {
		fn(offs)
		ax := r - 2
		for ; ax >= 0; ax-- {
			idx[ax]++
			for k := range offs {
				offs[k] += s.strides[k][ax]
			}
			if idx[ax] < s.shape[ax] {
				break
			}
			for k := range offs {
				offs[k] -= s.strides[k][ax] * s.shape[ax]
			}
			idx[ax] = 0
		}
		if ax < 0 {
			return
		}
	}
}

// broadcastShape is numpy's multidirectional broadcast of two shapes (aligned on the right; a
// size-1 axis stretches), or an error naming both shapes.
func broadcastShape(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 1; i <= n; i++ {
		da, db := 1, 1
		if i <= len(a) {
			da = a[len(a)-i]
		}
		if i <= len(b) {
			db = b[len(b)-i]
		}
		switch {
		case da == db || db == 1:
			out[n-i] = da
		case da == 1:
			out[n-i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast: axis %d has %d vs %d", a, b, n-i, da, db)
		}
	}
	return out, nil
}

// broadcastStrides gives a contiguous tensor of shape in the strides that read it as the
// (larger or equal) shape out: right-aligned, 0 on axes that are missing or stretched.
func broadcastStrides(in, out []int) []int {
	st := make([]int, len(out))
	own := rowMajorStrides(in)
	off := len(out) - len(in)
	for i := range in {
		if in[i] != 1 || out[off+i] == 1 {
			st[off+i] = own[i]
		}
	}
	return st
}
