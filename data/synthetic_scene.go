package data

import (
	"math"
	"math/rand/v2"
)

// renderScene paints a textured background and 1..maxObjects textured shapes in order (later
// shapes occlude earlier ones). The mask is exact: each pixel's label is the family of the
// top-most shape containing the pixel centre, else 0. Edges are hard (no anti-aliasing) so
// image and mask agree pixel for pixel.
func renderScene(rng *rand.Rand, size, classes, maxObjects int) (*Image, *Mask) {
	img := NewImage(size, size)
	m := NewMask(size, size, 0)
	bg := randomTexture(rng, size, nil)
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			r, g, b := bg.at(float64(x)+0.5, float64(y)+0.5)
			img.Set(x, y, r, g, b)
		}
	}
	nObj := 1 + rng.IntN(maxObjects)
	for k := 0; k < nObj; k++ {
		paintShape(rng, img, m, 1+rng.IntN(classes-1), &bg)
	}
	// Sensor-like noise, so flat regions are not exactly flat.
	for i := range img.Pix {
		img.Pix[i] = min(255, max(0, img.Pix[i]+float32(uniform(rng, -8, 8))))
	}
	return img, m
}

// paintShape draws one shape of the given family: radius 15–33% of the side, anywhere
// (possibly cut by the border), rotated, stretched by up to 1.25 along one axis.
func paintShape(rng *rand.Rand, img *Image, m *Mask, family int, bg *texture) {
	size := float64(img.W)
	r := size * uniform(rng, 0.15, 0.33)
	cx, cy := uniform(rng, 0, size), uniform(rng, 0, size)
	theta := uniform(rng, 0, 2*math.Pi)
	stretch := uniform(rng, 0.8, 1.25)
	rx, ry := r*stretch, r/stretch
	tex := randomTexture(rng, img.W, bg)
	cos, sin := math.Cos(theta), math.Sin(theta)
	ext := 1.3 * max(rx, ry)
	x0, x1 := max(0, int(cx-ext)), min(img.W, int(cx+ext)+1)
	y0, y1 := max(0, int(cy-ext)), min(img.H, int(cy+ext)+1)
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			lx := (cos*dx + sin*dy) / rx
			ly := (-sin*dx + cos*dy) / ry
			if !insideShape(family, lx, ly) {
				continue
			}
			cr, cg, cb := tex.at(float64(x)+0.5, float64(y)+0.5)
			img.Set(x, y, cr, cg, cb)
			m.Pix[y*m.W+x] = uint8(family)
		}
	}
}

// insideShape tests a point in shape-local units (the shape's circumradius is 1).
func insideShape(family int, x, y float64) bool {
	rho2 := x*x + y*y
	switch family {
	case 1: // disc
		return rho2 <= 1
	case 2: // square
		return math.Abs(x) <= 0.8 && math.Abs(y) <= 0.8
	case 3: // equilateral triangle
		return y >= -0.5 && math.Sqrt(3)*x+y <= 1 && -math.Sqrt(3)*x+y <= 1
	case 4: // ring
		return rho2 <= 1 && rho2 >= 0.55*0.55
	case 5: // cross
		return (math.Abs(x) <= 0.3 && math.Abs(y) <= 1) || (math.Abs(y) <= 0.3 && math.Abs(x) <= 1)
	case 6: // five-pointed star
		return insidePolygon(starPolygon, x, y)
	case 7: // crescent: a disc less an offset disc
		return rho2 <= 1 && (x-0.5)*(x-0.5)+y*y > 0.8*0.8
	}
	return false
}

// starPolygon has outer radius 1 and inner radius 0.45.
var starPolygon = func() [][2]float64 {
	var p [][2]float64
	for k := 0; k < 10; k++ {
		r := 1.0
		if k%2 == 1 {
			r = 0.45
		}
		a := math.Pi/2 + float64(k)*math.Pi/5
		p = append(p, [2]float64{r * math.Cos(a), r * math.Sin(a)})
	}
	return p
}()

