package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/train/pretext"
)

// pretextArgs is a tiny pre-training run: 1/8-width ResNet-18, 32-pixel views of 48-pixel
// synthetic scenes, batch 8, 3 steps, the CPU-scale settings with small queues.
func pretextArgs(method, out string) []string {
	args := []string{"train", "pretext", "--method", method, "--scale", "cpu", "--encoder", "resnet18", "--width", "0.125",
		"--size", "32", "--batch", "8", "--iters", "3", "--data", "synthetic:size=48,n=32", "--out", out}
	switch method {
	case "moco", "edmoco", "cp2":
		args = append(args, "--queue", "64")
	case "plmoco", "pledmoco":
		args = append(args, "--dense-queue", "64")
	case "plr":
		args = append(args, "--grid", "2")
	case "densecl":
		args = append(args, "--queue", "64", "--dense-queue", "64")
	case "pixpro":
		args = append(args, "--dim", "32", "--hidden", "64")
	}
	if pretext.Decoder(method) {
		args = append(args, "--decoder-width", "16")
	}
	return args
}

// Every method pre-trains from the command line and its encoder.onnx (and decoder.onnx)
// starts `train seg`: every encoder initializer loads, none is skipped, only the head is new.
func TestTrainPretextThenSeg(t *testing.T) {
	loaded := regexp.MustCompile(`init from \S+: (\d+) loaded, (\d+) skipped`)
	for _, method := range pretext.Methods {
		t.Run(method, func(t *testing.T) {
			dir := t.TempDir()
			run := filepath.Join(dir, "run")
			code, _, errOut := runCLI(t, pretextArgs(method, run)...)
			if code != 0 {
				t.Fatalf("train pretext: exit %d\n%s", code, errOut)
			}
			if !strings.Contains(errOut, "pretext: cpu scale: ") {
				t.Errorf("the run does not print its settings:\n%s", errOut)
			}
			files := []string{pretext.EncoderFile}
			if pretext.Decoder(method) {
				files = append(files, pretext.DecoderFile)
			}
			for _, name := range files {
				init := filepath.Join(run, name)
				if _, err := os.Stat(init); err != nil {
					t.Fatal(err)
				}
				code, _, errOut := runCLI(t, "train", "seg", "--encoder", "resnet18", "--width", "0.125", "--init", init,
					"--data", "synthetic:size=32,n=8,val=2", "--crop", "32", "--batch", "4", "--iters", "1", "--out", filepath.Join(dir, "seg-"+name))
				if code != 0 {
					t.Fatalf("train seg --init %s: exit %d\n%s", name, code, errOut)
				}
				m := loaded.FindStringSubmatch(errOut)
				if m == nil || m[2] != "0" {
					t.Fatalf("train seg --init %s: want a load report with 0 skipped:\n%s", name, errOut)
				}
				want := "missing: head.* (" // the encoder loads whole; the new head is random
				if name == pretext.DecoderFile {
					want = "missing: head.* (2)" // all but the classifier's weight and bias
				}
				if !strings.Contains(errOut, want) {
					t.Errorf("train seg --init %s: report lacks %q:\n%s", name, want, errOut)
				}
			}
		})
	}
}

func torchvisionEighth(t *testing.T) string {
	return filepath.Join(testenv.RepoRoot(t), "train", "pretext", "testdata", "resnet18_w0.125_torchvision.onnx")
}

// Continued pre-training from a torchvision export: the report says every encoder tensor
// loaded and the classifier went unused, and --encoder-lr-mult slows the encoder only (the
// projector is in the engine's head group).
func TestTrainPretextInitFromTorchvision(t *testing.T) {
	args := append(pretextArgs("moco", filepath.Join(t.TempDir(), "run")), "--init", torchvisionEighth(t), "--encoder-lr-mult", "0.01")
	code, _, errOut := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"100 loaded, 0 skipped (shape mismatch), 4 missing (random init), 2 in the file unused",
		"missing: projector.* (4)", "unused:  fc.* (2)", "encoder lr ×0.01", "encoder: lr×0.01", "head: lr×1"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("output lacks %q:\n%s", want, errOut)
		}
	}
}

