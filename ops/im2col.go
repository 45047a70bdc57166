package ops

// im2col lays out the receptive fields of c planes x (c×H×W, row-major) as the columns of
// col ((c·KH·KW) × (OH·OW), rows ld elements apart): row (ci·KH + i)·KW + j holds, for every
// output position, the input value under kernel tap (i, j) of channel ci, or 0 where the tap
// reads padding. A convolution is then one GEMM of the [M, c·KH·KW] weight matrix with col.
// With ld = OH·OW the matrix is dense; with ld = N·OH·OW and col offset by n·OH·OW, the
// images of a batch fill the column blocks of one wide matrix.
func im2col[T Float](g *geom2D, x []T, c int, col []T, ld int) {
	im2colRows(g, x, c, col, ld, 0, g.OH)
}

// im2colRows is im2col for the output rows [oh0, oh1) only: col's columns are those rows'
// (oh1−oh0)·OW output positions. The convolution builds its column matrix a few rows at a
// time, so that each piece stays in the CPU's cache while the GEMM reads it.
func im2colRows[T Float](g *geom2D, x []T, c int, col []T, ld, oh0, oh1 int) {
	cols := (oh1 - oh0) * g.OW
	hw := g.H * g.W
	for ci := 0; ci < c; ci++ {
		plane := x[ci*hw : (ci+1)*hw]
		for i := 0; i < g.KH; i++ {
			offH := i*g.DH - g.PT
			hlo, hhi := tapRange(g.H, offH, g.SH, g.OH)
			hlo, hhi = min(max(hlo, oh0), oh1), max(min(hhi, oh1), oh0)
			for j := 0; j < g.KW; j++ {
				offW := j*g.DW - g.PL
				wlo, whi := tapRange(g.W, offW, g.SW, g.OW)
				row := col[((ci*g.KH+i)*g.KW+j)*ld:][:cols]
				if wlo == whi || hlo == hhi {
					// The tap reads padding for every output column (a dilated kernel wider than
					// the padded-out input, or rows outside this piece); wlo+offW may then be
					// negative.
					clear(row)
					continue
				}
				clear(row[:(hlo-oh0)*g.OW])
				clear(row[(hhi-oh0)*g.OW:])
				for oh := hlo; oh < hhi; oh++ {
					r := row[(oh-oh0)*g.OW : (oh-oh0+1)*g.OW]
					src := plane[(oh*g.SH+offH)*g.W:][:g.W]
					clear(r[:wlo])
					clear(r[whi:])
					if g.SW == 1 {
						copy(r[wlo:whi], src[wlo+offW:whi+offW])
						continue
					}
					for ow := wlo; ow < whi; ow++ {
						r[ow] = src[ow*g.SW+offW]
					}
				}
			}
		}
	}
}

// col2im is the adjoint of im2col (same layout, rows ld elements apart): it adds every entry
// of col back onto the input position it was read from (entries that came from padding are
// dropped). dx (c×H×W) is accumulated into, not overwritten.
func col2im[T Float](g *geom2D, col []T, c int, dx []T, ld int) {
	col2imRows(g, col, c, dx, ld, 0, g.OH)
}

// col2imRows is col2im for the output rows [oh0, oh1) only (col holds those rows' columns),
// the adjoint of im2colRows.
func col2imRows[T Float](g *geom2D, col []T, c int, dx []T, ld, oh0, oh1 int) {
	cols := (oh1 - oh0) * g.OW
	hw := g.H * g.W
	for ci := 0; ci < c; ci++ {
		plane := dx[ci*hw : (ci+1)*hw]
		for i := 0; i < g.KH; i++ {
			offH := i*g.DH - g.PT
			hlo, hhi := tapRange(g.H, offH, g.SH, g.OH)
			hlo, hhi = min(max(hlo, oh0), oh1), max(min(hhi, oh1), oh0)
			for j := 0; j < g.KW; j++ {
				offW := j*g.DW - g.PL
				wlo, whi := tapRange(g.W, offW, g.SW, g.OW)
				if wlo == whi {
					continue // only padding under this tap
				}
				row := col[((ci*g.KH+i)*g.KW+j)*ld:][:cols]
				for oh := hlo; oh < hhi; oh++ {
					r := row[(oh-oh0)*g.OW : (oh-oh0+1)*g.OW]
					dst := plane[(oh*g.SH+offH)*g.W:][:g.W]
					if g.SW == 1 {
						d := dst[wlo+offW : whi+offW]
						for k, v := range r[wlo:whi] {
							d[k] += v
						}
						continue
					}
					for ow := wlo; ow < whi; ow++ {
						dst[ow*g.SW+offW] += r[ow]
					}
				}
			}
		}
	}
}
