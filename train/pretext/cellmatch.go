package pretext

import (
	"github.com/ssl4dp/ssl4dp/data"
)

// matchLabels is PLMoCo's table of positives for a batch: for query cell c of image i (view
// 1, row i·h·w + c of the query cells), the row of the key cell (view 2) that covers the same
// source pixels — i·h·w + data.CellMatch's cell — or −1 when the query cell's centre is not
// in view 2 (the cell has no positive and adds nothing to the loss). Cells are only ever
// matched within one image.
func matchLabels(view1, view2 []data.Geometry, grid data.Grid) ([]float32, error) {
	if len(view1) != len(view2) {
		return nil, errorf("plmoco: %d view-1 geometries and %d view-2 ones, want one pair per image", len(view1), len(view2))
	}
	hw := grid.H * grid.W
	out := make([]float32, len(view1)*hw)
	for i := range view1 {
		m, err := data.CellMatch(view1[i], grid, view2[i], grid)
		if err != nil {
			return nil, errorf("plmoco: image %d: %w", i, err)
		}
		for c, k := range m {
			out[i*hw+c] = ignoreLabel
			if k >= 0 {
				out[i*hw+c] = float32(i*hw + k)
			}
		}
	}
	return out, nil
}
