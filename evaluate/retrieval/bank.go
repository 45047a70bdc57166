package retrieval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/ssl4dp/ssl4dp/evaluate/features"
)

// Published defaults (see the package documentation).
const (
	DefaultK           = 30
	DefaultTemperature = 0.02
	DefaultBankSize    = 10_240_000
)

// Bank is the memory of train patches: normalised keys and label distributions.
type Bank struct {
	C, K   int       // feature channels, classes
	Keys   []float32 // [M,C], unit length
	Values []float32 // [M,K], each row sums to 1
}

// Len is the number of patches in the bank.
func (b *Bank) Len() int { return len(b.Keys) / max(b.C, 1) }

// usageError is a bad setting (CLI exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return "retrieval: " + e.msg }
func (e *usageError) ExitCode() int { return 2 }

func errorf(format string, args ...any) error { return fmt.Errorf("retrieval: "+format, args...) }

// NewBank builds the memory bank from a train split; size ≤ 0 keeps every patch.
func NewBank(train *features.Set, size int, seed uint64) (*Bank, error) {
	k, c := len(train.Classes), train.C
	if k == 0 || c == 0 || len(train.Images) == 0 {
		return nil, errorf("%s: no classes, channels or images for the memory bank", train.Data)
	}
	total := 0
	for _, im := range train.Images {
		total += im.H * im.W
	}
	perImage := -1 // all
	if size > 0 && size < total {
		perImage = size / len(train.Images)
		if perImage == 0 {
			return nil, &usageError{fmt.Sprintf("bank size %d is below one patch per train image (%d images); give a larger --bank-size", size, len(train.Images))}
		}
	}
	b := &Bank{C: c, K: k}
	for i := range train.Images {
		im := &train.Images[i]
		dist, labelled := patchLabels(im, k)
		cells := make([]int, 0, im.H*im.W)
		for q := range im.H * im.W {
			if labelled[q] {
				cells = append(cells, q)
			}
		}
		if perImage >= 0 && perImage < len(cells) {
			cells = sample(cells, dist, k, perImage, rand.New(rand.NewPCG(seed, uint64(i))))
		}
		hw := im.H * im.W
		for _, q := range cells {
			key := make([]float32, c)
			for ch := range c {
				key[ch] = im.Feat[ch*hw+q]
			}
			normalise(key)
			b.Keys = append(b.Keys, key...)
			b.Values = append(b.Values, dist[q*k:(q+1)*k]...)
		}
	}
	if b.Len() == 0 {
		return nil, errorf("%s: no train patch has a labelled pixel", train.Data)
	}
	return b, nil
}

// patchLabels returns each cell's class distribution [h·w, K] and whether it has any
// labelled pixel.
func patchLabels(im *features.Image, k int) (dist []float32, labelled []bool) {
	h, w, mh, mw := im.H, im.W, im.Mask.H, im.Mask.W
	counts := make([]int, h*w*k)
	for y := range mh {
		cy := y * h / mh
		for x := range mw {
			l := int(im.Mask.Pix[y*mw+x])
			if l >= k {
				continue // ignored
			}
			counts[(cy*w+x*w/mw)*k+l]++
		}
	}
	dist = make([]float32, h*w*k)
	labelled = make([]bool, h*w)
	for q := range h * w {
		n := 0
		for _, v := range counts[q*k : (q+1)*k] {
			n += v
		}
		if n == 0 {
			continue
		}
		labelled[q] = true
		for l, v := range counts[q*k : (q+1)*k] {
			dist[q*k+l] = float32(v) / float32(n)
		}
	}
	return dist, labelled
}

// sample keeps n of an image's cells the Hummingbird way: score = Σ over the cell's classes
// of how many cells of the image hold that class, times U(0,1); the n lowest scores win
// (ties to the lower cell), returned in cell order.
func sample(cells []int, dist []float32, k, n int, rng *rand.Rand) []int {
	freq := make([]int, k)
	for _, q := range cells {
		for l, v := range dist[q*k : (q+1)*k] {
			if v > 0 {
				freq[l]++
			}
		}
	}
	type scored struct {
		cell  int
		score float64
	}
	s := make([]scored, len(cells))
	for i, q := range cells {
		var sc float64
		for l, v := range dist[q*k : (q+1)*k] {
			if v > 0 {
				sc += float64(freq[l])
			}
		}
		s[i] = scored{q, sc * rng.Float64()}
	}
	slices.SortStableFunc(s, func(a, b scored) int {
		if a.score != b.score {
			if a.score < b.score {
				return -1
			}
			return 1
		}
		return a.cell - b.cell
	})
	out := make([]int, n)
	for i := range out {
		out[i] = s[i].cell
	}
	slices.Sort(out)
	return out
}

// normalise scales v to unit length (a zero vector stays zero: it is similar to nothing).
func normalise(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
}
