package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
	"github.com/ssl4dp/ssl4dp/train/pretext"
	"github.com/ssl4dp/ssl4dp/train/seg"
)

// The five torchvision family fixtures (scripts/export_families.py --small) are continued
// as a user would: `train pretext --method plmoco --init X.onnx` pre-trains the network
// itself as the encoder, `train seg --init encoder.onnx` fine-tunes it under an FCN head,
// and the continued encoder goes home by name: its initializers, put back into the
// original export under the same names (what torchvision's load_state_dict does with
// them), make the original network compute exactly encoder.onnx's features.
func TestTrainFamiliesFromTheirExports(t *testing.T) {
	fixtures := map[string]string{}
	for _, fam := range []string{"convnext", "efficientnet", "mobilenet_v3", "regnet", "vit"} {
		fixtures[fam] = filepath.Join(testenv.RepoRoot(t), "onnx/importer/testdata/families", fam+".onnx")
	}
	continueFamilies(t, fixtures, 32, false)
}

// Full size (SSL4DP_LONG=1 and Debian's torch): torchvision's convnext_tiny,
// efficientnet_b0, mobilenet_v3_large, regnet_y_400mf and vit_b_16 exported by
// scripts/export_families.py, one pre-training and one fine-tuning step each at 224².
func TestTrainFamiliesFullSize(t *testing.T) {
	testenv.Long(t, "one pretext and one seg step of five full-size torchvision networks at 224²; the fixtures cover the same paths")
	if err := exec.Command(testenv.DebianPython, "-c", "import torch, torchvision").Run(); err != nil {
		t.Skipf("%s has no torch/torchvision (not a CI dependency): %v", testenv.DebianPython, err)
	}
	dir := t.TempDir()
	if out, err := exec.Command(testenv.DebianPython, filepath.Join(testenv.RepoRoot(t), "scripts", "export_families.py"), dir).CombinedOutput(); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	fixtures := map[string]string{}
	for fam, name := range map[string]string{"convnext": "convnext_tiny", "efficientnet": "efficientnet_b0",
		"mobilenet_v3": "mobilenet_v3_large", "regnet": "regnet_y_400mf", "vit": "vit_b_16"} {
		fixtures[fam] = filepath.Join(dir, name+".onnx")
	}
	continueFamilies(t, fixtures, 224, true)
}

func continueFamilies(t *testing.T, fixtures map[string]string, size int, full bool) {
	if err := ort.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	loaded := regexp.MustCompile(`init from \S+: (\d+) loaded, (\d+) skipped`)
	home := map[string]homeRun{}
	root := t.TempDir() // the encoders outlive their subtests (intoTorchvision reads them)
	sz, batch := strconv.Itoa(size), "4"
	if full {
		batch = "2"
	}
	for _, fam := range slices.Sorted(maps.Keys(fixtures)) {
		fixture := fixtures[fam]
		t.Run(fam, func(t *testing.T) {
			dir := filepath.Join(root, fam)
			run := filepath.Join(dir, "run")
			args := []string{"train", "pretext", "--method", "plmoco", "--scale", "cpu", "--init", fixture,
				"--size", sz, "--batch", batch, "--iters", "2", "--dense-queue", "64",
				"--data", fmt.Sprintf("synthetic:size=%d,n=16", size*3/2), "--out", run}
			if full { // batch 2 at 224² keeps the step short; Shuffle BN then has one key chunk
				args = append(args, "--key-chunks", "1")
			}
			code, _, errOut := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("train pretext: exit %d\n%s", code, errOut)
			}
			enc := filepath.Join(run, pretext.EncoderFile)
			code, _, errOut = runCLI(t, "train", "seg", "--init", enc, "--head", "fcn", "--data", fmt.Sprintf("synthetic:size=%d,n=8,val=2", size),
				"--crop", sz, "--val-size", sz, "--val-limit", "1", "--batch", batch, "--iters", "1", "--out", filepath.Join(dir, "seg"))
			if code != 0 {
				t.Fatalf("train seg --init encoder.onnx: exit %d\n%s", code, errOut)
			}
			if m := loaded.FindStringSubmatch(errOut); m == nil || m[1] == "0" || m[2] != "0" {
				t.Errorf("train seg's init report: %v\n%s", m, errOut)
			}
			home[fam] = homeRun{enc, takeHome(t, fixture, enc, size)}
		})
	}
	intoTorchvision(t, home, size, full)
}

type homeRun struct {
	encoder  string
	features []float32 // onnxruntime's, on homeInput
}

