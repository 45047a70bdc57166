package ops

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// PoolParams follows ONNX MaxPool/AveragePool.
type PoolParams struct {
	Kernel          [2]int
	Stride          [2]int // zero entries mean 1
	Pads            [4]int // top, left, bottom, right
	Dilation        [2]int // MaxPool only; zero entries mean 1
	CeilMode        bool
	CountIncludePad bool // AveragePool only
}

// poolGeom validates p for input x and returns the window geometry. Pads must be smaller than
// the kernel, as onnxruntime requires; in ceil mode a last window that would start in the
// trailing padding is dropped (see windowCount).
func poolGeom(name string, x *G.Node, p PoolParams) (geom2D, error) {
	if x == nil {
		return geom2D{}, errorf("%s: x must not be nil", name)
	}
	if x.Dims() != 4 {
		return geom2D{}, errorf("%s: x has shape %v, want 4 dims [N,C,H,W]", name, x.Shape())
	}
	if dt := x.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return geom2D{}, errorf("%s: x is %v, want float32 or float64", name, dt)
	}
	for i, k := range p.Kernel {
		if k < 1 {
			return geom2D{}, errorf("%s: kernel[%d] = %d, want ≥ 1", name, i, k)
		}
	}
	s := [2]int{oneIfZero(p.Stride[0]), oneIfZero(p.Stride[1])}
	d := [2]int{oneIfZero(p.Dilation[0]), oneIfZero(p.Dilation[1])}
	for i := range 2 {
		if s[i] < 1 {
			return geom2D{}, errorf("%s: stride[%d] = %d, want ≥ 1", name, i, s[i])
		}
		if d[i] < 1 {
			return geom2D{}, errorf("%s: dilation[%d] = %d, want ≥ 1", name, i, d[i])
		}
	}
	for i, pd := range p.Pads {
		if pd < 0 || pd >= p.Kernel[i%2] {
			return geom2D{}, errorf("%s: pads[%d] = %d, want 0 ≤ pad < kernel[%d] = %d (pads are [top, left, bottom, right])",
				name, i, pd, i%2, p.Kernel[i%2])
		}
	}
	xs := x.Shape()
	g := geom2D{
		H: xs[2], W: xs[3], KH: p.Kernel[0], KW: p.Kernel[1], SH: s[0], SW: s[1], DH: d[0], DW: d[1],
		PT: p.Pads[0], PL: p.Pads[1], PB: p.Pads[2], PR: p.Pads[3],
	}
	g.OH = windowCount(g.H, g.KH, g.SH, g.DH, g.PT, g.PB, p.CeilMode)
	g.OW = windowCount(g.W, g.KW, g.SW, g.DW, g.PL, g.PR, p.CeilMode)
	if g.OH < 1 || g.OW < 1 {
		return geom2D{}, errorf("%s: %v leaves no output position", name, g)
	}
	return g, nil
}
