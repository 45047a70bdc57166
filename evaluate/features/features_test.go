package features

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

func initORT(t testing.TB) string {
	t.Helper()
	lib := testenv.ORTLibrary(t)
	if err := ort.Init(lib); errors.Is(err, ort.ErrNoCgo) {
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
	return lib
}

// tinyEncoder writes a randomly initialised ResNet-18 (width 1/8, output stride 16) encoder
// with graphs' features and low_level outputs, as a pre-training run's encoder.onnx has.
func tinyEncoder(t testing.TB, seed int64) string {
	t.Helper()
	mp, err := graphs.Build(graphs.Spec{Encoder: graphs.ResNet18, OutputStride: 16, Width: 0.125, Seed: seed,
		Outputs: []string{graphs.Features, graphs.LowLevel}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "encoder.onnx")
	if err := onnx.WriteFile(path, mp); err != nil {
		t.Fatal(err)
	}
	return path
}

const tinyData = "synthetic:classes=3,size=32,n=6,val=3,seed=2"

// Features have the encoder's shape at its stride; a second call reads the cache (bit for
// bit the same, no onnxruntime), and a changed encoder file is computed afresh.
func TestExtractAndCache(t *testing.T) {
	initORT(t)
	enc := tinyEncoder(t, 1)
	cache := t.TempDir()
	o := Options{Encoder: enc, Data: tinyData, Split: "train", Cache: cache, Batch: 4}
	a, err := Extract(o)
	if err != nil {
		t.Fatal(err)
	}
	if a.Cached || len(a.Images) != 6 || a.C != 64 || a.Images[0].H != 2 || a.Images[0].W != 2 || a.Images[0].Mask.W != 32 {
		t.Fatalf("cached %v, %d images, %d channels, %dx%d features over %dx%d masks; want fresh, 6, 64, 2x2, 32x32",
			a.Cached, len(a.Images), a.C, a.Images[0].H, a.Images[0].W, a.Images[0].Mask.W, a.Images[0].Mask.H)
	}
	files, _ := filepath.Glob(filepath.Join(cache, "features-*.gob"))
	if len(files) != 1 {
		t.Fatalf("cache holds %v, want one file", files)
	}
	b, err := Extract(o)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Cached || !slices.Equal(a.Images[3].Feat, b.Images[3].Feat) || !slices.Equal(a.Images[3].Mask.Pix, b.Images[3].Mask.Pix) {
		t.Errorf("second call: cached %v; want the same features from the cache", b.Cached)
	}
	// The batch size does not change the features (Batch is not in the key).
	o1 := o
	o1.Batch, o1.Cache = 1, ""
	c, err := Extract(o1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Images {
		for j, v := range c.Images[i].Feat {
			if d := v - a.Images[i].Feat[j]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("image %d value %d: %v with batch 1, %v with batch 4", i, j, v, a.Images[i].Feat[j])
			}
		}
	}
	// Another encoder at the same path: a new hash, computed afresh, different features.
	other, err := os.ReadFile(tinyEncoder(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(enc, other, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Extract(o)
	if err != nil {
		t.Fatal(err)
	}
	if d.Cached || slices.Equal(d.Images[0].Feat, a.Images[0].Feat) {
		t.Errorf("after changing the encoder: cached %v, same features %v; want a fresh computation", d.Cached, slices.Equal(d.Images[0].Feat, a.Images[0].Feat))
	}
	// The other output, at stride 4.
	o.Output = graphs.LowLevel
	e, err := Extract(o)
	if err != nil {
		t.Fatal(err)
	}
	if e.Images[0].H != 8 {
		t.Errorf("low_level is %dx%d, want 8x8", e.Images[0].H, e.Images[0].W)
	}
}

func TestExtractErrors(t *testing.T) {
	initORT(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.onnx")
	os.WriteFile(bad, []byte("not a model"), 0o644)
	enc := tinyEncoder(t, 1)
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Encoder: bad, Data: tinyData, Split: "train"}, "bad.onnx"},
		{Options{Encoder: filepath.Join(dir, "missing.onnx"), Data: tinyData, Split: "train"}, "missing.onnx: no such file"},
		{Options{Encoder: enc, Data: tinyData, Split: "train", Output: "logits"}, `no output "logits"`},
		{Options{Encoder: enc, Data: "folder:" + dir, Split: "train"}, ""},
	} {
		_, err := Extract(c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one naming %q", c.o, err, c.want)
		}
		var ec interface{ ExitCode() int }
		if c.want != "" && (!errors.As(err, &ec) || ec.ExitCode() != 2) {
			t.Errorf("%v: not a bad-input error (exit 2)", err)
		}
	}
}
