package main

import (
	"fmt"
	"image/png"
	"io"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/data/viz"
	"github.com/ssl4dp/ssl4dp/internal/atomicfile"
)

// DataCmd looks at datasets the way training sees them.
type DataCmd struct {
	Preview DataPreviewCmd `cmd:"" help:"Draw a grid of augmented views with their masks, rotation labels or crop boxes."`
	Stats   DataStatsCmd   `cmd:"" help:"Print image counts and sizes, and class pixel frequencies."`
}

// dataFlags are the flags every data-reading command shares.
type dataFlags struct {
	Data    string `required:"" placeholder:"SPEC" help:"Dataset: voc:DIR, seg:DIR, folder:DIR, synthetic[:classes=K,size=S,n=N,val=M,seed=X,objects=O] or cutpaste:objects=DIR,backgrounds=DIR[,size=S,n=N,val=M,seed=X,max=K]."`
	Split   string `default:"train" help:"Split to read (train, val, or a VOC/seg list name)."`
	SkipBad bool   `name:"skip-bad" help:"Skip bad files with a warning instead of stopping."`
	MaxSide int    `name:"max-side" default:"1024" help:"folder: shrink larger images to this longer side when decoding (0 keeps them)."`
}

func (f dataFlags) open() (data.Dataset, error) {
	return data.Open(f.Data, data.Options{
		Split: f.Split, SkipBad: f.SkipBad, MaxSide: f.MaxSide,
		Warn: func(err error) { fmt.Fprintln(stderr, "ssl4dp: warning:", oneLine(err)) },
	})
}

// DataPreviewCmd writes a preview sheet.
type DataPreviewCmd struct {
	dataFlags
	Aug  string `default:"pretext" enum:"pretext,seg,plr" help:"Augmentation to show: pretext (MoCo v2 two views + cell matches), seg (scale/crop/flip with labels), plr (patch rotations)."`
	Out  string `short:"o" required:"" placeholder:"FILE.png" help:"PNG file to write."`
	N    int    `default:"6" help:"Rows (samples)."`
	Size int    `default:"64" help:"View side in pixels (seg: crop side)."`
	Tile int    `default:"160" help:"Tile side in the sheet."`
	Grid int    `default:"4" help:"pretext: cells per side for the match dots; plr: patches per side."`
	Seed uint64 `default:"1" help:"Augmentation seed."`
}

// Run draws the sheet and writes it atomically.
func (c *DataPreviewCmd) Run(*Globals) error {
	ds, err := c.open()
	if err != nil {
		return err
	}
	img, err := viz.Preview(ds, c.Aug, viz.Options{N: c.N, Size: c.Size, Tile: c.Tile, Grid: c.Grid, Seed: c.Seed})
	if err != nil {
		return err
	}
	if err := atomicfile.Write(c.Out, 0o644, func(w io.Writer) error { return png.Encode(w, img) }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d rows of %s\ncolumns: %s\n", c.Out, min(c.N, ds.Len()), ds.Name(), viz.Kinds[c.Aug])
	if n := data.Skipped(ds); n > 0 {
		fmt.Fprintf(stdout, "%d bad files skipped\n", n)
	}
	return nil
}

// DataStatsCmd prints a dataset summary.
type DataStatsCmd struct {
	dataFlags
	Limit int `default:"0" help:"Read at most this many images, spread over the split (0: all)."`
}

// Run reads the split and prints the summary.
func (c *DataStatsCmd) Run(*Globals) error {
	ds, err := c.open()
	if err != nil {
		return err
	}
	s, err := data.Stats(ds, c.Limit)
	if err != nil {
		return err
	}
	return s.Write(stdout)
}
