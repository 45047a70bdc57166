package data

import (
	"fmt"
	"image"
	"image/color"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Cut-paste defaults (spec keys size, n, val, objects).
const (
	CutPasteSize    = 96
	CutPasteTrain   = 2000
	CutPasteVal     = 200
	CutPasteObjects = 3
)

// cutPaste composes scenes from RGBA cut-outs (objects=DIR/<category>/**/*.png; the alpha
// channel is the mask, the category folder the class) pasted on photos
// (backgrounds=DIR/**/*.{jpg,png}). Every scene is a pure function of (seed, split, index).
//
// Split: within each category, and among the backgrounds, every fifth file (sorted by path)
// is held out for val when there are at least three; smaller groups serve both splits.
type cutPaste struct {
	badFiles
	name    string
	size    int
	n       int
	objects int
	seed    uint64
	split   uint64
	classes []string
	objs    [][]*cached // per category (class id − 1)
	bgs     []*cached
}

// cached is a file decoded once, on first use, shrunk to at most maxSide.
type cached struct {
	path    string
	maxSide int
	once    sync.Once
	img     *image.NRGBA
	err     error
}

func (c *cached) get() (*image.NRGBA, error) {
	c.once.Do(func() { c.img, c.err = readNRGBA(c.path, c.maxSide) })
	return c.img, c.err
}

func openCutPaste(rest string, opts Options) (Dataset, error) {
	spec := "cutpaste:" + rest
	p, err := parseParams(spec, rest, "objects", "backgrounds", "size", "n", "val", "seed", "max")
	if err != nil {
		return nil, err
	}
	objDir, bgDir := p.str("objects"), p.str("backgrounds")
	if objDir == "" || bgDir == "" {
		return nil, specErr(spec, "want cutpaste:objects=DIR,backgrounds=DIR[,size=S,n=N,val=M,seed=X,max=K]")
	}
	d := &cutPaste{badFiles: newBadFiles(opts), classes: []string{"background"}}
	if d.size, err = p.int("size", CutPasteSize, 16, 4096); err != nil {
		return nil, err
	}
	nTrain, err := p.int("n", CutPasteTrain, 1, 1<<30)
	if err != nil {
		return nil, err
	}
	nVal, err := p.int("val", CutPasteVal, 1, 1<<30)
	if err != nil {
		return nil, err
	}
	if d.objects, err = p.int("max", CutPasteObjects, 1, 64); err != nil {
		return nil, err
	}
	if d.seed, err = p.uint64("seed", 1); err != nil {
		return nil, err
	}
	switch opts.split() {
	case "train":
		d.n = nTrain
	case "val":
		d.n, d.split = nVal, 1
	default:
		return nil, specErr(spec, "split %q; want train or val", opts.Split)
	}
	cats, err := os.ReadDir(objDir)
	if err != nil {
		return nil, specErr(spec, "objects: %v", err)
	}
	for _, c := range cats {
		if !c.IsDir() || strings.HasPrefix(c.Name(), ".") {
			continue
		}
		files, err := findImages(filepath.Join(objDir, c.Name()), map[string]bool{".png": true})
		if err != nil {
			return nil, specErr(spec, "%v", err)
		}
		if len(files) == 0 { // e.g. a folder of SVGs only
			continue
		}
		if len(d.classes) == Ignore {
			return nil, specErr(spec, "more than %d categories", Ignore-1)
		}
		d.classes = append(d.classes, c.Name())
		var objs []*cached
		for _, f := range splitFiles(files, d.split) {
			objs = append(objs, &cached{path: f, maxSide: d.size})
		}
		d.objs = append(d.objs, objs)
	}
	if len(d.objs) == 0 {
		return nil, specErr(spec, "no category folders with PNG cut-outs in %s", objDir)
	}
	bgs, err := findImages(bgDir, imageExts)
	if err != nil {
		return nil, specErr(spec, "backgrounds: %v", err)
	}
	if len(bgs) == 0 {
		return nil, specErr(spec, "no JPEG or PNG backgrounds below %s", bgDir)
	}
	for _, f := range splitFiles(bgs, d.split) {
		d.bgs = append(d.bgs, &cached{path: f, maxSide: 4 * d.size})
	}
	d.name = fmt.Sprintf("cutpaste:objects=%s,backgrounds=%s,size=%d,n=%d,val=%d,seed=%d,max=%d (%s)",
		objDir, bgDir, d.size, nTrain, nVal, d.seed, d.objects, opts.split())
	return d, nil
}

// findImages lists files below dir with the given extensions, sorted.
func findImages(dir string, exts map[string]bool) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && exts[strings.ToLower(filepath.Ext(p))] {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// splitFiles keeps every fifth file for val (split 1) and the rest for train, when there
// are at least three; otherwise all files serve both splits.
func splitFiles(files []string, split uint64) []string {
	if len(files) < 3 {
		return files
	}
	var out []string
	for i, f := range files {
		if (i%5 == 4) == (split == 1) {
			out = append(out, f)
		}
	}
	return out
}

func (d *cutPaste) Name() string          { return d.name }
func (d *cutPaste) Len() int              { return d.n }
func (d *cutPaste) Classes() []string     { return d.classes }
func (d *cutPaste) Palette() []color.RGBA { return VOCPalette(len(d.classes)) }

func (d *cutPaste) Load(i int) (Sample, error) {
	if i < 0 || i >= d.n {
		return Sample{}, fmt.Errorf("data: %s: index %d outside [0,%d)", d.name, i, d.n)
	}
	rng := NewRNG(d.seed, 0xc07, d.split, uint64(i))
	bg, err := d.pick(d.bgs, rng.IntN(len(d.bgs)))
	if err != nil {
		return Sample{}, err
	}
	img := backgroundCrop(flatten(bg, 128), d.size, rng)
	m := NewMask(d.size, d.size, 0)
	nObj := 1 + rng.IntN(d.objects)
	for k := 0; k < nObj; k++ {
		cat := rng.IntN(len(d.objs))
		obj, err := d.pick(d.objs[cat], rng.IntN(len(d.objs[cat])))
		if err != nil {
			return Sample{}, err
		}
		paste(img, m, obj, uint8(cat+1), rng)
	}
	return Sample{ID: fmt.Sprintf("cutpaste/%s/%d", []string{"train", "val"}[d.split], i), Image: img, Mask: m}, nil
}

// pick decodes files[k]; under SkipBad a bad file is reported once and the next good file
// in the list is used instead (the same one every time, so scenes stay deterministic).
func (d *cutPaste) pick(files []*cached, k int) (*image.NRGBA, error) {
	for t := 0; t < len(files); t++ {
		img, err := files[(k+t)%len(files)].get()
		if err == nil {
			return img, nil
		}
		if err = d.bad(err); !isSkip(err) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("data: %s: every file in %s's group is bad", d.name, filepath.Dir(files[0].path))
}

// flatten composites an image over a gray of the given level: some wallpapers are
// semi-transparent overlays, whose hidden colours would otherwise show.
func flatten(img *image.NRGBA, gray float32) *Image {
	out := NewImage(img.Rect.Dx(), img.Rect.Dy())
	n := out.W * out.H
	for y := 0; y < out.H; y++ {
		row := img.Pix[y*img.Stride:]
		for x := 0; x < out.W; x++ {
			a := float32(row[4*x+3]) / 255
			i := y*out.W + x
			for c := 0; c < 3; c++ {
				out.Pix[c*n+i] = a*float32(row[4*x+c]) + (1-a)*gray
			}
		}
	}
	return out
}

// backgroundCrop takes a random square of 40–100% of the shorter side and resizes it to
// size×size.
func backgroundCrop(bg *Image, size int, rng *rand.Rand) *Image {
	side := float64(min(bg.W, bg.H)) * uniform(rng, 0.4, 1)
	x0 := uniform(rng, 0, float64(bg.W)-side)
	y0 := uniform(rng, 0, float64(bg.H)-side)
	return resampleImage(bg, Box{x0, y0, x0 + side, y0 + side}, size, size)
}

// paste composites obj (scaled so its longer side is 30–75% of the image, mirrored with
// probability 0.5, centred anywhere in the image) over img, and writes class where the
// resampled alpha is at least 0.5. Colours are resampled premultiplied by alpha, so the
// transparent pixels' arbitrary colours never bleed into the edge.
func paste(img *Image, m *Mask, obj *image.NRGBA, class uint8, rng *rand.Rand) {
	ow, oh := obj.Rect.Dx(), obj.Rect.Dy()
	long := float64(img.W) * uniform(rng, 0.3, 0.75)
	f := long / float64(max(ow, oh))
	w, h := max(1, int(math.Round(float64(ow)*f))), max(1, int(math.Round(float64(oh)*f)))
	flip := rng.Float64() < 0.5
	cx, cy := rng.IntN(img.W), rng.IntN(img.H)
	x0, y0 := cx-w/2, cy-h/2

	n := ow * oh
	src := make([][]float32, 4)
	for c := range src {
		src[c] = make([]float32, n)
	}
	for y := 0; y < oh; y++ {
		row := obj.Pix[y*obj.Stride:]
		for x := 0; x < ow; x++ {
			a := float32(row[4*x+3]) / 255
			i := y*ow + x
			src[0][i], src[1][i], src[2][i], src[3][i] = a*float32(row[4*x]), a*float32(row[4*x+1]), a*float32(row[4*x+2]), a
		}
	}
	dst := make([][]float32, 4)
	for c := range dst {
		dst[c] = make([]float32, w*h)
	}
	resamplePlanes(src, ow, oh, Box{0, 0, float64(ow), float64(oh)}, dst, w, h)
	R, G, B := img.Plane(0), img.Plane(1), img.Plane(2)
	for v := 0; v < h; v++ {
		y := y0 + v
		if y < 0 || y >= img.H {
			continue
		}
		for u := 0; u < w; u++ {
			x := x0 + u
			if flip {
				x = x0 + w - 1 - u
			}
			if x < 0 || x >= img.W {
				continue
			}
			k, i := v*w+u, y*img.W+x
			a := min(1, max(0, dst[3][k]))
			R[i] = clamp255(R[i]*(1-a) + dst[0][k])
			G[i] = clamp255(G[i]*(1-a) + dst[1][k])
			B[i] = clamp255(B[i]*(1-a) + dst[2][k])
			if a >= 0.5 {
				m.Pix[i] = class
			}
		}
	}
}
