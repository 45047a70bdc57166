package ops

import "fmt"

// geom2D is the sliding-window geometry that convolution and pooling share: an H×W plane, a
// KH×KW kernel with strides, dilations and pads (top, left, bottom, right), and the OH×OW
// output plane. Window (oh, ow) reads input rows oh·SH − PT + i·DH and columns
// ow·SW − PL + j·DW for kernel taps i < KH, j < KW; taps outside the plane read padding.
type geom2D struct {
	H, W           int
	KH, KW         int
	SH, SW         int
	DH, DW         int
	PT, PL, PB, PR int
	OH, OW         int
}

func (g geom2D) String() string {
	return fmt.Sprintf("in %dx%d kernel %dx%d stride %dx%d dilation %dx%d pads [%d %d %d %d] out %dx%d",
		g.H, g.W, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.PT, g.PL, g.PB, g.PR, g.OH, g.OW)
}

// windowCount is the number of windows along one axis: ONNX's
// floor-or-ceil((in + pads − dilation·(k−1) − 1)/stride) + 1. In ceil mode a last window that
// would start in the trailing padding is dropped, as PyTorch (and the ONNX reference since
// opset 19's clarification) do; otherwise it would average or max over padding only.
func windowCount(in, k, stride, dilation, padBegin, padEnd int, ceil bool) int {
	span := in + padBegin + padEnd - dilation*(k-1) - 1
	if span < 0 {
		return 0
	}
	out := span/stride + 1
	if ceil && span%stride != 0 {
		out++
		if (out-1)*stride >= in+padBegin {
			out--
		}
	}
	return out
}

// tapRange returns the output positions o in [lo, hi) whose tap o·stride + off lies inside
// [0, n); positions before lo and from hi on read padding. lo ≤ hi ≤ out always.
func tapRange(n, off, stride, out int) (lo, hi int) {
	if off < 0 {
		lo = (-off + stride - 1) / stride
	}
	if last := n - 1 - off; last >= 0 {
		hi = last/stride + 1
	}
	lo = min(lo, out)
	hi = max(min(hi, out), lo)
	return lo, hi
}
