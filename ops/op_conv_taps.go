package ops

// The convolution by kernel taps: for small output planes with much padding under the kernel.
//
// im2col writes a zero wherever a kernel tap reads padding, and the GEMM then multiplies
// those zeros. On the small planes of a dilated network this is most of the work: MoCo's FCN
// head (3×3, dilation 6) on ResNet's 8×8 output-stride-16 map reads padding with 75 % of its
// taps, layer4's dilation-2 convolution with 31 %, an undilated 3×3 on 8×8 with 16 %. Here
// y = Σ_t W_t · x_t instead: for each tap t (kernel position i, j) the [M, C] slice W_t of
// the weights times the inputs that tap reads, gathered only at the output positions where
// it reads the plane — a rectangle of the output plane, the same in every image. Each tap is
// one GEMM over the whole batch (depth C, N·|rectangle| columns); the partial products are
// added into the batched layout's [M, N·OH·OW] output in tap order. The gradients are the
// same sums transposed: dx gathers dy over each tap's rectangle, multiplies by W_tᵀ and adds
// the result back at the inputs the tap read; dW_t = dy_t · x_tᵀ.
//
// Work and memory both shrink with the padding (no [C·KH·KW, N·OH·OW] column matrix), and
// the split across CPUs stays fixed by the shape (gemmPar's blocks; gathers and scatters by
// rows), so results are bit-identical for any GOMAXPROCS.

// convTapsBelow is the share of im2col entries that read the plane (not padding) below which
// a batched convolution goes by taps. Measured on 8×8 planes (one CPU, docs/benchmarks.md):
// at a share of 0.25 (dilation 6) by taps takes 0.4× im2col's time, at 0.69 (dilation 2)
// 0.9×, at 0.84 (undilated 3×3) 1.07×: nine GEMMs of depth C and the scatters cost more than
// the 16 % of zeros they skip. A variable so tests can force either layout.
var convTapsBelow = 0.8

// convTap is one kernel tap with padding-free output positions: index t = i·KW + j in the
// kernel, output rows [hlo, hhi) and columns [wlo, whi), which read input row oh·SH + offH
// and column ow·SW + offW.
type convTap struct {
	t                  int
	hlo, hhi, wlo, whi int
	offH, offW         int
}

// size is the number of output positions the tap reads the plane at.
func (t convTap) size() int { return (t.hhi - t.hlo) * (t.whi - t.wlo) }

// convTaps lists op's taps that read the plane somewhere, those that cover the whole output
// plane first (they write the output without a scatter), each group in kernel order.
func (op *convOp) convTaps() []convTap {
	g := op.g
	var full, part []convTap
	for i := 0; i < g.KH; i++ {
		offH := i*g.DH - g.PT
		hlo, hhi := tapRange(g.H, offH, g.SH, g.OH)
		for j := 0; j < g.KW; j++ {
			offW := j*g.DW - g.PL
			wlo, whi := tapRange(g.W, offW, g.SW, g.OW)
			t := convTap{t: i*g.KW + j, hlo: hlo, hhi: hhi, wlo: wlo, whi: whi, offH: offH, offW: offW}
			switch t.size() {
			case 0:
			case g.OH * g.OW:
				full = append(full, t)
			default:
				part = append(part, t)
			}
		}
	}
	return append(full, part...)
}

// planeShare is the share of im2col entries that read the plane rather than padding.
func (op *convOp) planeShare() float64 {
	var s int
	for _, t := range op.taps {
		s += t.size()
	}
	return float64(s) / float64(op.g.KH*op.g.KW*op.g.OH*op.g.OW)
}

// byTaps reports whether op goes by taps: a batched convolution with enough padding under
// its kernel. On the large planes of the per-image layout the padding share is small, and
// by taps measured no faster there (docs/benchmarks.md).
func (op *convOp) byTaps() bool {
	return op.batched() && !op.pointwise() && op.planeShare() < convTapsBelow
}

