package ops

// The im2col + GEMM convolution (everything but depthwise), in two layouts:
//
//   - per image, for large output planes (OH·OW ≥ convBatchBelow): y_n = W · im2col(x_n),
//     one GEMM per image (and group), the images split across CPUs. The products are wide
//     enough for BLAS to run near its peak.
//   - batched, for small output planes without groups: the im2col matrices of all N images
//     side by side as one [K, N·OH·OW] matrix, so each of the three products is one GEMM
//     of N·OH·OW columns instead of N thin ones (ResNet's stride-16 stages have 8×8 planes:
//     64-column GEMMs run at half the rate of 512-column ones, and the weight gradient's
//     N accumulating GEMMs of depth 64 rewrite the whole weight gradient N times). The
//     output comes out as [M, N·OH·OW] and is permuted into [N, M, OH, OW].
//
// Both split work across CPUs in pieces fixed by the shape alone (images, image groups,
// gemmPar's blocks), so results are bit-identical for any GOMAXPROCS.

// convBatchBelow is the output-plane size below which the batched layout is used. A variable
// so tests can force either layout on small inputs.
var convBatchBelow = 256

// convWGroups is how many image groups the per-image weight gradient is split into: each
// group accumulates its own partial sum, then the partials are added in group order.
const convWGroups = 4

// batched reports whether op uses the batched layout.
func (op *convOp) batched() bool {
	return op.p.Groups == 1 && op.g.OH*op.g.OW < convBatchBelow
}

// convDims are the sizes the GEMM paths use: K = C/groups·KH·KW rows of im2col.
func (op *convOp) dims() (n, c, m, grp, cg, mg, k, hw, ohw int) {
	n, c, m, grp = op.x[0], op.x[1], op.w[0], op.p.Groups
	cg, mg = c/grp, m/grp
	k = cg * op.g.KH * op.g.KW
	return n, c, m, grp, cg, mg, k, op.g.H * op.g.W, op.g.OH * op.g.OW
}

// convForward overwrites y with conv(x, w) + b.
func convForward[T Float](op *convOp, x, w, b, y []T) {
	switch {
	case op.depthwise():
		depthwiseForward(op, x, w, b, y)
	case op.byTaps():
		convForwardTaps(op, x, w, b, y)
	case op.batched():
		convForwardBatched(op, x, w, b, y)
	default:
		convForwardImages(op, x, w, b, y)
	}
}

// convForwardImages computes y_g = W_g · im2col(x_g) per image and group, the im2col matrix
// built a few output rows at a time (pieceRows) and multiplied while it is in cache.
func convForwardImages[T Float](op *convOp, x, w, b, y []T) {
	g := &op.g
	n, c, m, grp, cg, mg, k, hw, ohw := op.dims()
	rows := op.pieceRows(k)
	parallelFor(n, n*m*k*ohw, func(lo, hi int) {
		var col []T
		if !op.pointwise() {
			col = getScratch[T](k * rows * g.OW)
			defer putScratch(col)
		}
		for ni := lo; ni < hi; ni++ {
			for gi := 0; gi < grp; gi++ {
				xg := x[(ni*c+gi*cg)*hw:][:cg*hw]
				yg := y[(ni*m+gi*mg)*ohw:][:mg*ohw]
				wg := w[gi*mg*k:]
				var beta T
				if b != nil {
					for mi := 0; mi < mg; mi++ {
						fill(yg[mi*ohw:(mi+1)*ohw], b[gi*mg+mi])
					}
					beta = 1
				}
				if col == nil {
					gemm(false, false, mg, ohw, k, 1, wg, k, xg, ohw, beta, yg, ohw)
					continue
				}
				for oh0 := 0; oh0 < g.OH; oh0 += rows {
					oh1 := min(oh0+rows, g.OH)
					cw := (oh1 - oh0) * g.OW
					im2colRows(g, xg, cg, col, cw, oh0, oh1)
					gemm(false, false, mg, cw, k, 1, wg, k, col, cw, beta, yg[oh0*g.OW:], ohw)
				}
			}
		}
	})
}

// convPieceFloats is the most elements of an image's im2col matrix built at once: 128 Ki
// values (512 KiB in float32) stay in a core's L2 cache (1 MiB on the machines measured in
// docs/benchmarks.md) beside the GEMM's packed operands, so the GEMM can read what im2col
// just wrote from cache. Measured, that was within noise; what the pieces surely do is bound
// the scratch (ResNet-50's 4608-deep im2col: 4.7 MB per piece instead of 19 MB per image).
// A variable so tests can cut tiny images into pieces.
var convPieceFloats = 128 << 10

// convPieceCols is the fewest columns a piece has, whatever its size: narrower products run
// well below BLAS's peak (a 32-column GEMM at half the rate of a 256-column one).
const convPieceCols = 256

