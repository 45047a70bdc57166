package seg

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

func buildModel(t *testing.T, spec graphs.Spec) *pb.ModelProto {
	t.Helper()
	mp, err := graphs.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	return mp
}

func floatsOf(t *testing.T, mp *pb.ModelProto, name string) []float32 {
	t.Helper()
	v, err := onnx.Floats(onnx.Initializer(mp.Graph, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func initNames(mp *pb.ModelProto, keep func(string) bool) []string {
	var names []string
	for _, t := range mp.Graph.Initializer {
		if isFloat(t) && keep(t.GetName()) {
			names = append(names, t.GetName())
		}
	}
	sort.Strings(names)
	return names
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

// A graphs/ encoder (what a pretext run saves as encoder.onnx) loads every encoder
// initializer of a segmentation model of the same width, values included; the head is
// missing (random init), nothing is skipped or unused. Under a prefix it loads the same.
func TestLoadInitFromGraphsEncoder(t *testing.T) {
	enc := buildModel(t, graphs.Spec{Encoder: graphs.ResNet18, Width: 0.0625, Seed: 7})
	wantLoaded := initNames(enc, func(string) bool { return true })
	for _, prefix := range []string{"", "module.encoder_q."} {
		file := enc
		if prefix != "" {
			file = buildModel(t, graphs.Spec{Encoder: graphs.ResNet18, Width: 0.0625, Seed: 7})
			for _, in := range file.Graph.Initializer {
				in.Name = ptr(prefix + in.GetName())
			}
		}
		model := buildModel(t, graphs.Spec{Encoder: graphs.ResNet18, Width: 0.0625, OutputStride: 16, Head: graphs.HeadFCN, Classes: 3, Seed: 1})
		wantMissing := initNames(model, func(n string) bool { return strings.HasPrefix(n, "head.") })
		rep, err := LoadInit(model, file, "encoder.onnx")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Prefix != prefix || !slices.Equal(sorted(rep.Loaded), wantLoaded) || !slices.Equal(sorted(rep.Missing), wantMissing) ||
			len(rep.Skipped) != 0 || len(rep.Unused) != 0 {
			t.Fatalf("prefix %q: report %+v\nwant %d loaded, missing %v", prefix, rep, len(wantLoaded), wantMissing)
		}
		for _, name := range []string{"conv1.weight", "layer4.1.bn2.running_var", "layer3.0.downsample.0.weight"} {
			if !slices.Equal(floatsOf(t, model, name), floatsOf(t, enc, name)) {
				t.Errorf("%s was not copied", name)
			}
		}
		if s := rep.String(); !strings.Contains(s, fmt.Sprintf("%d loaded, 0 skipped", len(wantLoaded))) || !strings.Contains(s, "missing: head.*") {
			t.Errorf("summary:\n%s", s)
		}
	}
	// Another width: every shape differs, nothing loads, which is an error that says why.
	model := buildModel(t, graphs.Spec{Encoder: graphs.ResNet18, Width: 0.125, OutputStride: 16, Head: graphs.HeadFCN, Classes: 3, Seed: 1})
	rep, err := LoadInit(model, enc, "encoder.onnx")
	if err == nil || !strings.Contains(err.Error(), "no initializer matches") || len(rep.Skipped) != len(wantLoaded) {
		t.Fatalf("width mismatch: %v, %d skipped", err, len(rep.Skipped))
	}
}

// A PyTorch export (onnx/testdata/tiny_torchvision.onnx: an 8-channel stem with a 3x3 conv,
// one BasicBlock 8→16 with a downsample, fc) into a ResNet-18 of width 1/8 (8-channel stem,
// 7x7 conv, 8-channel layer1 without a downsample): exactly the stem's BatchNorm loads; the
// convs and layer1's BatchNorms are skipped with both shapes; the downsample and fc are unused.
func TestLoadInitFromTorchvisionExport(t *testing.T) {
	tv, err := onnx.ReadFile(filepath.Join(testenv.RepoRoot(t), "onnx", "testdata", "tiny_torchvision.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	model := buildModel(t, graphs.Spec{Encoder: graphs.ResNet18, Width: 0.125, OutputStride: 16, Head: graphs.HeadFCN, Classes: 4, Seed: 1})
	rep, err := LoadInit(model, tv, "tiny_torchvision.onnx")
	if err != nil {
		t.Fatal(err)
	}
	bn := func(p string) []string {
		return []string{p + ".bias", p + ".running_mean", p + ".running_var", p + ".weight"}
	}
	if want := bn("bn1"); !slices.Equal(sorted(rep.Loaded), want) {
		t.Errorf("loaded %v, want %v", rep.Loaded, want)
	}
	var skipped []string
	for _, m := range rep.Skipped {
		skipped = append(skipped, fmt.Sprintf("%s %v %v", m.Name, m.FileShape, m.Shape))
	}
	want := append(append([]string{"conv1.weight [8 3 3 3] [8 3 7 7]", "layer1.0.conv1.weight [16 8 3 3] [8 8 3 3]",
		"layer1.0.conv2.weight [16 16 3 3] [8 8 3 3]"}, shapes(bn("layer1.0.bn1"), "[16] [8]")...), shapes(bn("layer1.0.bn2"), "[16] [8]")...)
	sort.Strings(want)
	if !slices.Equal(sorted(skipped), want) {
		t.Errorf("skipped\n%v\nwant\n%v", sorted(skipped), want)
	}
	if want := append(bn("layer1.0.downsample.1"), "fc.bias", "fc.weight", "layer1.0.downsample.0.weight"); !slices.Equal(rep.Unused, sorted(want)) {
		t.Errorf("unused %v, want %v", rep.Unused, sorted(want))
	}
	all := initNames(model, func(string) bool { return true })
	if len(rep.Loaded)+len(rep.Skipped)+len(rep.Missing) != len(all) || slices.Contains(rep.Missing, "bn1.weight") || !slices.Contains(rep.Missing, "layer4.1.conv2.weight") {
		t.Errorf("missing %d names of %d", len(rep.Missing), len(all))
	}
	if !slices.Equal(floatsOf(t, model, "bn1.running_var"), floatsOf(t, tv, "bn1.running_var")) {
		t.Error("bn1.running_var was not copied")
	}
	s := rep.String()
	for _, line := range []string{"4 loaded, 11 skipped (shape mismatch)", "skipped: conv1.weight: file [8 3 3 3], model [8 3 7 7]", "unused:  fc.* (2), layer1.* (5)"} {
		if !strings.Contains(s, line) {
			t.Errorf("summary lacks %q:\n%s", line, s)
		}
	}
}

func shapes(names []string, suffix string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n + " " + suffix
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// A real torchvision export (scripts/export_torchvision.py resnet18_encoder, BatchNorm kept)
// loads whole into graphs' ResNet-18: every one of its 100 initializers, nothing skipped,
// only the head missing. Needs Debian's torch (not a CI dependency: skipped without it) and
// SSL4DP_LONG=1 (importing torch takes 15–25 s here).
func TestLoadInitFromTorchvisionResNet18(t *testing.T) {
	testenv.Long(t, "exports a ResNet-18 with PyTorch; the tiny torchvision fixture covers the matching")
	if err := exec.Command(testenv.DebianPython, "-c", "import torch, torchvision").Run(); err != nil {
		t.Skipf("%s has no torch/torchvision: %v", testenv.DebianPython, err)
	}
	path := filepath.Join(t.TempDir(), "resnet18_encoder.onnx")
	script := filepath.Join(testenv.RepoRoot(t), "scripts", "export_torchvision.py")
	if out, err := exec.Command(testenv.DebianPython, script, "resnet18_encoder", path, "--size", "64").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	tv, err := onnx.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	model := buildModel(t, graphs.Spec{Encoder: graphs.ResNet18, OutputStride: 16, Head: graphs.HeadFCN, Classes: 21, Seed: 1})
	rep, err := LoadInit(model, tv, path)
	if err != nil {
		t.Fatal(err)
	}
	wantMissing := initNames(model, func(n string) bool { return strings.HasPrefix(n, "head.") })
	if len(rep.Loaded) != 100 || len(rep.Skipped) != 0 || len(rep.Unused) != 0 || !slices.Equal(sorted(rep.Missing), wantMissing) {
		t.Fatalf("report:\n%s", rep)
	}
	if !slices.Equal(floatsOf(t, model, "layer3.1.conv2.weight"), floatsOf(t, tv, "layer3.1.conv2.weight")) {
		t.Fatal("layer3.1.conv2.weight was not copied")
	}
}
