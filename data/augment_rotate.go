package data

import (
	"fmt"
	"math/rand/v2"
)

// RotationRecord is what a PatchRotation did: K[i] is the number of 90° counter-clockwise
// turns of patch i (row-major over a Grid×Grid split of the view).
type RotationRecord struct {
	Grid int
	K    []int
}

func (r RotationRecord) String() string {
	return fmt.Sprintf("patch rotation grid %d turns %v", r.Grid, r.K)
}

// PatchRotation is PLR's pretext transform: the view is split into Grid×Grid square patches
// and each is turned by 0, 90, 180 or 270 degrees counter-clockwise, independently and
// uniformly. v.Rot receives the per-pixel class (turns, 0–3) the network must predict. The
// view must be square with a side divisible by Grid, so patches are square.
type PatchRotation struct{ Grid int }

func (s PatchRotation) Apply(v *View, rng *rand.Rand) (Record, error) {
	w, h := v.Image.W, v.Image.H
	if s.Grid < 1 || w != h || w%s.Grid != 0 {
		return nil, fmt.Errorf("data: PatchRotation: view %dx%d with grid %d; want a square view whose side is a multiple of the grid", w, h, s.Grid)
	}
	p := w / s.Grid
	rec := RotationRecord{Grid: s.Grid, K: make([]int, s.Grid*s.Grid)}
	v.Rot = NewMask(w, h, 0)
	tmp := make([]float32, p*p)
	for i := range rec.K {
		k := rng.IntN(4)
		rec.K[i] = k
		x0, y0 := (i%s.Grid)*p, (i/s.Grid)*p
		for c := 0; c < 3; c++ {
			rotatePatch(v.Image.Plane(c), w, x0, y0, p, k, tmp)
		}
		if v.Mask != nil {
			rotateMaskPatch(v.Mask, x0, y0, p, k)
		}
		for y := y0; y < y0+p; y++ {
			for x := x0; x < x0+p; x++ {
				v.Rot.Pix[y*w+x] = uint8(k)
			}
		}
	}
	return rec, nil
}

// rotSource returns which pixel of a p×p patch lands at (x, y) after k counter-clockwise
// quarter turns (numpy.rot90 / torch.rot90 with dims (H, W)): for k = 1,
// out[y][x] = in[x][p−1−y].
func rotSource(x, y, p, k int) (sx, sy int) {
	switch k & 3 {
	case 1:
		return p - 1 - y, x
	case 2:
		return p - 1 - x, p - 1 - y
	case 3:
		return y, p - 1 - x
	}
	return x, y
}

func rotatePatch(plane []float32, stride, x0, y0, p, k int, tmp []float32) {
	if k&3 == 0 {
		return
	}
	for y := 0; y < p; y++ {
		copy(tmp[y*p:(y+1)*p], plane[(y0+y)*stride+x0:])
	}
	for y := 0; y < p; y++ {
		for x := 0; x < p; x++ {
			sx, sy := rotSource(x, y, p, k)
			plane[(y0+y)*stride+x0+x] = tmp[sy*p+sx]
		}
	}
}

func rotateMaskPatch(m *Mask, x0, y0, p, k int) {
	if k&3 == 0 {
		return
	}
	tmp := make([]uint8, p*p)
	for y := 0; y < p; y++ {
		copy(tmp[y*p:(y+1)*p], m.Pix[(y0+y)*m.W+x0:])
	}
	for y := 0; y < p; y++ {
		for x := 0; x < p; x++ {
			sx, sy := rotSource(x, y, p, k)
			m.Pix[(y0+y)*m.W+x0+x] = tmp[sy*p+sx]
		}
	}
}
