package data

import (
	"fmt"
	"image/color"
)

// Synthetic scene parameters (spec keys) and their defaults: sized for training on two CPU
// cores, and learnable only from shape, because colours and textures are drawn
// independently of the class.
const (
	SyntheticClasses = 6    // background + disc, square, triangle, ring, cross
	SyntheticSize    = 64   // image side in pixels
	SyntheticTrain   = 2048 // images in the train split (n=)
	SyntheticVal     = 256  // images in the val split (val=)
	SyntheticObjects = 4    // at most this many shapes per image (objects=)
)

// ShapeNames are the synthetic classes by label; classes=K uses the first K.
var ShapeNames = []string{"background", "disc", "square", "triangle", "ring", "cross", "star", "crescent"}

type synthetic struct {
	name    string
	classes int
	size    int
	n       int
	objects int
	seed    uint64
	split   uint64 // 0 train, 1 val: separate streams of scenes
}

func openSynthetic(rest string, opts Options) (Dataset, error) {
	spec := "synthetic:" + rest
	p, err := parseParams(spec, rest, "classes", "size", "n", "val", "seed", "objects")
	if err != nil {
		return nil, err
	}
	s := &synthetic{}
	if s.classes, err = p.int("classes", SyntheticClasses, 2, len(ShapeNames)); err != nil {
		return nil, err
	}
	if s.size, err = p.int("size", SyntheticSize, 16, 4096); err != nil {
		return nil, err
	}
	nTrain, err := p.int("n", SyntheticTrain, 1, 1<<30)
	if err != nil {
		return nil, err
	}
	nVal, err := p.int("val", SyntheticVal, 1, 1<<30)
	if err != nil {
		return nil, err
	}
	if s.objects, err = p.int("objects", SyntheticObjects, 1, 64); err != nil {
		return nil, err
	}
	if s.seed, err = p.uint64("seed", 1); err != nil {
		return nil, err
	}
	switch opts.split() {
	case "train":
		s.n = nTrain
	case "val":
		s.n, s.split = nVal, 1
	default:
		return nil, specErr(spec, "split %q; want train or val", opts.Split)
	}
	s.name = fmt.Sprintf("synthetic:classes=%d,size=%d,n=%d,val=%d,seed=%d,objects=%d (%s)",
		s.classes, s.size, nTrain, nVal, s.seed, s.objects, opts.split())
	return s, nil
}

func (s *synthetic) Name() string          { return s.name }
func (s *synthetic) Len() int              { return s.n }
func (s *synthetic) Classes() []string     { return ShapeNames[:s.classes] }
func (s *synthetic) Palette() []color.RGBA { return VOCPalette(s.classes) }

func (s *synthetic) Load(i int) (Sample, error) {
	if i < 0 || i >= s.n {
		return Sample{}, fmt.Errorf("data: %s: index %d outside [0,%d)", s.name, i, s.n)
	}
	rng := NewRNG(s.seed, 0x5c3e, s.split, uint64(i))
	img, m := renderScene(rng, s.size, s.classes, s.objects)
	return Sample{ID: fmt.Sprintf("synthetic/%s/%d", []string{"train", "val"}[s.split], i), Image: img, Mask: m}, nil
}
