package data

import (
	"image/color"
	"strings"
)

// Dataset is an indexed collection of images, with label maps when it is labelled.
// Implementations are safe for concurrent Load calls.
type Dataset interface {
	Name() string // the spec it was opened from, with the split: "voc:/data/VOC2012 (val)"
	Len() int     // number of samples in the split
	Load(i int) (Sample, error)
	Classes() []string     // class names by label (background first); nil when unlabelled
	Palette() []color.RGBA // one colour per class, for overlays; nil when unlabelled
}

// Sample is one image of a dataset.
type Sample struct {
	ID    string // stable name: file stem, relative path or "synthetic/train/17"
	Image *Image // RGB, values 0–255
	Mask  *Mask  // class ids and Ignore, same size as Image; nil when unlabelled
}

// Options choose the split and how bad files are handled. The zero value is the training
// split, failing on the first bad file.
type Options struct {
	Split   string      // "train" (default) or "val"; voc and seg also accept any list name
	SkipBad bool        // a bad file becomes a counted warning instead of an error
	Warn    func(error) // called once per skipped bad file (serialised); nil ignores them
	MaxSide int         // folder: shrink larger images to this longer side on decode (0: keep)
}

func (o Options) split() string {
	if o.Split == "" {
		return "train"
	}
	return o.Split
}

// Labelled reports whether ds has label maps.
func Labelled(ds Dataset) bool { return len(ds.Classes()) > 0 }

// Skipped returns how many bad files ds has skipped so far (Options.SkipBad); 0 for
// datasets that do not count.
func Skipped(ds Dataset) int {
	if s, ok := ds.(interface{ skipped() int }); ok {
		return s.skipped()
	}
	return 0
}

// Open opens the dataset a spec names:
//
//	voc:DIR                    PASCAL VOC 2012 (+SBD aug) layout, 21 classes
//	seg:DIR                    images/ + masks/ + classes.txt [+ splits/{train,val}.txt]
//	folder:DIR                 every JPEG/PNG below DIR, unlabelled
//	synthetic[:k=v,...]        procedural scenes: classes, size, n, val, seed, objects
//	cutpaste:objects=DIR,backgrounds=DIR[,k=v,...]  RGBA cut-outs pasted on photos:
//	                           size, n, val, seed, objects
//
// Errors name the spec and, for bad files, the file.
func Open(spec string, opts Options) (Dataset, error) {
	kind, rest, _ := strings.Cut(spec, ":")
	switch kind {
	case "voc":
		return openVOC(rest, opts)
	case "seg":
		return openSegDir(rest, opts)
	case "folder":
		return openFolder(rest, opts)
	case "synthetic":
		return openSynthetic(rest, opts)
	case "cutpaste":
		return openCutPaste(rest, opts)
	}
	return nil, specErr(spec, "unknown kind %q; want voc:DIR, seg:DIR, folder:DIR, synthetic[:k=v,...] or cutpaste:objects=DIR,backgrounds=DIR", kind)
}

// needDir checks a spec's directory argument.
func needDir(kind, dir string) error {
	if dir == "" {
		return specErr(kind+":", "missing directory; want %s:DIR", kind)
	}
	return nil
}