func TestTrainPretextBadInput(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "pretext", "--method", "mocov3", "--data", "synthetic", "--out", out}, `--method "mocov3"; want one of`},
		{[]string{"train", "pretext", "--data", "synthetic", "--out", out}, `--method ""`},
		{[]string{"train", "pretext", "--method", "byol", "--queue", "10", "--data", "synthetic", "--out", out}, "--queue does not apply to byol"},
		{[]string{"train", "pretext", "--method", "moco", "--temperature=-1", "--data", "synthetic", "--out", out}, "temperature -1"},
		{[]string{"train", "pretext", "--method", "moco", "--out", out}, "--data is required"},
		{[]string{"train", "pretext", "--method", "moco", "--pos-threshold", "0.5", "--data", "synthetic", "--out", out}, "--pos-threshold does not apply to moco"},
		{[]string{"train", "pretext", "--method", "densecl", "--dense-weight", "2", "--data", "synthetic", "--out", out}, "dense weight 2, want 0 ≤ λ ≤ 1"},
		{[]string{"train", "pretext", "--method", "densecl", "--match", "nearest", "--data", "synthetic", "--out", out}, "--match"},
		// Without --key-chunks the chunks are fitted to the batch (3 for 6); given, they are kept.
		{[]string{"train", "pretext", "--method", "moco", "--encoder", "resnet18", "--width", "0.125", "--size", "32", "--batch", "6",
			"--key-chunks", "8", "--iters", "1", "--data", "synthetic:size=48,n=32", "--out", out}, "batch 6 does not split into 8 key chunks"},
		// A 1/8-width torchvision export into a 1/4-width network: every shape differs.
		{[]string{"train", "pretext", "--method", "moco", "--encoder", "resnet18", "--width", "0.25", "--init", torchvisionEighth(t), "--data", "synthetic", "--out", out},
			"no initializer matches the model by name and shape"},
	} {
		code, _, errOut := runCLI(t, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args[2:], code, errOut, c.want)
		}
	}
}

// A pre-training run stopped after step 4 (the engine's NaN hook; its last checkpoint is at
// step 4) and resumed from the run folder alone ends with the same networks, bit for bit, as
// one run straight through: the key network, queues and optimizer state all come back.
func TestTrainPretextResumeIsExact(t *testing.T) {
	for _, method := range []string{"plmoco", "byol", "densecl", "pixpro", "cp2"} {
		t.Run(method, func(t *testing.T) {
			dir := t.TempDir()
			whole, parts := filepath.Join(dir, "whole"), filepath.Join(dir, "parts")
			args := func(out string) []string {
				a := append(pretextArgs(method, out), "--iters", "6", "--checkpoint-every", "2")
				switch method {
				case "plmoco":
					a = append(a, "--global-weight", "0.5") // both queues
				case "densecl":
					a = append(a, "--match", "geometry") // (similarity is the package test's)
				case "pixpro":
					a = append(a, "--instance-weight", "0.5")
				}
				return a
			}
			if code, _, errOut := runCLI(t, args(whole)...); code != 0 {
				t.Fatalf("uninterrupted run: exit %d\n%s", code, errOut)
			}
			t.Setenv("SSL4DP_TEST_NAN_STEP", "4")
			if code, _, errOut := runCLI(t, args(parts)...); code == 0 || !strings.Contains(errOut, "step 4") {
				t.Fatalf("run stopped at step 4: exit %d\n%s", code, errOut)
			}
			os.Unsetenv("SSL4DP_TEST_NAN_STEP")
			if code, _, errOut := runCLI(t, "train", "pretext", "--resume", "--out", parts); code != 0 || !strings.Contains(errOut, "resumed from") {
				t.Fatalf("resume: exit %d\n%s", code, errOut)
			}
			for _, name := range []string{pretext.ModelFile, pretext.EncoderFile} {
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
		})
	}
}
