package data

import (
	"fmt"
	"math"
)

// Point is a location in source-image pixel coordinates.
type Point struct{ X, Y float64 }

// Grid is a feature map laid over a view: H×W cells of equal size covering the whole view
// (a 224-pixel view at output stride 16 is Grid{14, 14}). Cells are numbered row-major.
type Grid struct{ H, W int }

// CellCentres returns the source-image position of the centre of each cell of grid over the
// view g (row-major), for distance-based matching (PixPro).
func CellCentres(g Geometry, grid Grid) []Point {
	out := make([]Point, 0, grid.H*grid.W)
	for r := 0; r < grid.H; r++ {
		for c := 0; c < grid.W; c++ {
			x, y := g.ToSource((float64(c)+0.5)*float64(g.W)/float64(grid.W), (float64(r)+0.5)*float64(g.H)/float64(grid.H))
			out = append(out, Point{x, y})
		}
	}
	return out
}

// CellFootprint is the source rectangle that cell idx of grid over view g covers.
func CellFootprint(g Geometry, grid Grid, idx int) Box {
	r, c := idx/grid.W, idx%grid.W
	cw, ch := float64(g.W)/float64(grid.W), float64(g.H)/float64(grid.H)
	return g.BoxToSource(Box{float64(c) * cw, float64(r) * ch, float64(c+1) * cw, float64(r+1) * ch})
}

// CellMatch pairs the cells of two views of the same source image (PLMoCo's positives): for
// each cell of grid1 over view g1 (row-major), the index of the grid2 cell of view g2 that
// contains the first cell's centre, mapped through the source image; −1 where that centre
// is outside view 2 or outside the source image (a padded region).
func CellMatch(g1 Geometry, grid1 Grid, g2 Geometry, grid2 Grid) ([]int, error) {
	if g1.SrcW != g2.SrcW || g1.SrcH != g2.SrcH {
		return nil, fmt.Errorf("data: CellMatch: views come from sources of %dx%d and %dx%d; want the same image", g1.SrcW, g1.SrcH, g2.SrcW, g2.SrcH)
	}
	for _, gr := range []Grid{grid1, grid2} {
		if gr.H < 1 || gr.W < 1 {
			return nil, fmt.Errorf("data: CellMatch: grid %dx%d; want at least 1x1", gr.H, gr.W)
		}
	}
	src := Box{0, 0, float64(g1.SrcW), float64(g1.SrcH)}
	out := make([]int, grid1.H*grid1.W)
	for i, p := range CellCentres(g1, grid1) {
		out[i] = -1
		if !src.Contains(p.X, p.Y) {
			continue
		}
		u, v := g2.FromSource(p.X, p.Y)
		if u < 0 || u >= float64(g2.W) || v < 0 || v >= float64(g2.H) {
			continue
		}
		c := min(grid2.W-1, int(math.Floor(u*float64(grid2.W)/float64(g2.W))))
		r := min(grid2.H-1, int(math.Floor(v*float64(grid2.H)/float64(g2.H))))
		out[i] = r*grid2.W + c
	}
	return out, nil
}