// intoTorchvision loads each continued encoder into torchvision's module by state_dict key
// (scripts/torch_features.py) and compares its dense map with onnxruntime's. Needs Debian's
// python3-torch, not a CI dependency: skips without it, even under SSL4DP_STRICT=1.
func intoTorchvision(t *testing.T, runs map[string]homeRun, size int, full bool) {
	if len(runs) == 0 {
		return
	}
	if err := exec.Command(testenv.DebianPython, "-c", "import torch, torchvision").Run(); err != nil {
		t.Skipf("loading into torchvision: %s has no torch/torchvision (not a CI dependency): %v", testenv.DebianPython, err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "input.f32")
	if err := os.WriteFile(in, f32Bytes(homeInput(size)), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{filepath.Join(testenv.RepoRoot(t), "scripts", "torch_features.py"), in}
	var fams []string
	for fam, r := range runs {
		fams = append(fams, fam)
		args = append(args, fam+"="+r.encoder+"="+filepath.Join(dir, fam+".f32"))
	}
	if full {
		args = append(args, "--full")
	}
	if out, err := exec.Command(testenv.DebianPython, args...).CombinedOutput(); err != nil {
		t.Fatalf("scripts/torch_features.py: %v\n%s", err, out)
	}
	for _, fam := range fams {
		b, err := os.ReadFile(filepath.Join(dir, fam+".f32"))
		if err != nil {
			t.Fatal(err)
		}
		got, want := f32sOf(b), runs[fam].features
		if len(got) != len(want) {
			t.Errorf("%s: torchvision's dense map has %d values, onnxruntime's %d", fam, len(got), len(want))
			continue
		}
		var maxErr, scale float64
		for i := range got {
			maxErr = math.Max(maxErr, math.Abs(float64(got[i]-want[i])))
			scale = math.Max(scale, math.Abs(float64(want[i])))
		}
		t.Logf("%s: torchvision with encoder.onnx's values vs onnxruntime: max error %.3g (scale %.3g)", fam, maxErr, scale)
		if maxErr > 1e-4*scale {
			t.Errorf("%s: torchvision with encoder.onnx's values differs from onnxruntime: max error %.3g (scale %.3g)", fam, maxErr, scale)
		}
	}
}

// homeInput is the [2,3,size,size] image batch both sides run.
func homeInput(size int) []float32 {
	x := make([]float32, 2*3*size*size)
	for i := range x {
		x[i] = float32(math.Sin(float64(i) * 0.37))
	}
	return x
}

func f32Bytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func f32sOf(b []byte) []float32 {
	x := make([]float32, len(b)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x
}

// takeHome checks that encoder.onnx's initializers are the export's own (same names and
// shapes, values trained) and that the export, given them by name, computes encoder.onnx's
// features in onnxruntime (tokens turned into the grid as graphs/external.go does).
func takeHome(t *testing.T, fixture, encPath string, size int) []float32 {
	t.Helper()
	orig, err := onnx.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := onnx.ReadFile(encPath)
	if err != nil {
		t.Fatal(err)
	}
	ext, err := seg.ExternalEncoder(orig, "", fixture)
	if err != nil {
		t.Fatal(err)
	}
	src := onnx.Initializers(orig.Graph)
	changed := 0
	for _, ti := range enc.Graph.Initializer {
		if pb.TensorProto_DataType(ti.GetDataType()) != pb.TensorProto_FLOAT {
			continue
		}
		o, ok := src[ti.GetName()]
		if !ok || !slices.Equal(onnx.Shape(o), onnx.Shape(ti)) {
			t.Fatalf("encoder.onnx's %q %v is not the export's (%v)", ti.GetName(), onnx.Shape(ti), ok)
		}
		a, _ := onnx.Floats(o)
		b, _ := onnx.Floats(ti)
		if !slices.Equal(a, b) {
			changed++
		}
		onnx.SetInitializer(orig.Graph, ti)
	}
	if changed == 0 {
		t.Fatal("no initializer of encoder.onnx differs from the export's: nothing was trained")
	}
	orig.Graph.Output = append(orig.Graph.Output, &pb.ValueInfoProto{Name: &ext.Features, Type: &pb.TypeProto{
		Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{ElemType: proto32(pb.TensorProto_FLOAT)}}}})
	x := homeInput(size)
	home := runInference(t, orig, "input", x, size)[ext.Features]
	got := runInference(t, enc, "input", x, size)["features"]
	want := home
	if ext.Tokens {
		want = tokenGrid(home, 2, ext.Drop, ext.GridH*ext.GridW, ext.Channels)
	}
	if len(got) != len(want) {
		t.Fatalf("features: %d values, the export's map %d", len(got), len(want))
	}
	var maxErr, scale float64
	for i := range got {
		maxErr = math.Max(maxErr, math.Abs(float64(got[i]-want[i])))
		scale = math.Max(scale, math.Abs(float64(want[i])))
	}
	if maxErr > 1e-5*scale {
		t.Errorf("encoder.onnx's features vs the export with its values: max error %.3g (scale %.3g)", maxErr, scale)
	}
	return got
}

func proto32(v pb.TensorProto_DataType) *int32 { i := int32(v); return &i }

// runInference runs mp's inference form in onnxruntime on a [2,3,size,size] input.
func runInference(t *testing.T, mp *pb.ModelProto, input string, x []float32, size int) map[string][]float32 {
	t.Helper()
	inf, err := importer.InferenceForm(mp)
	if err != nil {
		t.Fatal(err)
	}
	b, err := onnx.Encode(inf)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ort.NewSession(b, ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Run(map[string]ort.Tensor{input: {Shape: []int64{2, 3, int64(size), int64(size)}, Data: x}})
	if err != nil {
		t.Fatal(err)
	}
	res := map[string][]float32{}
	for name, v := range out {
		res[name] = v.Data.([]float32)
	}
	return res
}

// tokenGrid turns tokens [n, drop+hw, c] into the grid [n, c, hw] without the first drop.
func tokenGrid(tok []float32, n, drop, hw, c int) []float32 {
	out := make([]float32, n*c*hw)
	l := drop + hw
	for b := 0; b < n; b++ {
		for i := 0; i < hw; i++ {
			for k := 0; k < c; k++ {
				out[(b*c+k)*hw+i] = tok[(b*l+drop+i)*c+k]
			}
		}
	}
	return out
}

// Bad input about an imported encoder is a usage error (exit 2) that says the fix.
func TestTrainFamiliesBadInput(t *testing.T) {
	vit := filepath.Join(testenv.RepoRoot(t), "onnx/importer/testdata/families/vit.onnx")
	base := []string{"train", "pretext", "--method", "plmoco", "--scale", "cpu", "--init", vit, "--batch", "4", "--iters", "1",
		"--data", "synthetic:size=48,n=8"}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--size", "64"}, []string{"--size 64", "32×32", "use --size 32"}},
		{[]string{"--size", "32", "--features", "output"}, []string{`"output" is not one of its dense maps`, "--features", "/encoder/ln/LayerNormalization_output_0"}},
	} {
		code, _, errOut := runCLI(t, append(append(base, c.args...), "--out", filepath.Join(t.TempDir(), "run"))...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", c.args, code, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: the message does not say %q:\n%s", c.args, w, errOut)
			}
		}
	}
}

