package data

import (
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// imageExts are the file types datasets read, by lower-case extension.
var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true}

// openSegDir opens the generic layout for a user's own data:
//
//	DIR/images/<stem>.{jpg,jpeg,png}
//	DIR/masks/<stem>.png          index or palette PNG; 255 = ignore
//	DIR/classes.txt               one class name per line (defines the class count)
//	DIR/splits/<split>.txt        optional; one stem per line
//
// Without split files, a fixed 90/10 train/val split by a hash of each stem is used, so it
// does not change when the files are listed in another order.
func openSegDir(dir string, opts Options) (Dataset, error) {
	if err := needDir("seg", dir); err != nil {
		return nil, err
	}
	classes, err := readClasses(filepath.Join(dir, "classes.txt"))
	if err != nil {
		return nil, err
	}
	images, err := stems(filepath.Join(dir, "images"))
	if err != nil {
		return nil, fmt.Errorf("data: seg:%s: %w", dir, err)
	}
	split := opts.split()
	d := &fileSet{
		badFiles: newBadFiles(opts),
		name:     fmt.Sprintf("seg:%s (%s)", dir, split),
		classes:  classes,
		palette:  VOCPalette(len(classes)),
	}
	var ids []string
	var list string
	if p := filepath.Join(dir, "splits", split+".txt"); isFile(p) {
		list = p
		if ids, err = readList(p); err != nil {
			return nil, fmt.Errorf("data: seg:%s: %w", dir, err)
		}
	} else if split == "train" || split == "val" {
		ids = hashSplit(sortedKeys(images), split)
	} else {
		return nil, fmt.Errorf("data: seg:%s: split %q has no list %s", dir, split, p)
	}
	for n, id := range ids {
		where := filepath.Join(dir, "images")
		if list != "" {
			where = fmt.Sprintf("%s:%d", list, n+1)
		}
		e := entry{id: id, image: images[id], mask: filepath.Join(dir, "masks", id+".png")}
		var err error
		switch {
		case e.image == "":
			err = fileErr(where, "%q has no image in %s", id, filepath.Join(dir, "images"))
		case !isFile(e.mask):
			err = fileErr(e.image, "no mask %s", e.mask)
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
		return nil, fmt.Errorf("data: %s: no usable samples", d.name)
	}
	return d, nil
}

func readClasses(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w (want one class name per line, background first)", err)
	}
	var names []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			names = append(names, l)
		}
	}
	if len(names) < 2 || len(names) > Ignore {
		return nil, fileErr(path, "%d classes; want 2 to %d", len(names), Ignore)
	}
	return names, nil
}

// stems maps file stem → path for the images directly in dir.
func stems(dir string) (map[string]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, e := range ents {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || !imageExts[strings.ToLower(ext)] {
			continue
		}
		stem := strings.TrimSuffix(e.Name(), ext)
		if prev, dup := out[stem]; dup {
			return nil, fileErr(filepath.Join(dir, e.Name()), "stem %q also names %s", stem, prev)
		}
		out[stem] = filepath.Join(dir, e.Name())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no JPEG or PNG images in %s", dir)
	}
	return out, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// hashSplit orders stems by an FNV hash and gives the first tenth (at least one, when there
// are two or more) to val, the rest to train; both keep sorted order.
func hashSplit(ids []string, split string) []string {
	byHash := append([]string(nil), ids...)
	h := func(s string) uint64 { f := fnv.New64a(); f.Write([]byte(s)); return f.Sum64() }
	sort.SliceStable(byHash, func(i, j int) bool { return h(byHash[i]) < h(byHash[j]) })
	nVal := (len(ids) + 5) / 10
	if nVal == 0 && len(ids) > 1 {
		nVal = 1
	}
	val := map[string]bool{}
	for _, id := range byHash[:nVal] {
		val[id] = true
	}
	var out []string
	for _, id := range ids {
		if val[id] == (split == "val") {
			out = append(out, id)
		}
	}
	return out
}
