package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/evaluate"
	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// EvaluateCmd groups the evaluation protocols. `ssl4dp evaluate --model M.onnx` (the
// default subcommand, also spelled `evaluate model`) scores a segmentation model; `evaluate
// linear` and `evaluate retrieval` score a frozen encoder (cmd_evaluate_probes.go).
type EvaluateCmd struct {
	Model     EvaluateModelCmd     `cmd:"" default:"withargs" help:"Score a segmentation model (the default: 'ssl4dp evaluate --model M.onnx --data SPEC')."`
	Linear    EvaluateLinearCmd    `cmd:"" help:"Linear probe on a frozen encoder: a 1×1 conv with BatchNorm trained on its cached dense features; val mIoU."`
	Retrieval EvaluateRetrievalCmd `cmd:"" help:"In-context retrieval (Hummingbird) on a frozen encoder: each val patch takes the labels of its nearest train patches; val mIoU, no training."`
}

// EvaluateModelCmd scores a segmentation model with onnxruntime on a labelled split, through
// the same protocol (evaluate.Run) as validation during training.
type EvaluateModelCmd struct {
	Model    string `required:"" type:"path" placeholder:"MODEL.onnx" help:"Segmentation model: an 'ssl4dp export' (logits, or labels with --argmax) or any ONNX model with one image input [N,3,H,W] and logits [N,K,h,w]."`
	Data     string `required:"" placeholder:"SPEC" help:"Labelled dataset: voc:DIR, seg:DIR, synthetic[:k=v,...], cutpaste:... (see 'ssl4dp data --help')."`
	Split    string `default:"val" help:"Split to evaluate."`
	Provider string `default:"cpu" enum:"cpu,cuda" help:"onnxruntime execution provider: ${enum}. cuda needs a GPU build of onnxruntime (--ort-lib)."`
	OrtLib   string `name:"ort-lib" placeholder:"FILE" help:"onnxruntime shared library (default: $ONNXRUNTIME_SHARED_LIBRARY_PATH, the 'just setup' cache, then system folders)."`
	Threads  int    `default:"0" help:"onnxruntime intra-op threads (0: one per core)."`
	Batch    int    `default:"8" help:"Most images per forward pass (only images of one size share a pass)."`
	Size     int    `xor:"size" help:"Resize every image to SIZE×SIZE for the network (scores are still counted on the original masks). Default for a model with a fixed input size: that size."`
	Whole    bool   `xor:"size" help:"Whole images at their own size, one size per forward pass (the default for a model with dynamic H and W)."`
	Limit    int    `help:"Evaluate only the first N images (0: all)."`
	JSON     bool   `name:"json" help:"Print one JSON object instead of the table."`

	SaveOverlays string `name:"save-overlays" type:"path" placeholder:"DIR" help:"Write PNGs of image | ground truth | prediction (dataset palette) for the first --overlays images into DIR."`
	Overlays     int    `default:"8" help:"How many images --save-overlays draws."`
}

// evaluateReport is the --json output.
type evaluateReport struct {
	Model       string         `json:"model"`
	Data        string         `json:"data"`
	Images      int            `json:"images"`
	Input       string         `json:"input"` // "whole" or "SxS"
	Provider    string         `json:"provider"`
	ORT         string         `json:"onnxruntime"`
	Classes     []string       `json:"classes"`
	Scores      metrics.Scores `json:"scores"`
	Confusion   [][]int64      `json:"confusion"` // [label][prediction] pixel counts
	Normalise   [2][3]float32  `json:"mean_std"`
	Overlays    []string       `json:"overlays,omitempty"`
	Seconds     float64        `json:"seconds"`
	Predictions string         `json:"predictions"` // "logits" or "labels"
}

// evalUsageError is a bad flag combination: exit code 2.
type evalUsageError struct{ msg string }

func (e *evalUsageError) Error() string { return "evaluate: " + e.msg }
func (e *evalUsageError) ExitCode() int { return 2 }

