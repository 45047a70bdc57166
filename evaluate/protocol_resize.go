package evaluate

// ResizeBilinear resizes k planes of h×w values (laid out [k,h,w]) to outH×outW as ONNX
// Resize does in linear mode with coordinate_transformation_mode half_pixel when the model
// gives output sizes (PyTorch's F.interpolate(mode="bilinear", align_corners=False), which is
// how graphs/ resizes logits): output index x reads input coordinate (x + 0.5)·in/out − 0.5,
// clamped to [0, in−1], between its two neighbours. No antialiasing, as in both of those.
// When the size is unchanged the input itself is returned.
//
// It is plain Go (evaluation must not need Gorgonia); ops.Resize2D computes the same map on
// the graph and the tests compare the two.
func ResizeBilinear(src []float32, k, h, w, outH, outW int) []float32 {
	if h == outH && w == outW {
		return src
	}
	ys := linearTaps(h, outH)
	xs := linearTaps(w, outW)
	out := make([]float32, k*outH*outW)
	row := make([]float32, outW) // one input row resized along x
	next := make([]float32, outW)
	for c := 0; c < k; c++ {
		plane := src[c*h*w : (c+1)*h*w]
		dst := out[c*outH*outW : (c+1)*outH*outW]
		cached := [2]int{-1, -1} // input rows currently in row and next
		for y, t := range ys {
			if cached[0] != t.i0 || cached[1] != t.i1 {
				resizeRow(plane[t.i0*w:(t.i0+1)*w], xs, row)
				resizeRow(plane[t.i1*w:(t.i1+1)*w], xs, next)
				cached = [2]int{t.i0, t.i1}
			}
			d := dst[y*outW : (y+1)*outW]
			for x := range d {
				d[x] = row[x]*t.w0 + next[x]*t.w1
			}
		}
	}
	return out
}

// tap is one output sample's two input neighbours and their weights.
type tap struct {
	i0, i1 int
	w0, w1 float32
}

// linearTaps computes half_pixel linear taps for resizing an axis of length in to out. The
// coordinate is formed exactly from integers, ((2x+1)·in − out)/(2·out), as ops.Resize2D does.
func linearTaps(in, out int) []tap {
	ts := make([]tap, out)
	for x := range ts {
		s := float64((2*x+1)*in-out) / float64(2*out)
		s = min(max(s, 0), float64(in-1))
		i0 := int(s)
		i1 := min(i0+1, in-1)
		f := s - float64(i0)
		ts[x] = tap{i0: i0, i1: i1, w0: float32(1 - f), w1: float32(f)}
	}
	return ts
}

func resizeRow(in []float32, xs []tap, out []float32) {
	for x, t := range xs {
		out[x] = in[t.i0]*t.w0 + in[t.i1]*t.w1
	}
}

// ResizeBilinearAdjoint is the transpose of ResizeBilinear: given the gradient of a loss
// with respect to the resized planes [k,outH,outW], it returns the gradient with respect to
// the source planes [k,h,w] (each output sample hands its value back to its two-by-two
// input neighbours with the same weights). The linear probe (evaluate/linear) trains
// through it. When the size is unchanged the input itself is returned.
func ResizeBilinearAdjoint(grad []float32, k, h, w, outH, outW int) []float32 {
	if h == outH && w == outW {
		return grad
	}
	ys := linearTaps(h, outH)
	xs := linearTaps(w, outW)
	out := make([]float32, k*h*w)
	row := make([]float32, w)
	for c := 0; c < k; c++ {
		g := grad[c*outH*outW : (c+1)*outH*outW]
		dst := out[c*h*w : (c+1)*h*w]
		for y, t := range ys {
			clear(row)
			for x, tx := range xs {
				v := g[y*outW+x]
				row[tx.i0] += v * tx.w0
				row[tx.i1] += v * tx.w1
			}
			r0, r1 := dst[t.i0*w:(t.i0+1)*w], dst[t.i1*w:(t.i1+1)*w]
			for x, v := range row {
				r0[x] += v * t.w0
				r1[x] += v * t.w1
			}
		}
	}
	return out
}
