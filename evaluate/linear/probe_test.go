package linear

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/evaluate/features"
)

// blockSet makes n images whose masks are made of f×f blocks of one label (with a few
// pixels ignored), and whose features at the block grid are given by feat(label).
func blockSet(n, k, gh, gw, f, c int, seed uint64, feat func(rng *rand.Rand, label int) []float32) *features.Set {
	rng := rand.New(rand.NewPCG(seed, 7))
	s := &features.Set{Data: "blocks", C: c}
	for i := range k {
		s.Classes = append(s.Classes, string(rune('a'+i)))
	}
	for i := range n {
		im := features.Image{ID: string(rune('A' + i)), H: gh, W: gw, Feat: make([]float32, c*gh*gw),
			Mask: data.Mask{W: gw * f, H: gh * f, Pix: make([]uint8, gw*f*gh*f)}}
		for y := range gh {
			for x := range gw {
				l := rng.IntN(k)
				if rng.IntN(3) == 0 {
					l = 0 // background is the majority class
				}
				for ch, v := range feat(rng, l) {
					im.Feat[(ch*gh+y)*gw+x] = v
				}
				for dy := range f {
					for dx := range f {
						im.Mask.Pix[(y*f+dy)*gw*f+x*f+dx] = uint8(l)
					}
				}
			}
		}
		im.Mask.Pix[0] = data.Ignore
		s.Images = append(s.Images, im)
	}
	return s
}

func oneHot(k int) func(*rand.Rand, int) []float32 {
	return func(_ *rand.Rand, l int) []float32 {
		v := make([]float32, k)
		v[l] = 1
		return v
	}
}

// Features that are the one-hot labels are linearly separable: the probe reaches 100 % mIoU,
// both when the features are at the mask's size and when they are 2× smaller and the logits
// are upsampled (under half_pixel bilinear upsampling by 2 a pixel reads 9/16 of its own
// cell's logits and at most 7/16 of any other class's, so the one-hot map survives; by 4 a
// corner pixel would read only 25/64 of its own cell).
func TestOneHotFeaturesScorePerfect(t *testing.T) {
	for _, f := range []int{1, 2} {
		train := blockSet(6, 4, 6, 5, f, 4, 1, oneHot(4))
		val := blockSet(3, 4, 6, 5, f, 4, 2, oneHot(4))
		p, err := Fit(context.Background(), train, TrainOptions{Seed: 1, Epochs: 60, Batch: 2})
		if err != nil {
			t.Fatal(err)
		}
		conf, err := p.Score(val)
		if err != nil {
			t.Fatal(err)
		}
		s := conf.Scores()
		if s.MIoU < 0.999 || s.PixelAcc < 0.999 {
			t.Errorf("block %d: mIoU %.4f pixel accuracy %.4f on one-hot features, want 1 (loss %.4f)", f, s.MIoU, s.PixelAcc, p.Loss)
		}
		if p.Loss > 0.2 {
			t.Errorf("block %d: train loss %.4f, want near 0", f, p.Loss)
		}
	}
}

// Constant features carry nothing: BatchNorm maps them to 0, only the biases learn, and they
// converge to the class prior, so every pixel is predicted as the majority class.
func TestConstantFeaturesPredictThePrior(t *testing.T) {
	constant := func(*rand.Rand, int) []float32 { return []float32{3, -1} }
	train := blockSet(6, 3, 4, 4, 2, 2, 3, constant)
	val := blockSet(3, 3, 4, 4, 2, 2, 4, constant)
	// the majority class of train
	counts := make([]int, 3)
	for _, im := range train.Images {
		for _, l := range im.Mask.Pix {
			if l < 3 {
				counts[l]++
			}
		}
	}
	major := slices.Index(counts, slices.Max(counts))
	p, err := Fit(context.Background(), train, TrainOptions{Seed: 1, Epochs: 50, Batch: 3})
	if err != nil {
		t.Fatal(err)
	}
	conf, err := p.Score(val)
	if err != nil {
		t.Fatal(err)
	}
	for l := range 3 {
		for q := range 3 {
			if q != major && conf.At(l, q) != 0 {
				t.Fatalf("class %d predicted for %d pixels; constant features must give the majority class %d everywhere (counts %v, biases %v)", q, conf.At(l, q), major, counts, p.B)
			}
		}
	}
	// The biases are the log prior up to a constant: softmax(b) ≈ class frequencies.
	var total float64
	for _, n := range counts {
		total += float64(n)
	}
	var z float64
	for _, b := range p.B {
		z += math.Exp(float64(b))
	}
	for l, b := range p.B {
		if got, want := math.Exp(float64(b))/z, float64(counts[l])/total; math.Abs(got-want) > 0.02 {
			t.Errorf("softmax(bias)[%d] = %.4f, class frequency %.4f", l, got, want)
		}
	}
}

// The gradient of one image's loss (through the bilinear upsampling) matches central
// finite differences of the loss.
func TestImageGradMatchesFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	noisy := func(r *rand.Rand, l int) []float32 {
		return []float32{float32(l) + float32(r.NormFloat64()), float32(r.NormFloat64()), 1 - float32(l)}
	}
	s := blockSet(1, 3, 3, 4, 3, 3, 6, noisy)
	p := &Probe{C: 3, K: 3, W: make([]float32, 9), B: make([]float32, 3)}
	p.Mean, p.Inv = channelStats(s)
	for i := range p.W {
		p.W[i] = float32(rng.NormFloat64() * 0.5)
	}
	im := &s.Images[0]
	x := p.normalise(im.Feat, im.H*im.W)
	g := make([]float32, 12)
	p.imageGrad(x, im, g)
	scratch := make([]float32, 12)
	lossAt := func() float64 { l, _ := p.imageGrad(x, im, scratch); return l }
	const eps = 1e-2
	for q := range 12 {
		var v *float32
		if q < 9 {
			v = &p.W[q]
		} else {
			v = &p.B[q-9]
		}
		old := *v
		*v = old + eps
		up := lossAt()
		*v = old - eps
		down := lossAt()
		*v = old
		fd := (up - down) / (2 * eps)
		if math.Abs(fd-float64(g[q])) > 2e-2*(1+math.Abs(fd)) {
			t.Errorf("parameter %d: gradient %.5f, finite differences %.5f", q, g[q], fd)
		}
	}
}

// The same seed gives the same bits with one CPU or two; another seed shuffles differently.
func TestDeterministicAcrossGOMAXPROCS(t *testing.T) {
	noisy := func(r *rand.Rand, l int) []float32 {
		return []float32{float32(l) + float32(r.NormFloat64()), float32(r.NormFloat64())}
	}
	train := blockSet(7, 3, 4, 4, 2, 2, 8, noisy)
	fit := func(procs int, seed uint64) *Probe {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		p, err := Fit(context.Background(), train, TrainOptions{Seed: seed, Epochs: 5, Batch: 3})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b, c := fit(1, 1), fit(2, 1), fit(2, 2)
	if !slices.Equal(a.W, b.W) || !slices.Equal(a.B, b.B) {
		t.Errorf("GOMAXPROCS 1 and 2 disagree: %v %v vs %v %v", a.W, a.B, b.W, b.B)
	}
	if slices.Equal(a.W, c.W) {
		t.Errorf("seeds 1 and 2 gave the same weights; the seed does not reach the image order")
	}
}
