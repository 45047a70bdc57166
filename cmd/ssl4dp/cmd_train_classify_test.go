package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/train/classify"
)

// patternFolder writes n 40-pixel PNGs per class into DIR/CLASS/ for three classes that
// random-resized crops and flips keep apart: horizontal stripes, vertical stripes and a
// checkerboard, each with a random period, phase and pair of colours.
func patternFolder(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	const side = 40
	for c, name := range []string{"checker", "hstripes", "vstripes"} {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			r := rand.New(rand.NewPCG(uint64(c), uint64(i)))
			period, phase := 4+r.IntN(5), r.IntN(8)
			a := color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
			b := color.RGBA{255 - a.R, 255 - a.G, 255 - a.B, 255}
			img := image.NewRGBA(image.Rect(0, 0, side, side))
			for y := 0; y < side; y++ {
				for x := 0; x < side; x++ {
					on := false
					switch name {
					case "hstripes":
						on = ((y+phase)/period)%2 == 0
					case "vstripes":
						on = ((x+phase)/period)%2 == 0
					default:
						on = ((x+phase)/period+(y+phase)/period)%2 == 0
					}
					if on {
						img.Set(x, y, a)
					} else {
						img.Set(x, y, b)
					}
				}
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name, fmt.Sprintf("%02d.png", i)), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func classifyArgs(data, out string, iters int) []string {
	return []string{"train", "classify", "--encoder", "resnet18", "--width", "0.125", "--size", "32", "--batch", "12",
		"--iters", fmt.Sprint(iters), "--lr", "0.05", "--data", "folder:" + data, "--out", out}
}

// trainTop1 is the mean of the top1 monitor over metrics.jsonl's train records [from, to).
func trainTop1(t *testing.T, run string, from, to int) float64 {
	t.Helper()
	f, err := os.Open(filepath.Join(run, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, n := 0.0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r struct {
			Kind     string             `json:"kind"`
			Step     int                `json:"step"`
			Monitors map[string]float64 `json:"monitors"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Kind == "train" && r.Step >= from && r.Step < to {
			sum += r.Monitors["top1"]
			n++
		}
	}
	return sum / float64(n)
}

// Supervised pre-training on a folder of three classes: the training batch's top-1 leaves
// chance (1/3) and validation on the same folder scores well above it; the encoder.onnx it
// writes starts `train seg` with every encoder tensor loaded and nothing skipped.
func TestTrainClassifyLearnsThenSeg(t *testing.T) {
	data := patternFolder(t, 12)
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	const steps = 90
	code, _, errOut := runCLI(t, append(classifyArgs(data, run, steps), "--val", "folder:"+data)...)
	if code != 0 {
		t.Fatalf("train classify: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"fc → 3 classes", "classes from the first-level sub-folders: [checker hstripes vstripes]"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("output lacks %q:\n%s", want, errOut)
		}
	}
	early, late := trainTop1(t, run, 0, 10), trainTop1(t, run, steps-20, steps)
	t.Logf("train top1 %.3f over steps 0–9, %.3f over the last 20 (chance 0.333)", early, late)
	if !(late > 0.6) {
		t.Errorf("train top1 %.3f over the last 20 steps, want > 0.6 (chance 1/3)", late)
	}
	m := regexp.MustCompile(`validation after step \d+: mAcc [\d.]+% aAcc ([\d.]+)%`).FindStringSubmatch(errOut)
	if m == nil {
		t.Fatalf("no validation line:\n%s", errOut)
	}
	var acc float64
	fmt.Sscan(m[1], &acc)
	t.Logf("val top-1 %.2f%%", acc)
	if acc < 60 {
		t.Errorf("val top-1 %.2f%%, want ≥ 60%% (chance 33%%)", acc)
	}
	code, _, errOut = runCLI(t, "train", "seg", "--encoder", "resnet18", "--width", "0.125", "--init", filepath.Join(run, classify.EncoderFile),
		"--data", "synthetic:size=32,n=8,val=2", "--crop", "32", "--batch", "4", "--iters", "1", "--out", filepath.Join(dir, "seg"))
	if code != 0 {
		t.Fatalf("train seg --init: exit %d\n%s", code, errOut)
	}
	if l := regexp.MustCompile(`init from \S+: (\d+) loaded, (\d+) skipped`).FindStringSubmatch(errOut); l == nil || l[2] != "0" || !strings.Contains(errOut, "missing: head.* (") {
		t.Errorf("train seg --init: want every encoder tensor loaded, 0 skipped, only head.* missing:\n%s", errOut)
	}
}

// A run stopped after step 4 and resumed from its folder alone ends with the same model and
// encoder, bit for bit, as one run straight through.
func TestTrainClassifyResumeIsExact(t *testing.T) {
	data := patternFolder(t, 4)
	dir := t.TempDir()
	whole, parts := filepath.Join(dir, "whole"), filepath.Join(dir, "parts")
	args := func(out string) []string { return append(classifyArgs(data, out, 6), "--checkpoint-every", "2") }
	if code, _, errOut := runCLI(t, args(whole)...); code != 0 {
		t.Fatalf("uninterrupted run: exit %d\n%s", code, errOut)
	}
	t.Setenv("SSL4DP_TEST_NAN_STEP", "4")
	if code, _, errOut := runCLI(t, args(parts)...); code == 0 || !strings.Contains(errOut, "step 4") {
		t.Fatalf("run stopped at step 4: exit %d\n%s", code, errOut)
	}
	os.Unsetenv("SSL4DP_TEST_NAN_STEP")
	if code, _, errOut := runCLI(t, "train", "classify", "--resume", "--out", parts); code != 0 || !strings.Contains(errOut, "resumed from") {
		t.Fatalf("resume: exit %d\n%s", code, errOut)
	}
	for _, name := range []string{classify.ModelFile, classify.EncoderFile} {
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

// Folders that do not describe classes are exit 2 with the folder named and the fix.
func TestTrainClassifyBadFolders(t *testing.T) {
	flat := t.TempDir()
	emptyClass := t.TempDir()
	loose := patternFolder(t, 1)
	os.WriteFile(filepath.Join(flat, "a.png"), nil, 0o644)
	os.MkdirAll(filepath.Join(emptyClass, "cats"), 0o755)
	os.MkdirAll(filepath.Join(emptyClass, "dogs"), 0o755)
	os.WriteFile(filepath.Join(emptyClass, "dogs", "d.png"), nil, 0o644)
	os.WriteFile(filepath.Join(loose, "stray.png"), nil, 0o644)
	for _, c := range []struct{ dir, want string }{
		{flat, "has no sub-folders: classification takes its classes from them; put each class's images in " + flat + "/CLASS/"},
		{emptyClass, "class folder " + filepath.Join(emptyClass, "cats") + " has no .jpg, .jpeg or .png images"},
		{loose, "1 image(s) outside the class sub-folders (e.g. " + filepath.Join(loose, "stray.png") + "); move each into its class's folder"},
	} {
		code, _, errOut := runCLI(t, classifyArgs(c.dir, filepath.Join(t.TempDir(), "run"), 1)...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("folder:%s: exit %d, stderr %q; want 2 and %q", c.dir, code, errOut, c.want)
		}
	}
}
