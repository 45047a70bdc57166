package ops

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// AdaptiveAvgPool2D averages [N,C,H,W] into [N,C,outH,outW] with PyTorch's bins: output row i
// covers input rows floor(i·H/outH) to ceil((i+1)·H/outH) (exclusive), likewise for columns.
// Bins may overlap, and outH may exceed H. PSPNet's pyramid pooling (1, 2, 3, 6 bins) uses it.
func AdaptiveAvgPool2D(x *G.Node, outH, outW int) (*G.Node, error) {
	return adaptive("AdaptiveAvgPool2D", x, outH, outW)
}

// GlobalAvgPool2D is ONNX GlobalAveragePool: [N,C,H,W] → [N,C,1,1], the mean of each plane.
// (Gorgonia's GlobalAveragePool2D has no gradient.)
func GlobalAvgPool2D(x *G.Node) (*G.Node, error) {
	return adaptive("GlobalAvgPool2D", x, 1, 1)
}

func adaptive(name string, x *G.Node, outH, outW int) (*G.Node, error) {
	if x == nil {
		return nil, errorf("%s: x must not be nil", name)
	}
	if x.Dims() != 4 {
		return nil, errorf("%s: x has shape %v, want 4 dims [N,C,H,W]", name, x.Shape())
	}
	if dt := x.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, errorf("%s: x is %v, want float32 or float64", name, dt)
	}
	if outH < 1 || outW < 1 {
		return nil, errorf("%s: output size %dx%d, want both ≥ 1", name, outH, outW)
	}
	xs := x.Shape().Clone()
	op := &avgPoolOp{x: xs, oh: outH, ow: outW, desc: fmt.Sprintf("%s{%dx%d}", name, outH, outW),
		rows: adaptiveWindows(outH, xs[2]), cols: adaptiveWindows(outW, xs[3])}
	return G.ApplyOp(op, x)
}

// adaptiveWindows lays out PyTorch's adaptive pooling bins of n inputs into out outputs.
func adaptiveWindows(out, n int) []window {
	ws := make([]window, out)
	for i := range ws {
		start := i * n / out
		end := ((i+1)*n + out - 1) / out
		ws[i] = window{start: start, end: end, count: end - start}
	}
	return ws
}
