package pretext

import (
	"math"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/ops"
)

// PixelPropagation is PixPro's pixel propagation module (arXiv:2011.10043 eq. 3;
// zdaxie/PixPro PixPro.py featprop) after its value transform: x [N, C, h, w] is the
// projector's map, value [N, C, h, w] the transform g(x) (graphs' ppm.value conv). With x̂
// and v̂ the per-pixel L2-normalised maps and s_ij = max(x̂_i·x̂_j, 0)^γ (γ = PPMGamma = 2),
//
//	y_i = Σ_j s_ij v̂_j,   returned L2-normalised per pixel as [N, C, h·w]
//
// (PixPro normalises y before its loss).
func PixelPropagation(x, value *G.Node) (*G.Node, error) {
	s := x.Shape()
	if len(s) != 4 || !value.Shape().Eq(s) {
		return nil, errorf("PixelPropagation: x %v and value %v, want the same [N, C, h, w]", s, value.Shape())
	}
	n, c, hw := s[0], s[1], s[2]*s[3]
	flat := func(t *G.Node) (*G.Node, error) {
		y, err := ops.L2Normalize(t, 1, normEps)
		if err != nil {
			return nil, err
		}
		return G.Reshape(y, []int{n, c, hw})
	}
	xn, err := flat(x)
	if err != nil {
		return nil, err
	}
	vn, err := flat(value)
	if err != nil {
		return nil, err
	}
	xt, err := ops.Transpose(xn, []int{0, 2, 1})
	if err != nil {
		return nil, err
	}
	sim, err := ops.MatMul(xt, xn) // [N, hw, hw]: cos(x_i, x_j)
	if err != nil {
		return nil, err
	}
	if sim, err = ops.Relu(sim); err != nil {
		return nil, err
	}
	if sim, err = ops.Mul(sim, sim); err != nil { // γ = 2
		return nil, err
	}
	st, err := ops.Transpose(sim, []int{0, 2, 1})
	if err != nil {
		return nil, err
	}
	y, err := ops.MatMul(vn, st) // [N, C, hw]: y_i = Σ_j s_ij v_j
	if err != nil {
		return nil, err
	}
	return ops.L2Normalize(y, 1, normEps)
}

// PixProLoss is PixPro's pixel-to-propagation consistency (PixPro.py regression_loss, both
// directions): y1, y2 [N, C, h·w] the propagated online maps of views 1 and 2
// (PixelPropagation), t1, t2 [N, C, h·w] the target network's per-pixel L2-normalised
// projections, w12 [N, h·w, h·w] the positive-pair weights of view-1 pixel i and view-2
// pixel j (PixProWeights: 1/(#positives + 1e-6) for a positive pair, else 0), w21 the same
// with the views swapped:
//
//	L = −2·mean_n Σ_ij w12_nij cos(y1_ni, t2_nj) − 2·mean_n Σ_ij w21_nij cos(y2_ni, t1_nj)
func PixProLoss(y1, t2, w12, y2, t1, w21 *G.Node) (*G.Node, error) {
	a, err := pixproDirection(y1, t2, w12)
	if err != nil {
		return nil, err
	}
	b, err := pixproDirection(y2, t1, w21)
	if err != nil {
		return nil, err
	}
	return ops.Add(a, b)
}

// pixproDirection is −2·mean_n Σ_ij w_nij y_ni·t_nj.
func pixproDirection(y, t, w *G.Node) (*G.Node, error) {
	s := y.Shape()
	if len(s) != 3 || !t.Shape().Eq(s) || w.Dims() != 3 || w.Shape()[0] != s[0] || w.Shape()[1] != s[2] || w.Shape()[2] != s[2] {
		return nil, errorf("PixProLoss: maps %v and %v with weights %v, want [N, C, hw] twice and [N, hw, hw]", s, t.Shape(), w.Shape())
	}
	yt, err := ops.Transpose(y, []int{0, 2, 1})
	if err != nil {
		return nil, err
	}
	cos, err := ops.MatMul(yt, t) // [N, hw, hw]
	if err != nil {
		return nil, err
	}
	if cos, err = ops.Mul(cos, w); err != nil {
		return nil, err
	}
	sum, err := ops.ReduceSum(cos, []int{0, 1, 2}, false)
	if err != nil {
		return nil, err
	}
	return ops.Mul(sum, scalar(y.Graph(), y.Dtype(), "pixpro/scale", -2/float64(s[0])))
}

// PixProWeights are PixPro's positive pairs between two views of each image, as the weights
// PixProLoss takes, [n, hw1, hw2]: pixel i of view a and pixel j of view b are a positive
// pair when the distance of their centres in the source image, over the larger of the two
// views' cell diagonals, is below threshold (PixPro.py regression_loss; --pixpro-pos-ratio
// 0.7). Coordinates are normalised by the source's width and height as PixPro's crop
// coordinates are (it divides by W − 1 and H − 1, for pixel indices; here the geometry is
// continuous). Each pair weighs 1/(#positive pairs of the image + 1e-6). It also returns the
// number of positive pairs per image.
func PixProWeights(a, b []data.Geometry, ga, gb data.Grid, threshold float64) ([]float32, []int, error) {
	if len(a) != len(b) {
		return nil, nil, errorf("pixpro: %d view-1 geometries and %d view-2 ones, want one pair per image", len(a), len(b))
	}
	na, nb := ga.H*ga.W, gb.H*gb.W
	out := make([]float32, len(a)*na*nb)
	counts := make([]int, len(a))
	for i := range a {
		ka, kb := a[i], b[i]
		if ka.SrcW != kb.SrcW || ka.SrcH != kb.SrcH || ka.SrcW < 1 || ka.SrcH < 1 {
			return nil, nil, errorf("pixpro: image %d: views of sources %dx%d and %dx%d, want the same image", i, ka.SrcW, ka.SrcH, kb.SrcW, kb.SrcH)
		}
		sw, sh := float64(ka.SrcW), float64(ka.SrcH)
		diag := func(g data.Geometry, gr data.Grid) float64 {
			bw := math.Abs(g.SX) * float64(g.W) / float64(gr.W) / sw
			bh := math.Abs(g.SY) * float64(g.H) / float64(gr.H) / sh
			return math.Hypot(bw, bh)
		}
		maxDiag := math.Max(diag(ka, ga), diag(kb, gb))
		pa, pb := data.CellCentres(ka, ga), data.CellCentres(kb, gb)
		w := out[i*na*nb : (i+1)*na*nb]
		for p, u := range pa {
			for q, v := range pb {
				if math.Hypot((u.X-v.X)/sw, (u.Y-v.Y)/sh)/maxDiag < threshold {
					w[p*nb+q] = 1
					counts[i]++
				}
			}
		}
		inv := float32(1 / (float64(counts[i]) + 1e-6))
		for k := range w {
			w[k] *= inv
		}
	}
	return out, counts, nil
}
