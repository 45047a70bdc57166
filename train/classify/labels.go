// Package classify is supervised pre-training (`ssl4dp train classify`): an encoder and
// torchvision's classifier (global average pool → fc) trained with cross-entropy on
// image-level labels, the ImageNet recipe scaled to the batch. It writes encoder.onnx as the
// pretext methods do, so the seed's "Supervised" row can be trained here rather than only
// brought as a checkpoint.
//
// Labels come from the data spec (Open): for folder:DIR the first-level sub-folders are the
// classes (ImageNet's layout, DIR/CLASS/…/image.jpg); for a labelled spec (synthetic,
// cutpaste:, voc:, seg:) a crop's label is its dominant class, the most frequent class of
// its (cropped) mask other than background and ignore (background when it has none); the
// val images are scored whole, with the whole mask's dominant class.
package classify

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ssl4dp/ssl4dp/data"
)

// Source is a dataset with image-level labels.
type Source struct {
	Data    data.Dataset
	Classes []string
	// byFolder: the label is the first element of the sample's ID (its path below DIR);
	// otherwise the data task puts the dominant mask class in the item's 1×1 Labels.
	byFolder bool
	index    map[string]int
}

// Open opens spec's split with its labels (see the package documentation). Bad input — a
// folder without class sub-folders, a class without images, an unlabelled spec — is a
// UsageError that names the folder or spec and says the fix.
func Open(spec, split string) (*Source, error) {
	if dir, ok := strings.CutPrefix(spec, "folder:"); ok {
		return openFolder(spec, dir)
	}
	ds, err := data.Open(spec, data.Options{Split: split})
	if err != nil {
		return nil, err
	}
	if len(ds.Classes()) == 0 {
		return nil, usagef("%s has no labels; give folder:DIR with one sub-folder of images per class (ImageNet's layout) or a labelled spec (synthetic, cutpaste:, voc:, seg:)", ds.Name())
	}
	if len(ds.Classes()) > 256 {
		return nil, usagef("%s has %d classes; a mask's dominant class is a byte (≤ 256 classes); use folder:DIR", ds.Name(), len(ds.Classes()))
	}
	return &Source{Data: ds, Classes: ds.Classes()}, nil
}

// openFolder is folder:DIR with the classes from DIR's first-level sub-folders (hidden ones
// skipped, sorted by name as torchvision's ImageFolder does).
func openFolder(spec, dir string) (*Source, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, usagef("%s: %v", spec, err)
	}
	var classes, loose []string
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), "."):
		case e.IsDir():
			classes = append(classes, e.Name())
		case isImage(e.Name()):
			loose = append(loose, e.Name())
		}
	}
	if len(classes) == 0 {
		return nil, usagef("%s has no sub-folders: classification takes its classes from them; put each class's images in %s/CLASS/ (ImageNet's layout)", spec, dir)
	}
	if len(loose) > 0 {
		return nil, usagef("%s: %d image(s) outside the class sub-folders (e.g. %s); move each into its class's folder", spec, len(loose), filepath.Join(dir, loose[0]))
	}
	sort.Strings(classes)
	for _, c := range classes {
		n, err := countImages(filepath.Join(dir, c))
		if err != nil {
			return nil, usagef("%s: %v", spec, err)
		}
		if n == 0 {
			return nil, usagef("%s: class folder %s has no .jpg, .jpeg or .png images; add some or remove the folder", spec, filepath.Join(dir, c))
		}
	}
	ds, err := data.Open(spec, data.Options{})
	if err != nil {
		return nil, err
	}
	s := &Source{Data: ds, Classes: classes, byFolder: true, index: map[string]int{}}
	for i, c := range classes {
		s.index[c] = i
	}
	return s, nil
}

func isImage(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg", ".png":
		return true
	}
	return false
}

func countImages(dir string) (int, error) {
	n := 0
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && p != dir && strings.HasPrefix(e.Name(), ".") {
			return filepath.SkipDir
		}
		if !e.IsDir() && isImage(e.Name()) {
			n++
		}
		return nil
	})
	return n, err
}

// label is the class of one batch item: from its ID (folders) or from its 1×1 label mask.
func (s *Source) label(id string, mask []float32, i int) (int, error) {
	if s.byFolder {
		first, _, _ := strings.Cut(filepath.ToSlash(id), "/")
		c, ok := s.index[first]
		if !ok {
			return 0, fmt.Errorf("classify: image %s is not in a class folder of %v", id, s.Classes)
		}
		return c, nil
	}
	if mask == nil || i >= len(mask) {
		return 0, fmt.Errorf("classify: batch has no labels for item %d", i)
	}
	return int(mask[i]), nil
}

// DominantClass is the most frequent label of m other than background (0) and data.Ignore,
// the lowest such label on a tie; 0 when the mask has none.
func DominantClass(m *data.Mask) int {
	var counts [256]int
	for _, v := range m.Pix {
		counts[v]++
	}
	best, bestN := 0, 0
	for c := 1; c < 256; c++ {
		if c != data.Ignore && counts[c] > bestN {
			best, bestN = c, counts[c]
		}
	}
	return best
}

// trainView is the ImageNet recipe's augmentation (torchvision references/classification:
// RandomResizedCrop(scale 0.08–1, ratio 3/4–4/3) and a horizontal flip, then normalisation).
func trainView(size int) data.ViewConfig {
	return data.ViewConfig{Size: size, Scale: [2]float64{0.08, 1}, Ratio: [2]float64{3.0 / 4, 4.0 / 3}, FlipP: 0.5,
		Mean: data.ImageNetMean, Std: data.ImageNetStd}
}

// itemTask is the data task: one augmented view and, for labelled specs, the crop's
// dominant class as a 1×1 label mask: the mask is cropped with the image, so a crop that
// misses every object is background (at 8% of the area a crop can miss a small object,
// and a label from the whole image would then name a shape the crop does not show).
type itemTask struct {
	pipe     data.Pipeline
	fromMask bool
}

func (t itemTask) Item(s data.Sample, rng *rand.Rand) (*data.Item, error) {
	v := &data.View{Image: s.Image, Geom: data.Identity(s.Image.W, s.Image.H)}
	if t.fromMask {
		if s.Mask == nil {
			return nil, fmt.Errorf("classify: %s has no mask to take its class from", s.ID)
		}
		v.Mask = s.Mask // cropped with the image: the label is what the crop shows
	}
	if err := t.pipe.Apply(v, rng); err != nil {
		return nil, err
	}
	it := &data.Item{ID: s.ID, Views: []*data.View{v}}
	if t.fromMask {
		it.Labels = data.NewMask(1, 1, uint8(DominantClass(v.Mask)))
		v.Mask = nil
	}
	return it, nil
}

// UsageError is bad input (CLI exit 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return "classify: " + e.Msg }

// ExitCode makes the CLI exit with 2, as for a bad flag.
func (e *UsageError) ExitCode() int { return 2 }

func usagef(format string, args ...any) error { return &UsageError{fmt.Sprintf(format, args...)} }