// pieceRows is how many output rows one im2col piece of the per-image layout holds (k rows
// of im2col per output position): a function of the shape only, so results do not depend
// on the machine.
func (op *convOp) pieceRows(k int) int {
	ow := op.g.OW
	rows := max(convPieceFloats/(k*ow), (convPieceCols+ow-1)/ow)
	return max(1, min(op.g.OH, rows))
}

// convForwardBatched computes Y[M, N·OH·OW] = W · [im2col(x_0) … im2col(x_N−1)], then
// permutes it into y and adds the bias.
func convForwardBatched[T Float](op *convOp, x, w, b, y []T) {
	n, _, m, _, _, _, k, _, ohw := op.dims()
	cols := n * ohw
	col := getScratch[T](k * cols)
	defer putScratch(col)
	im2colBatch(op, x, col)
	tmp := getScratch[T](m * cols)
	defer putScratch(tmp)
	gemmPar(false, false, m, cols, k, 1, w, k, col, cols, 0, tmp, cols)
	permuteBatched(tmp, b, y, n, m, ohw)
}

// permuteBatched writes the batched layout's product tmp ([M, N·OH·OW]) into y ([N, M, OH,
// OW]), adding the bias b (nil: none).
func permuteBatched[T Float](tmp, b, y []T, n, m, ohw int) {
	cols := n * ohw
	parallelFor(n*m, n*m*ohw, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			ni, mi := p/m, p%m
			dst, src := y[p*ohw:][:ohw], tmp[mi*cols+ni*ohw:][:ohw]
			if b == nil {
				copy(dst, src)
				continue
			}
			bv := b[mi]
			for j, v := range src {
				dst[j] = v + bv
			}
		}
	})
}

// im2colBatch writes the im2col matrices of all images of x side by side into col
// ([K, N·OH·OW]), the images split across CPUs.
func im2colBatch[T Float](op *convOp, x, col []T) {
	n, c, _, _, _, _, k, hw, ohw := op.dims()
	parallelFor(n, n*k*ohw, func(lo, hi int) {
		for ni := lo; ni < hi; ni++ {
			im2col(&op.g, x[ni*c*hw:][:c*hw], c, col[ni*ohw:], n*ohw)
		}
	})
}

// gatherRows permutes dy ([N, M, OH·OW]) into dst ([M, N·OH·OW]), the layout of the batched
// products.
func gatherRows[T Float](dy, dst []T, n, m, ohw int) {
	cols := n * ohw
	parallelFor(n*m, n*m*ohw, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			ni, mi := p/m, p%m
			copy(dst[mi*cols+ni*ohw:][:ohw], dy[p*ohw:][:ohw])
		}
	})
}

// convBackwardX overwrites dx with the gradient of Σ dy⊙conv(x, w) with respect to x.
func convBackwardX[T Float](op *convOp, w, dy, dx []T) {
	switch {
	case op.depthwise():
		depthwiseBackwardX(op, w, dy, dx)
	case op.byTaps():
		convBackwardXTaps(op, w, dy, dx)
	case op.batched():
		convBackwardXBatched(op, w, dy, dx)
	default:
		convBackwardXImages(op, w, dy, dx)
	}
}

// convBackwardXImages computes dx_g = col2im(W_gᵀ · dy_g) per image and group, a few output
// rows at a time as the forward pass does.
func convBackwardXImages[T Float](op *convOp, w, dy, dx []T) {
	g := &op.g
	n, c, m, grp, cg, mg, k, hw, ohw := op.dims()
	parallelFor(n, n*m*k*ohw, func(lo, hi int) {
		if op.pointwise() {
			// dcol is dx itself: dx_g = W_gᵀ · dy_g.
			for ni := lo; ni < hi; ni++ {
				for gi := 0; gi < grp; gi++ {
					gemm(true, false, k, ohw, mg, 1, w[gi*mg*k:], k, dy[(ni*m+gi*mg)*ohw:], ohw, 0, dx[(ni*c+gi*cg)*hw:], hw)
				}
			}
			return
		}
		rows := op.pieceRows(k)
		dcol := getScratch[T](k * rows * g.OW)
		defer putScratch(dcol)
		for ni := lo; ni < hi; ni++ {
			clear(dx[ni*c*hw : (ni+1)*c*hw])
			for gi := 0; gi < grp; gi++ {
				dyg := dy[(ni*m+gi*mg)*ohw:]
				dxg := dx[(ni*c+gi*cg)*hw:][:cg*hw]
				for oh0 := 0; oh0 < g.OH; oh0 += rows {
					oh1 := min(oh0+rows, g.OH)
					cw := (oh1 - oh0) * g.OW
					gemm(true, false, k, cw, mg, 1, w[gi*mg*k:], k, dyg[oh0*g.OW:], ohw, 0, dcol, cw)
					col2imRows(g, dcol, cg, dxg, cw, oh0, oh1)
				}
			}
		}
	})
}

