package viz

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/data"
)

func TestPreview(t *testing.T) {
	ds, err := data.Open("synthetic:n=10,size=48", data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{N: 3, Size: 32, Tile: 64, Grid: 4, Seed: 1}
	for kind := range Kinds {
		a, err := Preview(ds, kind, o)
		if err != nil {
			t.Fatal(kind, err)
		}
		if w, h := a.Rect.Dx(), a.Rect.Dy(); w != 3*(64+4)+4 || h != 3*(64+4)+4 {
			t.Fatalf("%s: sheet %dx%d", kind, w, h)
		}
		b, _ := Preview(ds, kind, o)
		o2 := o
		o2.Seed = 2
		c, _ := Preview(ds, kind, o2)
		if !bytes.Equal(a.Pix, b.Pix) || bytes.Equal(a.Pix, c.Pix) {
			t.Fatalf("%s: previews not determined by the seed", kind)
		}
	}
	if _, err := Preview(ds, "rotnet", o); err == nil || !strings.Contains(err.Error(), "rotnet") {
		t.Fatalf("unknown kind: %v", err)
	}
	o.Grid = 5 // 32 is not a multiple of 5: PLR must refuse
	if _, err := Preview(ds, "plr", o); err == nil {
		t.Fatal("PLR grid 5 on 32-pixel views: no error")
	}
}

// TestTileMapsCoordinates: a dot drawn at a source point lands at that point scaled into
// the tile, for an image smaller and one larger than the tile.
func TestTileMapsCoordinates(t *testing.T) {
	for _, side := range []int{20, 300} {
		tile := Fit(data.NewImage(side, side/2), 100)
		tile.Dot(float64(side)/4, float64(side)/4, 0, red)
		x, y := 25, 25+tile.Off.Y
		if c := tile.Img.RGBAAt(x, y); c != red {
			t.Fatalf("side %d: pixel (%d,%d) = %v, want the dot", side, x, y, c)
		}
	}
}