// tapWeights writes W_t ([M, C], row-major) from w ([M, C, KH, KW]).
func tapWeights[T Float](w, wt []T, m, c, kk, t int) {
	parallelFor(m, m*c, func(lo, hi int) {
		for mi := lo; mi < hi; mi++ {
			src, dst := w[mi*c*kk:][:c*kk], wt[mi*c:][:c]
			for ci := range dst {
				dst[ci] = src[ci*kk+t]
			}
		}
	})
}

// gatherTapInputs writes x_t ([C, N·S]): for every channel, image and position of the tap's
// rectangle (row-major), the input value the tap reads there.
func gatherTapInputs[T Float](g *geom2D, tp convTap, x, dst []T, n, c int) {
	s, rw := tp.size(), tp.whi-tp.wlo
	hw := g.H * g.W
	parallelFor(c, c*n*s, func(lo, hi int) {
		for ci := lo; ci < hi; ci++ {
			for ni := 0; ni < n; ni++ {
				plane := x[(ni*c+ci)*hw:][:hw]
				out := dst[(ci*n+ni)*s:][:s]
				for oh := tp.hlo; oh < tp.hhi; oh++ {
					src := plane[(oh*g.SH+tp.offH)*g.W:]
					o := out[(oh-tp.hlo)*rw:][:rw]
					if g.SW == 1 {
						copy(o, src[tp.wlo+tp.offW:])
						continue
					}
					for k := range o {
						o[k] = src[(tp.wlo+k)*g.SW+tp.offW]
					}
				}
			}
		}
	})
}

// gatherTapGrads writes dy_t ([M, N·S]) from dy ([N, M, OH, OW]) over the tap's rectangle.
func gatherTapGrads[T Float](g *geom2D, tp convTap, dy, dst []T, n, m int) {
	s, rw := tp.size(), tp.whi-tp.wlo
	ohw := g.OH * g.OW
	parallelFor(m, m*n*s, func(lo, hi int) {
		for mi := lo; mi < hi; mi++ {
			for ni := 0; ni < n; ni++ {
				plane := dy[(ni*m+mi)*ohw:][:ohw]
				out := dst[(mi*n+ni)*s:][:s]
				for oh := tp.hlo; oh < tp.hhi; oh++ {
					copy(out[(oh-tp.hlo)*rw:][:rw], plane[oh*g.OW+tp.wlo:])
				}
			}
		}
	})
}

// addTapOutputs adds z ([M, N·S], the tap's rectangle) into out ([M, N·OH·OW]).
func addTapOutputs[T Float](g *geom2D, tp convTap, z, out []T, n, m int) {
	s, rw := tp.size(), tp.whi-tp.wlo
	ohw := g.OH * g.OW
	parallelFor(m, m*n*s, func(lo, hi int) {
		for mi := lo; mi < hi; mi++ {
			for ni := 0; ni < n; ni++ {
				src := z[(mi*n+ni)*s:][:s]
				plane := out[(mi*n+ni)*ohw:][:ohw]
				for oh := tp.hlo; oh < tp.hhi; oh++ {
					d := plane[oh*g.OW+tp.wlo:][:rw]
					for k, v := range src[(oh-tp.hlo)*rw:][:rw] {
						d[k] += v
					}
				}
			}
		}
	})
}

// addTapInputGrads adds dg ([C, N·S]) back onto dx ([N, C, H, W]) at the inputs the tap read.
func addTapInputGrads[T Float](g *geom2D, tp convTap, dg, dx []T, n, c int) {
	s, rw := tp.size(), tp.whi-tp.wlo
	hw := g.H * g.W
	parallelFor(c, c*n*s, func(lo, hi int) {
		for ci := lo; ci < hi; ci++ {
			for ni := 0; ni < n; ni++ {
				plane := dx[(ni*c+ci)*hw:][:hw]
				src := dg[(ci*n+ni)*s:][:s]
				for oh := tp.hlo; oh < tp.hhi; oh++ {
					row := plane[(oh*g.SH+tp.offH)*g.W:]
					for k, v := range src[(oh-tp.hlo)*rw:][:rw] {
						row[(tp.wlo+k)*g.SW+tp.offW] += v
					}
				}
			}
		}
	})
}