// convBackwardXBatched computes dcol = Wᵀ · dY[M, N·OH·OW] in one product, then col2im per
// image.
func convBackwardXBatched[T Float](op *convOp, w, dy, dx []T) {
	n, c, m, _, _, _, k, hw, ohw := op.dims()
	cols := n * ohw
	dyp := getScratch[T](m * cols)
	defer putScratch(dyp)
	gatherRows(dy, dyp, n, m, ohw)
	dcol := getScratch[T](k * cols)
	defer putScratch(dcol)
	gemmPar(true, false, k, cols, m, 1, w, k, dyp, cols, 0, dcol, cols)
	parallelFor(n, n*k*ohw, func(lo, hi int) {
		for ni := lo; ni < hi; ni++ {
			d := dx[ni*c*hw : (ni+1)*c*hw]
			clear(d)
			col2im(&op.g, dcol[ni*ohw:], c, d, cols)
		}
	})
}

// convBackwardW overwrites dw with the gradient of Σ dy⊙conv(x, w) with respect to w.
func convBackwardW[T Float](op *convOp, x, dy, dw []T) {
	switch {
	case op.depthwise():
		depthwiseBackwardW(op, x, dy, dw)
	case op.byTaps():
		convBackwardWTaps(op, x, dy, dw)
	case op.batched():
		convBackwardWBatched(op, x, dy, dw)
	default:
		convBackwardWImages(op, x, dy, dw)
	}
}

// convBackwardWImages computes dw = Σ_n dY_n · im2col(x_n)ᵀ: the images are cut into
// convWGroups fixed groups, each summed into its own partial (group 0 straight into dw),
// and the partials are added in group order.
func convBackwardWImages[T Float](op *convOp, x, dy, dw []T) {
	g := &op.g
	n, c, m, grp, cg, mg, k, hw, ohw := op.dims()
	groups := min(n, convWGroups)
	partials := make([][]T, groups)
	partials[0] = dw
	for i := 1; i < groups; i++ {
		partials[i] = getScratch[T](len(dw))
		defer putScratch(partials[i])
	}
	rows := op.pieceRows(k)
	parallelFor(groups, minParallelWork, func(lo, hi int) {
		var col []T
		if !op.pointwise() {
			col = getScratch[T](k * rows * g.OW)
			defer putScratch(col)
		}
		for gr := lo; gr < hi; gr++ {
			dst := partials[gr]
			first, last := gr*n/groups, (gr+1)*n/groups
			for ni := first; ni < last; ni++ {
				var beta T
				if ni > first {
					beta = 1
				}
				for gi := 0; gi < grp; gi++ {
					xg := x[(ni*c+gi*cg)*hw:][:cg*hw]
					dyg := dy[(ni*m+gi*mg)*ohw:]
					if col == nil {
						gemm(false, true, mg, k, ohw, 1, dyg, ohw, xg, ohw, beta, dst[gi*mg*k:], k)
						continue
					}
					for oh0 := 0; oh0 < g.OH; oh0 += rows {
						oh1 := min(oh0+rows, g.OH)
						cw := (oh1 - oh0) * g.OW
						im2colRows(g, xg, cg, col, cw, oh0, oh1)
						b := beta
						if oh0 > 0 {
							b = 1
						}
						gemm(false, true, mg, k, cw, 1, dyg[oh0*g.OW:], ohw, col, cw, b, dst[gi*mg*k:], k)
					}
				}
			}
		}
	})
	if groups > 1 {
		parallelFor(len(dw), len(dw)*groups, func(lo, hi int) {
			for _, p := range partials[1:] {
				d := dw[lo:hi]
				for i, v := range p[lo:hi] {
					d[i] += v
				}
			}
		})
	}
}

// convBackwardWBatched computes dW = dY[M, N·OH·OW] · colᵀ in one product of depth N·OH·OW.
func convBackwardWBatched[T Float](op *convOp, x, dy, dw []T) {
	n, _, m, _, _, _, k, _, ohw := op.dims()
	cols := n * ohw
	col := getScratch[T](k * cols)
	defer putScratch(col)
	im2colBatch(op, x, col)
	dyp := getScratch[T](m * cols)
	defer putScratch(dyp)
	gatherRows(dy, dyp, n, m, ohw)
	gemmPar(false, true, m, k, cols, 1, dyp, cols, col, cols, 0, dw, k)
}

// fill sets every element of s to v.
func fill[T Float](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}
