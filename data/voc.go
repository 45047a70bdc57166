package data

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// openVOC opens a VOC2012 folder (or a VOCdevkit holding one). The split list is
// ImageSets/Segmentation/<split>.txt, where "train" means train_aug.txt (10582 images with
// SBD) when present, else train.txt. A mask is SegmentationClassAug/<id>.png when present,
// else SegmentationClass/<id>.png; images are JPEGImages/<id>.jpg.
func openVOC(dir string, opts Options) (Dataset, error) {
	if err := needDir("voc", dir); err != nil {
		return nil, err
	}
	root := ""
	for _, c := range []string{dir, filepath.Join(dir, "VOC2012"), filepath.Join(dir, "VOCdevkit", "VOC2012")} {
		if isDir(filepath.Join(c, "JPEGImages")) {
			root = c
			break
		}
	}
	if root == "" {
		return nil, specErr("voc:"+dir, "no JPEGImages/ folder here or in VOC2012/ or VOCdevkit/VOC2012/")
	}
	split := opts.split()
	lists := filepath.Join(root, "ImageSets", "Segmentation")
	list := filepath.Join(lists, split+".txt")
	if split == "train" {
		if aug := filepath.Join(lists, "train_aug.txt"); isFile(aug) {
			list = aug
		}
	}
	ids, err := readList(list)
	if err != nil {
		return nil, fmt.Errorf("data: voc:%s: split %q: %w", dir, split, err)
	}
	d := &fileSet{
		badFiles: newBadFiles(opts),
		name:     fmt.Sprintf("voc:%s (%s)", dir, split),
		classes:  VOCClasses,
		palette:  VOCPalette(len(VOCClasses)),
	}
	for n, id := range ids {
		e := entry{id: id, image: filepath.Join(root, "JPEGImages", id+".jpg")}
		for _, m := range []string{"SegmentationClassAug", "SegmentationClass"} {
			if p := filepath.Join(root, m, id+".png"); isFile(p) {
				e.mask = p
				break
			}
		}
		var err error
		switch {
		case !isFile(e.image):
			err = fileErr(fmt.Sprintf("%s:%d", list, n+1), "%q has no image %s", id, e.image)
		case e.mask == "":
			err = fileErr(fmt.Sprintf("%s:%d", list, n+1), "%q has no mask in SegmentationClassAug/ or SegmentationClass/", id)
		}
		if err != nil {
			if err = d.bad(err); !isSkip(err) {
				return nil, err
			}
			continue
		}
		d.entries = append(d.entries, e)
	}
	if len(d.entries) == 0 {
		return nil, fmt.Errorf("data: %s: no usable samples in %s", d.name, list)
	}
	return d, nil
}

// readList reads a split file: one id per line; blank lines are ignored; SBD-style lines
// "JPEGImages/x.jpg SegmentationClassAug/x.png" keep the first field's stem.
func readList(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		id := fields[0]
		if strings.Contains(id, "/") {
			id = strings.TrimSuffix(filepath.Base(id), filepath.Ext(id))
		}
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s lists no samples", path)
	}
	return ids, nil
}

func isSkip(err error) bool { _, ok := err.(skipError); return ok }

func isDir(p string) bool  { st, err := os.Stat(p); return err == nil && st.IsDir() }
func isFile(p string) bool { st, err := os.Stat(p); return err == nil && st.Mode().IsRegular() }
