package ops

// Depthwise convolution (Groups == C): output channel m reads only input channel m/(M/C).
// Per-group GEMMs would be 1-row products dominated by call overhead, so these loops walk
// each kernel tap over the valid output range instead; the innermost loop is a strided
// axpy over one output row. Planes are independent, so they are split across CPUs.

// depthwiseForward overwrites y with conv(x, w) + b.
func depthwiseForward[T Float](op *convOp, x, w, b, y []T) {
	g := &op.g
	n, c, m := op.x[0], op.x[1], op.w[0]
	mult := m / c
	hw, ohw, kk := g.H*g.W, g.OH*g.OW, g.KH*g.KW
	parallelFor(n*m, n*m*ohw*kk, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			ni, mi := p/m, p%m
			plane := x[(ni*c+mi/mult)*hw:][:hw]
			out := y[p*ohw:][:ohw]
			var bv T
			if b != nil {
				bv = b[mi]
			}
			for j := range out {
				out[j] = bv
			}
			depthwiseTaps(g, w[mi*kk:][:kk], func(wv T, src, dst, cnt int) {
				d := out[dst : dst+cnt]
				if g.SW == 1 {
					for k, v := range plane[src : src+cnt] {
						d[k] += wv * v
					}
					return
				}
				for k := range d {
					d[k] += wv * plane[src+k*g.SW]
				}
			})
		}
	})
}

// depthwiseTaps calls fn for every kernel tap and output row that reads real input, with the
// tap weight and the run of cnt output positions it touches: output plane offsets dst,
// dst+1, …, which read input plane offsets src, src+SW, ….
func depthwiseTaps[T Float](g *geom2D, taps []T, fn func(wv T, src, dst, cnt int)) {
	for i := 0; i < g.KH; i++ {
		offH := i*g.DH - g.PT
		hlo, hhi := tapRange(g.H, offH, g.SH, g.OH)
		for j := 0; j < g.KW; j++ {
			wv := taps[i*g.KW+j]
			offW := j*g.DW - g.PL
			wlo, whi := tapRange(g.W, offW, g.SW, g.OW)
			if wlo == whi {
				continue
			}
			for oh := hlo; oh < hhi; oh++ {
				fn(wv, (oh*g.SH+offH)*g.W+wlo*g.SW+offW, oh*g.OW+wlo, whi-wlo)
			}
		}
	}
}

// depthwiseBackwardX overwrites dx with the gradient with respect to x. Each input plane
// gathers from its M/C output channels, so the split is over input planes.
func depthwiseBackwardX[T Float](op *convOp, w, dy, dx []T) {
	g := &op.g
	n, c, m := op.x[0], op.x[1], op.w[0]
	mult := m / c
	hw, ohw, kk := g.H*g.W, g.OH*g.OW, g.KH*g.KW
	parallelFor(n*c, n*m*ohw*kk, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			ni, ci := p/c, p%c
			plane := dx[p*hw:][:hw]
			clear(plane)
			for mi := ci * mult; mi < (ci+1)*mult; mi++ {
				grad := dy[(ni*m+mi)*ohw:][:ohw]
				depthwiseTaps(g, w[mi*kk:][:kk], func(wv T, src, dst, cnt int) {
					gr := grad[dst : dst+cnt]
					if g.SW == 1 {
						d := plane[src : src+cnt]
						for k, v := range gr {
							d[k] += wv * v
						}
						return
					}
					for k, v := range gr {
						plane[src+k*g.SW] += wv * v
					}
				})
			}
		}
	})
}

// depthwiseBackwardW overwrites dw with the gradient with respect to w, accumulating each
// tap's dot products in float64. Output channels own their taps, so the split is over them.
func depthwiseBackwardW[T Float](op *convOp, x, dy, dw []T) {
	g := &op.g
	n, c, m := op.x[0], op.x[1], op.w[0]
	mult := m / c
	hw, ohw, kk := g.H*g.W, g.OH*g.OW, g.KH*g.KW
	parallelFor(m, n*m*ohw*kk, func(lo, hi int) {
		sums := make([]float64, kk)
		for mi := lo; mi < hi; mi++ {
			clear(sums)
			for ni := 0; ni < n; ni++ {
				plane := x[(ni*c+mi/mult)*hw:][:hw]
				grad := dy[(ni*m+mi)*ohw:][:ohw]
				for i := 0; i < g.KH; i++ {
					offH := i*g.DH - g.PT
					hlo, hhi := tapRange(g.H, offH, g.SH, g.OH)
					for j := 0; j < g.KW; j++ {
						offW := j*g.DW - g.PL
						wlo, whi := tapRange(g.W, offW, g.SW, g.OW)
						if wlo == whi {
							continue // only padding under this tap
						}
						var s T
						for oh := hlo; oh < hhi; oh++ {
							src := (oh*g.SH+offH)*g.W + wlo*g.SW + offW
							gr := grad[oh*g.OW+wlo : oh*g.OW+whi]
							if g.SW == 1 {
								for k, v := range plane[src : src+len(gr)] {
									s += gr[k] * v
								}
								continue
							}
							for k, v := range gr {
								s += v * plane[src+k*g.SW]
							}
						}
						sums[i*g.KW+j] += float64(s)
					}
				}
			}
			for k, s := range sums {
				dw[mi*kk+k] = T(s)
			}
		}
	})
}