// Run loads the model and the data, checks that they fit, evaluates and prints.
func (c *EvaluateModelCmd) Run(*Globals) error {
	if c.Batch < 1 || c.Size < 0 || c.Limit < 0 || c.Overlays < 1 || c.Threads < 0 {
		return &evalUsageError{fmt.Sprintf("--batch %d, --size %d, --limit %d, --overlays %d, --threads %d: want batch and overlays ≥ 1, the others ≥ 0", c.Batch, c.Size, c.Limit, c.Overlays, c.Threads)}
	}
	if err := ort.Init(c.OrtLib); err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	m, err := evaluate.OpenModel(c.Model, ort.Options{Provider: c.Provider, Threads: c.Threads})
	if err != nil {
		return err
	}
	defer m.Close()
	ds, err := data.Open(c.Data, data.Options{Split: c.Split})
	if err != nil {
		return err
	}
	if !data.Labelled(ds) {
		return &evalUsageError{fmt.Sprintf("%s has no labels; evaluation needs a segmentation dataset", ds.Name())}
	}
	if err := m.CheckClasses(ds); err != nil {
		return err
	}
	size, err := c.inputSize(m)
	if err != nil {
		return err
	}
	o := evaluate.Options{Size: size, Batch: c.Batch, Limit: c.Limit}
	if len(m.Info.Mean) == 3 && len(m.Info.Std) == 3 {
		for i := range 3 {
			o.Mean[i], o.Std[i] = float32(m.Info.Mean[i]), float32(m.Info.Std[i])
		}
	}
	if len(m.Info.Classes) > 0 && !slices.Equal(m.Info.Classes, ds.Classes()) {
		fmt.Fprintf(stderr, "warning: the model was trained on classes %s, the data names %s; scores are shown with the data's names\n",
			strings.Join(m.Info.Classes, ", "), strings.Join(ds.Classes(), ", "))
	}
	var ov *evaluate.Overlays
	if c.SaveOverlays != "" {
		if ov, err = evaluate.NewOverlays(c.SaveOverlays, ds, c.Overlays); err != nil {
			return err
		}
		o.Visit = ov.Visit
	}
	start := time.Now()
	res, err := evaluate.Run(ds, m.Forward, o)
	if err != nil {
		return err
	}
	r := evaluateReport{Model: c.Model, Data: ds.Name(), Images: res.Images, Input: "whole", Provider: c.Provider, ORT: ort.Version(),
		Classes: res.Classes, Scores: res.Scores, Seconds: time.Since(start).Seconds(), Predictions: "logits"}
	if size > 0 {
		r.Input = fmt.Sprintf("%dx%d", size, size)
	}
	if m.Argmax {
		r.Predictions = "labels"
	}
	for l := 0; l < res.Confusion.K; l++ {
		r.Confusion = append(r.Confusion, res.Confusion.Counts[l*res.Confusion.K:(l+1)*res.Confusion.K])
	}
	r.Normalise = [2][3]float32{o.Mean, o.Std}
	if o.Mean == ([3]float32{}) {
		r.Normalise = [2][3]float32{data.ImageNetMean, data.ImageNetStd}
	}
	if ov != nil {
		r.Overlays = ov.Files
	}
	if c.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	input := "whole images"
	if size > 0 {
		input = fmt.Sprintf("images resized to %d×%d", size, size)
	}
	fmt.Fprintf(stdout, "%s on %s: %d images, %s, onnxruntime %s (%s), %.1fs\n", c.Model, ds.Name(), res.Images, input, r.ORT, c.Provider, r.Seconds)
	if m.Argmax {
		fmt.Fprintln(stdout, "  the model outputs class indices (an --argmax export): scored as one-hot logits, exactly as predicted when the network answers at the mask's size (--whole)")
	}
	fmt.Fprint(stdout, res.Scores.Table(res.Classes))
	if ov != nil {
		fmt.Fprintf(stdout, "overlays (image | ground truth | prediction): %d PNGs in %s\n", len(ov.Files), c.SaveOverlays)
	}
	return nil
}

// inputSize decides the network's input size: --size, whole images, or a fixed-size model's
// own size.
func (c *EvaluateModelCmd) inputSize(m *evaluate.Model) (int, error) {
	_, h, w := m.Fixed()
	if h == 0 && w == 0 {
		return c.Size, nil // dynamic: --size or whole images
	}
	fixed := fmt.Sprintf("%s has a fixed input size %dx%d", c.Model, h, w)
	switch {
	case h == 0 || w == 0 || h != w:
		return 0, &evalUsageError{fixed + " that is not square; evaluate resizes to SIZE×SIZE: re-export it with --dynamic or a square --size"}
	case c.Whole:
		return 0, &evalUsageError{fixed + "; --whole needs dynamic H and W: re-export it with --dynamic"}
	case c.Size != 0 && c.Size != h:
		return 0, &evalUsageError{fmt.Sprintf("%s; --size %d would not fit: leave --size out, or re-export with --dynamic", fixed, c.Size)}
	}
	return h, nil
}
