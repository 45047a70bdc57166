// Command oriented_images writes train/pretext's "oriented" test images (light from above,
// three rectangles, an upright L; the recipe of driver_test.go, with a 6-pixel stroke at 64
// pixels) as PNGs: images that have an up, for a PLR run through the CLI (docs/methods.md,
// "Monitors on the built-in synthetic data"): go run ./scripts/oriented_images DIR
package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
)

func main() {
	const n, s = 512, 64
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./scripts/oriented_images DIR  (writes DIR/0000.png … 0511.png, 64×64)")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for i := 0; i < n; i++ {
		r := rand.New(rand.NewPCG(uint64(i), 7))
		img := image.NewRGBA(image.Rect(0, 0, s, s))
		var c0, c1 [3]float32
		for c := range c0 {
			c0[c], c1[c] = 150+105*r.Float32(), 100*r.Float32()
		}
		a := math.Pi/2 + (r.Float64()-0.5)*math.Pi*2/9
		dx, dy := math.Cos(a), math.Sin(a)
		set := func(x, y int, col [3]float32) {
			img.Set(x, y, color.RGBA{uint8(col[0]), uint8(col[1]), uint8(col[2]), 255})
		}
		fill := func(x0, y0, x1, y1 int, col [3]float32) {
			for y := max(y0, 0); y < min(y1, s); y++ {
				for x := max(x0, 0); x < min(x1, s); x++ {
					set(x, y, col)
				}
			}
		}
		for y := 0; y < s; y++ {
			for x := 0; x < s; x++ {
				t := float32(0.5 + ((float64(x)-float64(s)/2)*dx+(float64(y)-float64(s)/2)*dy)/float64(s))
				t = min(max(t, 0), 1)
				var col [3]float32
				for c := 0; c < 3; c++ {
					col[c] = c0[c]*(1-t) + c1[c]*t
				}
				set(x, y, col)
			}
		}
		randCol := func() [3]float32 { return [3]float32{255 * r.Float32(), 255 * r.Float32(), 255 * r.Float32()} }
		for k := 0; k < 3; k++ {
			x, y, w, h := r.IntN(s), r.IntN(s), 4+r.IntN(s/3), 4+r.IntN(s/3)
			fill(x, y, x+w, y+h, randCol())
		}
		x, y, l := r.IntN(s/2), r.IntN(s/2), s/3+r.IntN(s/4)
		col := randCol()
		fill(x, y, x+6, y+l, col)
		fill(x, y+l-6, x+l*2/3, y+l, col)
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%04d.png", i)))
		if err == nil {
			err = png.Encode(f, img)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
