package data_test

import (
	"fmt"

	"github.com/ssl4dp/ssl4dp/data"
)

// Batches for segmentation fine-tuning from the built-in synthetic scenes.
func Example() {
	ds, err := data.Open("synthetic:n=32", data.Options{})
	if err != nil {
		panic(err)
	}
	l, err := data.NewLoader(ds, data.DefaultSegTrain(64), data.LoaderConfig{Batch: 8, Seed: 1, Shuffle: true, DropLast: true})
	if err != nil {
		panic(err)
	}
	defer l.Close()
	b, err := l.Next()
	if err != nil {
		panic(err)
	}
	fmt.Println(ds.Classes())
	fmt.Println("images", b.Views[0].Shape, "labels", b.Labels.Shape, "resume at", b.Next)
	// Output:
	// [background disc square triangle ring cross]
	// images [8 3 64 64] labels [8 64 64] resume at {0 8}
}

// Two views of a 100×100 image: view 1 is the whole image, view 2 its right half, mirrored.
// Each cell of view 1's 2×4 grid is matched to the view-2 cell (2×2 grid) that covers its
// centre; the left half of view 1 is not in view 2.
func ExampleCellMatch() {
	v1 := data.FromBox(data.Box{X0: 0, Y0: 0, X1: 100, Y1: 100}, false, 64, 64, 100, 100)
	v2 := data.FromBox(data.Box{X0: 50, Y0: 0, X1: 100, Y1: 100}, true, 32, 64, 100, 100)
	m, err := data.CellMatch(v1, data.Grid{H: 2, W: 4}, v2, data.Grid{H: 2, W: 2})
	if err != nil {
		panic(err)
	}
	fmt.Println(m)
	fmt.Println(data.CellCentres(v2, data.Grid{H: 2, W: 2})[0]) // view 2's top-left cell, in the source
	// Output:
	// [-1 -1 1 0 -1 -1 3 2]
	// {87.5 25}
}