// insidePolygon is the even-odd ray-casting test.
func insidePolygon(p [][2]float64, x, y float64) bool {
	in := false
	for i, j := 0, len(p)-1; i < len(p); j, i = i, i+1 {
		xi, yi, xj, yj := p[i][0], p[i][1], p[j][0], p[j][1]
		if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}

// texture is a procedural RGB pattern of two colours.
type texture struct {
	kind          int // 0 flat, 1 gradient, 2 stripes, 3 checker, 4 dots, 5 blotches
	c1, c2        [3]float32
	cos, sin      float64 // pattern direction
	period, phase float64 // in pixels
	grid          []float64
	gridN         int
	size          float64
}

// randomTexture draws a texture; when avoid is given (the background), colours are redrawn
// until the mean colours differ clearly, so no shape is invisible.
func randomTexture(rng *rand.Rand, size int, avoid *texture) texture {
	a := uniform(rng, 0, 2*math.Pi)
	t := texture{
		kind: rng.IntN(6), cos: math.Cos(a), sin: math.Sin(a),
		period: uniform(rng, 3, 12), phase: uniform(rng, 0, 12), size: float64(size),
	}
	for try := 0; ; try++ {
		t.c1, t.c2 = randomColour(rng), randomColour(rng)
		if avoid == nil || try == 50 || colourDist(t.mean(), avoid.mean()) > 80 {
			break
		}
	}
	if t.kind == 5 {
		t.gridN = 5
		t.grid = make([]float64, t.gridN*t.gridN)
		for i := range t.grid {
			t.grid[i] = rng.Float64()
		}
	}
	return t
}

func (t *texture) mean() [3]float32 {
	if t.kind == 0 {
		return t.c1
	}
	return [3]float32{(t.c1[0] + t.c2[0]) / 2, (t.c1[1] + t.c2[1]) / 2, (t.c1[2] + t.c2[2]) / 2}
}

// at returns the colour at image point (x, y).
func (t *texture) at(x, y float64) (float32, float32, float32) {
	u := t.cos*x + t.sin*y
	v := -t.sin*x + t.cos*y
	var w float64 // weight of c2
	switch t.kind {
	case 1:
		w = min(1, max(0, u/t.size+0.5))
	case 2:
		if math.Sin(2*math.Pi*(u+t.phase)/t.period) > 0 {
			w = 1
		}
	case 3:
		if (int(math.Floor((u+t.phase)/t.period))+int(math.Floor(v/t.period)))&1 == 1 {
			w = 1
		}
	case 4:
		p := t.period + 2
		fu, fv := math.Mod(u+t.phase+1000*p, p)-p/2, math.Mod(v+1000*p, p)-p/2
		if fu*fu+fv*fv < p*p*0.09 {
			w = 1
		}
	case 5:
		w = t.blotch(x, y)
	}
	lerp := func(a, b float32) float32 { return a + float32(w)*(b-a) }
	return lerp(t.c1[0], t.c2[0]), lerp(t.c1[1], t.c2[1]), lerp(t.c1[2], t.c2[2])
}

// blotch is value noise: a coarse random grid interpolated bilinearly over the image.
func (t *texture) blotch(x, y float64) float64 {
	n := t.gridN
	gx := min(float64(n-1)-1e-9, max(0, x/t.size*float64(n-1)))
	gy := min(float64(n-1)-1e-9, max(0, y/t.size*float64(n-1)))
	ix, iy := int(gx), int(gy)
	fx, fy := gx-float64(ix), gy-float64(iy)
	g := func(i, j int) float64 { return t.grid[j*n+i] }
	top := g(ix, iy)*(1-fx) + g(ix+1, iy)*fx
	bot := g(ix, iy+1)*(1-fx) + g(ix+1, iy+1)*fx
	return top*(1-fy) + bot*fy
}

// randomColour draws from HSV with saturation and value kept away from zero.
func randomColour(rng *rand.Rand) [3]float32 {
	h, s, v := rng.Float64(), uniform(rng, 0.15, 1), uniform(rng, 0.2, 1)
	r, g, b := hsvToRGB(float32(h), float32(s), float32(v))
	return [3]float32{255 * r, 255 * g, 255 * b}
}

func colourDist(a, b [3]float32) float64 {
	var d float64
	for i := range a {
		d += float64(a[i]-b[i]) * float64(a[i]-b[i])
	}
	return math.Sqrt(d)
}
