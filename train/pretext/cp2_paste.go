package pretext

import (
	"math"
	"math/rand/v2"

	"github.com/ssl4dp/ssl4dp/data"
)

// CP2's copy-paste (wangf3014/CP2 main.py): each view of an image (the foreground) is
// pasted into a rectangle of another image's view (the background). The rectangle is drawn
// as torchvision's RandomErasing(p 1, scale (0.5, 0.8), ratio (0.8, 1.25)) draws the erased
// block of the background, and the foreground keeps its own pixels there (it is not
// resized): image = fg·mask + bg·(1 − mask). The query and the key view each get their own
// background and rectangle, so the shared foreground sits at different places and scales
// (its two views are independent crops). Everything here is drawn from (seed, step), so a
// resumed run pastes exactly what an uninterrupted one would.

// randPaste is the purpose of the per-step random source of the pastes (stepRand); far from
// keynet.go's small constants so that other methods' additions do not collide with it.
const randPaste uint64 = 0xc92

// box is a rectangle of a view, rows y0 ≤ y < y0+h, columns x0 ≤ x < x0+w; h = 0 is empty.
type box struct{ y0, x0, h, w int }

func (b box) contains(y, x int) bool {
	return y >= b.y0 && y < b.y0+b.h && x >= b.x0 && x < b.x0+b.w
}

// pasteBox draws RandomErasing's rectangle on a size×size view (torchvision
// transforms.RandomErasing.get_params): up to 10 tries of an area fraction uniform in scale
// and a log-uniform aspect ratio h/w in ratio, each kept if it fits strictly inside; after
// 10 misses the view is left as it is (an empty box: no foreground).
func pasteBox(r *rand.Rand, size int, scale, ratio [2]float64) box {
	area := float64(size * size)
	lo, hi := math.Log(ratio[0]), math.Log(ratio[1])
	for range 10 {
		a := area * (scale[0] + r.Float64()*(scale[1]-scale[0]))
		aspect := math.Exp(lo + r.Float64()*(hi-lo))
		h := int(math.Round(math.Sqrt(a * aspect)))
		w := int(math.Round(math.Sqrt(a / aspect)))
		if h < 1 || w < 1 || h >= size || w >= size {
			continue
		}
		return box{y0: r.IntN(size - h + 1), x0: r.IntN(size - w + 1), h: h, w: w}
	}
	return box{}
}

// pastePlan is one step's pastes: for view v (0 query, 1 key) of image i, the background is
// view v of image (i + shift[v]) mod n (never image i itself), pasted around box[v][i].
type pastePlan struct {
	shift [2]int
	boxes [2][]box
}

// planPastes draws a step's pastes for a batch of n ≥ 2 images of size×size views.
func planPastes(seed int64, step, n, size int, scale, ratio [2]float64) pastePlan {
	r := stepRand(seed, step, randPaste)
	var p pastePlan
	for v := range p.shift {
		p.shift[v] = 1 + r.IntN(n-1)
	}
	for v := range p.boxes {
		p.boxes[v] = make([]box, n)
		for i := range p.boxes[v] {
			p.boxes[v][i] = pasteBox(r, size, scale, ratio)
		}
	}
	return p
}

// compose writes view v's pasted images [n, 3, size, size] into a new slice: fg is the batch's
// foreground view v, bg its background view v (both normalised, as the loader gives them).
func (p pastePlan) compose(v int, fg, bg []float32, n, size int) []float32 {
	out := make([]float32, len(fg))
	plane := size * size
	for i := 0; i < n; i++ {
		b, j := p.boxes[v][i], (i+p.shift[v])%n
		for c := 0; c < 3; c++ {
			src := fg[(i*3+c)*plane : (i*3+c+1)*plane]
			back := bg[(j*3+c)*plane : (j*3+c+1)*plane]
			dst := out[(i*3+c)*plane : (i*3+c+1)*plane]
			for y := 0; y < size; y++ {
				for x := 0; x < size; x++ {
					k := y*size + x
					if b.contains(y, x) {
						dst[k] = src[k]
					} else {
						dst[k] = back[k]
					}
				}
			}
		}
	}
	return out
}

// cellMask is view v's foreground mask on the h×w dense map, [n, h·w]: 1 where the pasted
// box holds the centre pixel of a cell. CP2 samples its 224-pixel mask at [8::16], the
// centres of the 14×14 cells; a cell r of h on a size-pixel side has its centre at pixel
// ⌊(2r+1)·size/(2h)⌋.
func (p pastePlan) cellMask(v, n, size int, g data.Grid) []float32 {
	m := make([]float32, n*g.H*g.W)
	for i := 0; i < n; i++ {
		b := p.boxes[v][i]
		for r := 0; r < g.H; r++ {
			py := (2*r + 1) * size / (2 * g.H)
			for c := 0; c < g.W; c++ {
				if b.contains(py, (2*c+1)*size/(2*g.W)) {
					m[(i*g.H+r)*g.W+c] = 1
				}
			}
		}
	}
	return m
}
