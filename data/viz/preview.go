package viz

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"

	"github.com/ssl4dp/ssl4dp/data"
)

// Options size a preview.
type Options struct {
	N    int    // rows (samples), spread evenly over the dataset
	Size int    // view side for pretext and PLR views, crop side for seg
	Tile int    // tile side in the sheet
	Grid int    // pretext: cells per side for the matching dots; PLR: patches per side
	Seed uint64 // augmentation seed
}

// Kinds are the augmentations Preview can show, with what each row holds.
var Kinds = map[string]string{
	"pretext": "source with view 1 (red) and view 2 (blue) crop boxes, the thick bar on each box's view-left edge (on the right when flipped) | view 1 with dots on its cell centres | view 2 with the same-coloured dot on the matched cell (CellMatch)",
	"seg":     "source with its mask | augmented crop (scale, pad, flip) | the crop with its label map (ignore in cream)",
	"plr":     "source with the crop box | view with rotated patches | view with turn labels (0 clear, 90 red, 180 green, 270 blue)",
}

var (
	red  = color.RGBA{230, 30, 30, 255}
	blue = color.RGBA{30, 90, 255, 255}
)

// Preview draws opts.N rows of augmented samples of ds; kind is a key of Kinds.
func Preview(ds data.Dataset, kind string, o Options) (*image.RGBA, error) {
	if _, ok := Kinds[kind]; !ok {
		return nil, fmt.Errorf("viz: augmentation %q; want pretext, seg or plr", kind)
	}
	if kind == "seg" && !data.Labelled(ds) {
		return nil, fmt.Errorf("viz: %s has no masks; seg previews need a labelled dataset", ds.Name())
	}
	if o.N < 1 || o.Size < 8 || o.Tile < 16 || o.Grid < 1 {
		return nil, fmt.Errorf("viz: options %+v; want N ≥ 1, Size ≥ 8, Tile ≥ 16, Grid ≥ 1", o)
	}
	var rows [][]*Tile
	for r := 0; r < min(o.N, ds.Len()); r++ {
		idx := r * ds.Len() / min(o.N, ds.Len())
		s, err := ds.Load(idx)
		if err != nil {
			return nil, err
		}
		rng := data.NewRNG(o.Seed, 0, uint64(idx)) // the loader's RNG for epoch 0
		var row []*Tile
		switch kind {
		case "pretext":
			row, err = pretextRow(s, rng, o)
		case "seg":
			row, err = segRow(s, ds.Palette(), rng, o)
		case "plr":
			row, err = plrRow(s, rng, o)
		}
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return Sheet(rows, o.Tile, 4), nil
}

func pretextRow(s data.Sample, rng *rand.Rand, o Options) ([]*Tile, error) {
	it, err := data.MoCoV2(o.Size).Item(s, rng)
	if err != nil {
		return nil, err
	}
	a, b := it.Views[0], it.Views[1]
	src := Fit(s.Image, o.Tile)
	for i, v := range []*data.View{a, b} {
		left, _ := v.Geom.ToSource(0, 0)
		src.Box(v.Geom.Box(), []color.RGBA{red, blue}[i], left)
	}
	ta, tb := Fit(data.Denormalize(a), o.Tile), Fit(data.Denormalize(b), o.Tile)
	grid := data.Grid{H: o.Grid, W: o.Grid}
	match, err := data.CellMatch(a.Geom, grid, b.Geom, grid)
	if err != nil {
		return nil, err
	}
	cols := Distinct(o.Grid * o.Grid)
	cw, ch := float64(o.Size)/float64(o.Grid), float64(o.Size)/float64(o.Grid)
	for i, j := range match {
		if j < 0 {
			continue
		}
		ta.Dot((float64(i%o.Grid)+0.5)*cw, (float64(i/o.Grid)+0.5)*ch, 2, cols[i])
		// In view 2, the dot goes where view 1's cell centre lands, inside cell j.
		x, y := a.Geom.ToSource((float64(i%o.Grid)+0.5)*cw, (float64(i/o.Grid)+0.5)*ch)
		u, v := b.Geom.FromSource(x, y)
		tb.Dot(u, v, 2, cols[i])
	}
	return []*Tile{src, ta, tb}, nil
}

func segRow(s data.Sample, pal []color.RGBA, rng *rand.Rand, o Options) ([]*Tile, error) {
	src := Fit(s.Image, o.Tile)
	src.Overlay(s.Mask, pal, 0.5, true)
	it, err := data.DefaultSegTrain(o.Size).Item(s, rng)
	if err != nil {
		return nil, err
	}
	v := it.Views[0]
	plain := Fit(data.Denormalize(v), o.Tile)
	lab := Fit(data.Denormalize(v), o.Tile)
	lab.Overlay(it.Labels, pal, 0.55, true)
	left, _ := v.Geom.ToSource(0, 0)
	src.Box(clip(v.Geom.Box(), s.Image), red, left)
	return []*Tile{src, plain, lab}, nil
}

// clip keeps a (possibly padded) crop box inside the image for drawing.
func clip(b data.Box, img *data.Image) data.Box {
	return data.Box{X0: math.Max(0, b.X0), Y0: math.Max(0, b.Y0), X1: math.Min(float64(img.W), b.X1), Y1: math.Min(float64(img.H), b.Y1)}
}

var turnColours = []color.RGBA{{0, 0, 0, 255}, {230, 30, 30, 255}, {30, 200, 30, 255}, {30, 90, 255, 255}}

func plrRow(s data.Sample, rng *rand.Rand, o Options) ([]*Tile, error) {
	t := data.DefaultPLR(o.Size)
	t.Grid = o.Grid
	it, err := t.Item(s, rng)
	if err != nil {
		return nil, err
	}
	v := it.Views[0]
	src := Fit(s.Image, o.Tile)
	left, _ := v.Geom.ToSource(0, 0)
	src.Box(v.Geom.Box(), red, left)
	plain := Fit(data.Denormalize(v), o.Tile)
	plain.GridLines(o.Grid, color.RGBA{255, 255, 255, 255})
	lab := Fit(data.Denormalize(v), o.Tile)
	lab.Overlay(it.Labels, turnColours, 0.45, true)
	lab.GridLines(o.Grid, color.RGBA{255, 255, 255, 255})
	return []*Tile{src, plain, lab}, nil
}
