package data

import (
	"fmt"
	"image/color"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

// folderSet is every JPEG/PNG below a directory, unlabelled (for pre-training).
type folderSet struct {
	badFiles
	name    string
	root    string
	files   []string // relative paths, sorted
	maxSide int
}

func openFolder(dir string, opts Options) (Dataset, error) {
	if err := needDir("folder", dir); err != nil {
		return nil, err
	}
	d := &folderSet{badFiles: newBadFiles(opts), name: "folder:" + dir, root: dir, maxSide: opts.MaxSide}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && p != dir && strings.HasPrefix(e.Name(), ".") {
			return filepath.SkipDir
		}
		if !e.IsDir() && imageExts[strings.ToLower(filepath.Ext(p))] {
			rel, _ := filepath.Rel(dir, p)
			d.files = append(d.files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("data: folder:%s: %w", dir, err)
	}
	if len(d.files) == 0 {
		return nil, fmt.Errorf("data: folder:%s: no .jpg, .jpeg or .png files below it", dir)
	}
	sort.Strings(d.files)
	return d, nil
}

func (d *folderSet) Name() string          { return d.name }
func (d *folderSet) Len() int              { return len(d.files) }
func (d *folderSet) Classes() []string     { return nil }
func (d *folderSet) Palette() []color.RGBA { return nil }

func (d *folderSet) Load(i int) (Sample, error) {
	if i < 0 || i >= len(d.files) {
		return Sample{}, fmt.Errorf("data: %s: index %d outside [0,%d)", d.name, i, len(d.files))
	}
	img, err := readImage(filepath.Join(d.root, d.files[i]), d.maxSide)
	if err != nil {
		return Sample{}, d.bad(err)
	}
	return Sample{ID: d.files[i], Image: img}, nil
}