// A pre-training and a fine-tuning run on an imported encoder (ViT: tokens, a fixed size, the
// default dense map) stopped at step 4 and resumed from the folder alone end bit for bit where
// the uninterrupted runs do: the settings record the dense map, and --resume rebuilds the
// network from the --init file.
func TestTrainFamiliesResumeIsExact(t *testing.T) {
	vit := filepath.Join(testenv.RepoRoot(t), "onnx/importer/testdata/families/vit.onnx")
	for _, c := range []struct {
		cmd   string
		args  []string
		files []string
	}{
		{"pretext", []string{"--method", "plmoco", "--scale", "cpu", "--size", "32", "--dense-queue", "64", "--data", "synthetic:size=48,n=16"},
			[]string{pretext.ModelFile, pretext.EncoderFile}},
		{"seg", []string{"--head", "fcn", "--crop", "32", "--val-size", "32", "--val-limit", "1", "--data", "synthetic:size=32,n=16,val=2"},
			[]string{"model.onnx"}},
	} {
		t.Run(c.cmd, func(t *testing.T) { resumeIsExact(t, c.cmd, append(c.args, "--init", vit), c.files) })
	}
}

func resumeIsExact(t *testing.T, cmd string, flags, files []string) {
	dir := t.TempDir()
	whole, parts := filepath.Join(dir, "whole"), filepath.Join(dir, "parts")
	args := func(out string) []string {
		return append(append([]string{"train", cmd}, flags...), "--batch", "4", "--iters", "6", "--checkpoint-every", "2", "--out", out)
	}
	if code, _, errOut := runCLI(t, args(whole)...); code != 0 {
		t.Fatalf("uninterrupted run: exit %d\n%s", code, errOut)
	}
	t.Setenv("SSL4DP_TEST_NAN_STEP", "4")
	if code, _, errOut := runCLI(t, args(parts)...); code == 0 || !strings.Contains(errOut, "step 4") {
		t.Fatalf("run stopped at step 4: exit %d\n%s", code, errOut)
	}
	os.Unsetenv("SSL4DP_TEST_NAN_STEP")
	if code, _, errOut := runCLI(t, "train", cmd, "--resume", "--out", parts); code != 0 || !strings.Contains(errOut, "resumed from") {
		t.Fatalf("resume: exit %d\n%s", code, errOut)
	}
	for _, name := range files {
		a, err := os.ReadFile(filepath.Join(whole, name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(parts, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s of the resumed run differs from the uninterrupted run's", name)
		}
	}
}

// Every pretext method runs on an imported encoder (the ConvNeXt fixture: LayerNorm, no
// BatchNorm), with its global, dense or decoder heads on the imported dense map.
func TestEveryMethodOnAnImportedEncoder(t *testing.T) {
	convnext := filepath.Join(testenv.RepoRoot(t), "onnx/importer/testdata/families/convnext.onnx")
	for _, method := range pretext.Methods {
		t.Run(method, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			args := append(pretextArgs(method, out), "--init", convnext, "--iters", "1")
			code, _, errOut := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, errOut)
			}
			if !strings.Contains(errOut, "on imported encoder "+convnext) {
				t.Errorf("the run does not say it trains the imported encoder:\n%s", errOut)
			}
		})
	}
}
