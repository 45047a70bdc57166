package data

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Loader throughput, recorded in docs/benchmarks.md:
//
//	go test ./data/ -run '^$' -bench Loader -benchtime 40x
//
// images/s counts source images (a two-view batch of 8 is 8 images, 16 views).
func benchLoader(b *testing.B, ds Dataset, task Task, batch int) {
	l, err := NewLoader(ds, task, LoaderConfig{Batch: batch, Seed: 1, Shuffle: true, DropLast: true})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Next(); err != nil { // start-up (first batch, decoder caches) is not steady state
		b.Fatal(err)
	}
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.Next(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "images/s")
	// On a shared machine wall-clock rates depend on the neighbours; CPU time per image
	// does not (much): images/cpu-s is what one core sustains.
	b.ReportMetric(float64(b.N*batch)/(cpuTime()-cpu0).Seconds(), "images/cpu-s")
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkLoaderSegSynthetic128(b *testing.B) {
	ds, _ := Open("synthetic:size=128", Options{})
	benchLoader(b, ds, DefaultSegTrain(128), 8)
}

func BenchmarkLoaderPretextSynthetic96(b *testing.B) {
	ds, _ := Open("synthetic:size=96", Options{})
	benchLoader(b, ds, MoCoV2(64), 8)
}

func BenchmarkLoaderPLRSynthetic64(b *testing.B) {
	ds, _ := Open("synthetic", Options{})
	benchLoader(b, ds, DefaultPLR(64), 8)
}

// VOC-sized JPEGs (500×375, the common VOC size) decoded every time, cropped at 128.
func BenchmarkLoaderSegVOCJPEG(b *testing.B) {
	dir := b.TempDir()
	root := filepath.Join(dir, "VOC2012")
	syn, _ := Open("synthetic:size=375", Options{})
	var ids []string
	for k := 0; k < 16; k++ {
		s, _ := syn.Load(k)
		id := fmt.Sprintf("2008_%06d", k)
		ids = append(ids, id)
		img := ResizeImage(s.Image, 500, 375)
		writeJPEG(b, filepath.Join(root, "JPEGImages", id+".jpg"), img.RGBA())
		writeIndexMask(b, filepath.Join(root, "SegmentationClass", id+".png"), ResizeMask(s.Mask, 500, 375))
	}
	writeText(b, filepath.Join(root, "ImageSets", "Segmentation", "train.txt"), ids...)
	ds, err := Open("voc:"+dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	benchLoader(b, ds, DefaultSegTrain(128), 8)
}

func BenchmarkLoaderPretextCutPaste96(b *testing.B) {
	objects, backgrounds := cutpasteFixture(b)
	ds, err := Open("cutpaste:objects="+objects+",backgrounds="+backgrounds, Options{})
	if err != nil {
		b.Fatal(err)
	}
	benchLoader(b, ds, MoCoV2(64), 8)
}

// BenchmarkLoaderSpec measures the dataset named by $SSL4DP_BENCH_DATA (for example the
// Debian cut-paste spec printed by scripts/build_cutpaste.sh) with the MoCo v2 two-view task
// at 64 pixels; skipped when unset.
func BenchmarkLoaderSpec(b *testing.B) {
	spec := os.Getenv("SSL4DP_BENCH_DATA")
	if spec == "" {
		b.Skip("set SSL4DP_BENCH_DATA to a --data spec")
	}
	ds, err := Open(spec, Options{MaxSide: 1024})
	if err != nil {
		b.Fatal(err)
	}
	benchLoader(b, ds, MoCoV2(64), 8)
}