// convForwardTaps computes Y[M, N·OH·OW] = Σ_t W_t · x_t, then permutes it into y with the
// bias as the batched layout does.
func convForwardTaps[T Float](op *convOp, x, w, b, y []T) {
	g := &op.g
	n, c, m, _, _, _, _, _, ohw := op.dims()
	kk := g.KH * g.KW
	cols := n * ohw
	tmp := getScratch[T](m * cols)
	defer putScratch(tmp)
	wt := getScratch[T](m * c)
	defer putScratch(wt)
	xt := getScratch[T](c * cols)
	defer putScratch(xt)
	z := getScratch[T](m * cols)
	defer putScratch(z)
	taps := op.taps
	if len(taps) == 0 || taps[0].size() < ohw {
		clear(tmp)
	}
	for i, tp := range taps {
		s := tp.size()
		tapWeights(w, wt, m, c, kk, tp.t)
		gatherTapInputs(g, tp, x, xt, n, c)
		if s == ohw { // the tap's columns are the output's: multiply straight into it
			var beta T
			if i > 0 {
				beta = 1
			}
			gemmPar(false, false, m, cols, c, 1, wt, c, xt, cols, beta, tmp, cols)
			continue
		}
		gemmPar(false, false, m, n*s, c, 1, wt, c, xt, n*s, 0, z, n*s)
		addTapOutputs(g, tp, z, tmp, n, m)
	}
	permuteBatched(tmp, b, y, n, m, ohw)
}

// convBackwardXTaps computes dx = Σ_t scatter_t(W_tᵀ · dy_t).
func convBackwardXTaps[T Float](op *convOp, w, dy, dx []T) {
	g := &op.g
	n, c, m, _, _, _, _, _, ohw := op.dims()
	kk := g.KH * g.KW
	cols := n * ohw
	wt := getScratch[T](m * c)
	defer putScratch(wt)
	dyt := getScratch[T](m * cols)
	defer putScratch(dyt)
	dg := getScratch[T](c * cols)
	defer putScratch(dg)
	clear(dx)
	for _, tp := range op.taps {
		s := tp.size()
		tapWeights(w, wt, m, c, kk, tp.t)
		gatherTapGrads(g, tp, dy, dyt, n, m)
		gemmPar(true, false, c, n*s, m, 1, wt, c, dyt, n*s, 0, dg, n*s)
		addTapInputGrads(g, tp, dg, dx, n, c)
	}
}

// convBackwardWTaps computes dW_t = dy_t · x_tᵀ for every tap (0 for taps that read only
// padding).
func convBackwardWTaps[T Float](op *convOp, x, dy, dw []T) {
	g := &op.g
	n, c, m, _, _, _, _, _, ohw := op.dims()
	kk := g.KH * g.KW
	cols := n * ohw
	xt := getScratch[T](c * cols)
	defer putScratch(xt)
	dyt := getScratch[T](m * cols)
	defer putScratch(dyt)
	dwt := getScratch[T](m * c)
	defer putScratch(dwt)
	clear(dw)
	for _, tp := range op.taps {
		s := tp.size()
		gatherTapInputs(g, tp, x, xt, n, c)
		gatherTapGrads(g, tp, dy, dyt, n, m)
		gemmPar(false, true, m, c, n*s, 1, dyt, n*s, xt, n*s, 0, dwt, c)
		parallelFor(m, m*c, func(lo, hi int) {
			for mi := lo; mi < hi; mi++ {
				src, dst := dwt[mi*c:][:c], dw[mi*c*kk:][:c*kk]
				for ci, v := range src {
					dst[ci*kk+tp.t] = v
				}
			}
		})
	}
}
