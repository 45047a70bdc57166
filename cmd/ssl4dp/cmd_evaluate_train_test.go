package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"testing"

	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
	"github.com/ssl4dp/ssl4dp/export/modelinfo"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/train/runlog"
)

// A model trained by `train seg`, exported and evaluated with onnxruntime, scores exactly the
// validation mIoU the run logged (Gorgonia) on the same data. The run starts from a network
// whose BatchNorms have random statistics (--model), so that its predictions vary across
// classes from the first step and the comparison is not between two all-background maps.
func TestEvaluateReproducesTrainingValidation(t *testing.T) {
	testenv.ORTLibrary(t)
	m, err := graphs.Build(graphs.Spec{Encoder: graphs.ResNet18, OutputStride: 16, Width: 0.125, Head: graphs.HeadFCN, Classes: 4, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	perturbBatchNorm(m)
	// The classifier's N(0, 0.01²) init gives logits so small that a few steps of bias
	// updates make every pixel background; ×100 keeps the predictions the features'.
	w, _ := onnx.Floats(onnx.Initializer(m.Graph, "head.conv_seg.weight"))
	for i := range w {
		w[i] *= 100
	}
	onnx.SetInitializer(m.Graph, onnx.FromFloats("head.conv_seg.weight", onnx.Shape(onnx.Initializer(m.Graph, "head.conv_seg.weight")), w))
	start := filepath.Join(t.TempDir(), "start.onnx")
	if err := onnx.WriteFile(start, m); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(t.TempDir(), "run")
	const data = "synthetic:size=40,n=32,val=6,classes=4"
	code, out, errOut := runCLI(t, "train", "seg", "--model", start, "--data", data, "--crop", "32", "--batch", "4",
		"--iters", "12", "--lr", "0.001", "--val-every", "6", "--out", run)
	if code != 0 {
		t.Fatalf("train seg: exit %d: %s\n%s", code, errOut, out)
	}
	lg, err := runlog.ReadFile(run)
	if err != nil {
		t.Fatal(err)
	}
	if len(lg.Val) == 0 {
		t.Fatal("the run logged no validation")
	}
	logged := lg.Val[len(lg.Val)-1].Scores

	model := filepath.Join(t.TempDir(), "seg.onnx")
	if code, _, errOut := runCLI(t, "export", "--from", run, "--dynamic", "--size", "40", model); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	// The export carries what the engine's run.json says.
	em, err := onnx.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	info, err := modelinfo.Read(em)
	if err != nil {
		t.Fatal(err)
	}
	if info.Method != "seg" || info.Steps != 12 || info.Data != data || len(info.Classes) != 4 || info.Classes[3] != "triangle" ||
		info.NumClasses != 4 || len(info.Mean) != 3 || info.Mean[0] != 123.675 || info.Std[2] != 57.375 || info.Source != run {
		t.Errorf("export metadata from the run: %+v", info)
	}
	code, out, errOut = runCLI(t, "evaluate", "--model", model, "--data", data, "--json")
	if code != 0 {
		t.Fatalf("evaluate: exit %d: %s", code, errOut)
	}
	var r struct {
		Scores    metrics.Scores `json:"scores"`
		Confusion [][]int64      `json:"confusion"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	got := r.Scores
	if math.Abs(got.MIoU-logged.MIoU) > 1e-4 || math.Abs(got.PixelAcc-logged.PixelAcc) > 1e-4 || got.Pixels != logged.Pixels {
		t.Fatalf("evaluate: mIoU %v aAcc %v over %d pixels; the run logged %v %v over %d", got.MIoU, got.PixelAcc, got.Pixels, logged.MIoU, logged.PixelAcc, logged.Pixels)
	}
	for c := range got.IoU {
		if math.IsNaN(got.IoU[c]) != math.IsNaN(logged.IoU[c]) || math.Abs(got.IoU[c]-logged.IoU[c]) > 1e-4 {
			t.Errorf("class %d: IoU %v, logged %v", c, got.IoU[c], logged.IoU[c])
		}
	}
	predicted := 0
	for p := range r.Confusion {
		var n int64
		for l := range r.Confusion {
			n += r.Confusion[l][p]
		}
		if n > 0 {
			predicted++
		}
	}
	if predicted < 3 {
		t.Errorf("the model predicts %d classes (confusion %v): the comparison needs varied predictions", predicted, r.Confusion)
	}
	t.Logf("mIoU %.6f (evaluate, onnxruntime) vs %.6f (logged by train seg); per-class IoU %v", got.MIoU, logged.MIoU, got.IoU)
}

// perturbBatchNorm gives every BatchNorm seeded statistics and affine values.
func perturbBatchNorm(mp *pb.ModelProto) {
	inits := onnx.Initializers(mp.Graph)
	x := uint32(7)
	next := func() float32 { x = x*1664525 + 1013904223; return float32(x>>8) / (1 << 24) }
	for _, n := range mp.Graph.Node {
		if n.GetOpType() != "BatchNormalization" {
			continue
		}
		for i, rng := range [][2]float32{{}, {0.5, 1.5}, {-0.2, 0.2}, {-0.2, 0.2}, {0.5, 1.5}} {
			t := inits[n.Input[i]]
			if i == 0 || t == nil {
				continue
			}
			v := make([]float32, t.Dims[0])
			for j := range v {
				v[j] = rng[0] + (rng[1]-rng[0])*next()
			}
			onnx.SetInitializer(mp.Graph, onnx.FromFloats(t.GetName(), onnx.Shape(t), v))
		}
	}
}
