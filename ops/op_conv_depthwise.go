package ops

// Depthwise convolution (Groups == C): output channel m reads only input channel m/(M/C).
// Per-group GEMMs would be 1-row products dominated by call overhead, so these loops walk
// each kernel tap over the valid output range instead; the innermost loop is a strided
// axpy over one output row.

// depthwiseForward overwrites y with conv(x, w) + b.
func depthwiseForward[T Float](op *convOp, x, w, b, y []T) {
	g := &op.g
	n, c, m := op.x[0], op.x[1], op.w[0]
	mult := m / c
	hw, ohw, kk := g.H*g.W, g.OH*g.OW, g.KH*g.KW
	for ni := 0; ni < n; ni++ {
		for mi := 0; mi < m; mi++ {
			plane := x[(ni*c+mi/mult)*hw:][:hw]
			out := y[(ni*m+mi)*ohw:][:ohw]
			var bv T
			if b != nil {
				bv = b[mi]
			}
			for j := range out {
				out[j] = bv
			}
			taps := w[mi*kk:][:kk]
			for i := 0; i < g.KH; i++ {
				offH := i*g.DH - g.PT
				hlo, hhi := tapRange(g.H, offH, g.SH, g.OH)
				for j := 0; j < g.KW; j++ {
					wv := taps[i*g.KW+j]
					offW := j*g.DW - g.PL
					wlo, whi := tapRange(g.W, offW, g.SW, g.OW)
					for oh := hlo; oh < hhi; oh++ {
						src := plane[(oh*g.SH+offH)*g.W:][:g.W]
						dst := out[oh*g.OW : (oh+1)*g.OW]
						if g.SW == 1 {
							s := src[wlo+offW : whi+offW]
							for k, v := range s {
								dst[wlo+k] += wv * v
							}
							continue
						}
						for ow := wlo; ow < whi; ow++ {
							dst[ow] += wv * src[ow*g.SW+offW]
						}
					}
				}
			}
		}
	}
}

// depthwiseBackwardX overwrites dx with the gradient with respect to x.
func depthwiseBackwardX[T Float](op *convOp, w, dy, dx []T) {
	g := &op.g
	n, c, m := op.x[0], op.x[1], op.w[0]
	mult := m / c
	hw, ohw, kk := g.H*g.W, g.OH*g.OW, g.KH*g.KW
	clear(dx)
	for ni := 0; ni < n; ni++ {
		for mi := 0; mi < m; mi++ {
			plane := dx[(ni*c+mi/mult)*hw:][:hw]
			grad := dy[(ni*m+mi)*ohw:][:ohw]
			taps := w[mi*kk:][:kk]
			for i := 0; i < g.KH; i++ {
				offH := i*g.DH - g.PT
				hlo, hhi := tapRange(g.H, offH, g.SH, g.OH)
				for j := 0; j < g.KW; j++ {
					wv := taps[i*g.KW+j]
					offW := j*g.DW - g.PL
					wlo, whi := tapRange(g.W, offW, g.SW, g.OW)
					for oh := hlo; oh < hhi; oh++ {
						dst := plane[(oh*g.SH+offH)*g.W:][:g.W]
						src := grad[oh*g.OW : (oh+1)*g.OW]
						if g.SW == 1 {
							d := dst[wlo+offW : whi+offW]
							for k, v := range src[wlo:whi] {
								d[k] += wv * v
							}
							continue
						}
						for ow := wlo; ow < whi; ow++ {
							dst[ow*g.SW+offW] += wv * src[ow]
						}
					}
				}
			}
		}
	}
}

// depthwiseBackwardW overwrites dw with the gradient with respect to w, accumulating each
// tap's dot product in float64.
func depthwiseBackwardW[T Float](op *convOp, x, dy, dw []T) {
	g := &op.g
	n, c, m := op.x[0], op.x[1], op.w[0]
	mult := m / c
	hw, ohw, kk := g.H*g.W, g.OH*g.OW, g.KH*g.KW
	for mi := 0; mi < m; mi++ {
		for i := 0; i < g.KH; i++ {
			offH := i*g.DH - g.PT
			hlo, hhi := tapRange(g.H, offH, g.SH, g.OH)
			for j := 0; j < g.KW; j++ {
				offW := j*g.DW - g.PL
				wlo, whi := tapRange(g.W, offW, g.SW, g.OW)
				var s float64
				for ni := 0; ni < n; ni++ {
					plane := x[(ni*c+mi/mult)*hw:][:hw]
					grad := dy[(ni*m+mi)*ohw:][:ohw]
					for oh := hlo; oh < hhi; oh++ {
						src := plane[(oh*g.SH+offH)*g.W:][:g.W]
						gr := grad[oh*g.OW : (oh+1)*g.OW]
						var r T
						for ow := wlo; ow < whi; ow++ {
							r += gr[ow] * src[ow*g.SW+offW]
						}
						s += float64(r)
					}
				}
				dw[mi*kk+i*g.KW+j] = T(s)
			}
		}
	}
}
