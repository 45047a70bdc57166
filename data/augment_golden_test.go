package data

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// golden is data/testdata/photometric.json, written by testdata/gen_golden.py from
// torchvision 0.14 / torch 1.13.
type golden struct {
	Torch      string    `json:"torch"`
	InputShape []int     `json:"input_shape"`
	Input      []float32 `json:"input"`
	Cases      []struct {
		Name   string             `json:"name"`
		Params map[string]float64 `json:"params"`
		Shape  []int              `json:"shape"`
		Out    []float32          `json:"out"`
	} `json:"cases"`
}

// TestPhotometricMatchesTorchvision runs each adjust function, blur and resize on the golden
// input (scaled to 0–255) and compares with torchvision's output.
func TestPhotometricMatchesTorchvision(t *testing.T) {
	b, err := os.ReadFile("testdata/photometric.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	in := &Image{W: g.InputShape[2], H: g.InputShape[1], Pix: make([]float32, len(g.Input))}
	for i, v := range g.Input {
		in.Pix[i] = 255 * v
	}
	for _, c := range g.Cases {
		img := in.Clone()
		p := c.Params
		switch c.Name {
		case "brightness":
			AdjustBrightness(img, p["factor"])
		case "contrast":
			AdjustContrast(img, p["factor"])
		case "saturation":
			AdjustSaturation(img, p["factor"])
		case "hue":
			AdjustHue(img, p["factor"])
		case "grayscale":
			Grayscale(img)
		case "blur":
			GaussianBlurImage(img, p["sigma"], int(p["kernel"]))
		case "solarize":
			v := &View{Image: img}
			if _, err := (Solarize{P: 1, Threshold: 255 * p["threshold"]}).Apply(v, NewRNG(0)); err != nil {
				t.Fatal(err)
			}
		case "resize":
			img = ResizeImage(img, int(p["w"]), int(p["h"]))
		default:
			t.Fatalf("unknown golden case %q", c.Name)
		}
		if img.W != c.Shape[2] || img.H != c.Shape[1] {
			t.Fatalf("%s %v: got %dx%d, want %dx%d", c.Name, p, img.W, img.H, c.Shape[2], c.Shape[1])
		}
		var worst float64
		at := 0
		for i, want := range c.Out {
			if d := math.Abs(float64(img.Pix[i]/255 - want)); d > worst {
				worst, at = d, i
			}
		}
		// float32 arithmetic in a different order than PyTorch's: 2e-5 of full scale.
		if worst > 2e-5 {
			t.Errorf("%s %v: max |diff| %.2e at %d (got %.6f, torchvision %.6f)", c.Name, p, worst, at, img.Pix[at]/255, c.Out[at])
		}
	}
}
