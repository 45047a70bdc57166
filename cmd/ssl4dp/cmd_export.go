package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/ssl4dp/ssl4dp/export"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// ExportCmd writes an inference model from a trained run, checked against Gorgonia.
type ExportCmd struct {
	Output string `arg:"" type:"path" placeholder:"MODEL.onnx" help:"Where to write the inference model (replaced atomically, and only by a model that passed the check)."`

	From    string  `default:"." placeholder:"RUN_DIR|CHECKPOINT" help:"The trained model: a run folder (its model.onnx, or the latest checkpoint's while the run is unfinished), a checkpoint folder (RUN_DIR/checkpoints/step-N), or an .onnx file."`
	What    string  `default:"seg" enum:"seg,encoder" help:"What to export: seg (image → logits [N,K,H,W]) or encoder (image → features [N,C,H/os,W/os], e.g. from a pre-training run)."`
	Tensor  string  `placeholder:"NAME" help:"Tensor to export from a model that does not use ssl4dp's names ('logits', 'features'), e.g. 'out' of a PyTorch export."`
	Argmax  bool    `help:"End the seg model with ArgMax: the output is class indices 'labels' [N,H,W] (int64) instead of logits."`
	Dynamic bool    `help:"Make batch, height and width dynamic (N, H, W); otherwise the input is fixed at --batch × 3 × --size × --size."`
	Opset   int64   `default:"0" help:"ONNX opset to write, 13–17 (default: the source's)."`
	FoldBN  bool    `name:"fold-bn" help:"Fold every BatchNorm into the convolution before it (W·γ/√(σ²+ε), (b−μ)·γ/√(σ²+ε)+β)."`
	Size    int     `default:"0" help:"Input height and width: the fixed size of a static export, and the size the check runs at (default: the run's validation size or training crop, else the source's fixed size, else 512)."`
	Batch   int     `default:"0" help:"Batch of a static export (default: the source's fixed batch, else 1)."`
	Seed    int64   `default:"1" help:"Seed of the random input the check uses."`
	Tol     float64 `default:"1e-4" help:"Largest accepted difference between onnxruntime and Gorgonia, relative to the output's largest magnitude."`
	OrtLib  string  `name:"ort-lib" placeholder:"FILE" help:"onnxruntime shared library (default: $ONNXRUNTIME_SHARED_LIBRARY_PATH, the 'just setup' cache, then system folders)."`
}

// Run reads the trained model, exports and checks it, and writes the file.
func (c *ExportCmd) Run(*Globals) error {
	if err := ort.Init(c.OrtLib); err != nil {
		return fmt.Errorf("export: the export is checked with onnxruntime before it is written: %w", err)
	}
	src, err := export.Open(c.From)
	if err != nil {
		return err
	}
	if sameFile(src.Path, c.Output) {
		return &export.OptionsError{Msg: fmt.Sprintf("%s is the trained model itself; write the export to another file", c.Output)}
	}
	info, err := src.Info()
	if err != nil {
		return err
	}
	size := c.Size
	if size == 0 {
		size = src.InputSize()
	}
	res, err := export.Export(src.Model, export.Options{What: export.What(c.What), Argmax: c.Argmax, Dynamic: c.Dynamic,
		Opset: c.Opset, FoldBN: c.FoldBN, Tensor: c.Tensor, Batch: c.Batch, H: size, W: size, Seed: c.Seed, Tol: c.Tol, Info: info})
	if err != nil {
		return err
	}
	if err := onnx.WriteFile(c.Output, res.Model); err != nil {
		return err
	}
	c.report(src, res)
	return nil
}

func (c *ExportCmd) report(src *export.Source, res *export.Result) {
	s := onnx.Summarize(res.Model)
	var in, out string
	if len(s.Inputs) > 0 {
		in = fmt.Sprintf("%s [%s]", s.Inputs[0].Name, strings.Join(s.Inputs[0].Shape, " "))
	}
	if len(s.Outputs) > 0 {
		out = fmt.Sprintf("%s %s [%s]", s.Outputs[0].Name, strings.ToLower(s.Outputs[0].Type), strings.Join(s.Outputs[0].Shape, " "))
	}
	fmt.Fprintf(stdout, "wrote %s: %s → %s, opset %d, %d nodes, %s parameters\n", c.Output, in, out, res.Opset, res.Nodes, thousands(s.Params))
	from := src.Path
	if src.Step >= 0 {
		from += fmt.Sprintf(" (checkpoint at step %d)", src.Step)
	}
	fmt.Fprintf(stdout, "  from %s; left out %d nodes the %s output does not need\n", from, res.Dropped, c.What)
	switch {
	case c.FoldBN:
		fmt.Fprintf(stdout, "  BatchNorm: %d folded into convolutions, %d kept in inference form\n", res.FoldedBN, len(res.KeptBN))
	case len(res.KeptBN) > 0:
		fmt.Fprintf(stdout, "  BatchNorm: %d in inference form (running statistics)\n", len(res.KeptBN))
	}
	for _, ch := range res.Checks {
		line := fmt.Sprintf("  checked: onnxruntime vs Gorgonia (evaluation mode) at input %v: max relative error %.2g (tolerance %g)", ch.Input, ch.MaxRel, c.Tol)
		if ch.Labels > 0 {
			line += fmt.Sprintf(", labels %d/%d equal to the argmax", ch.Labels-ch.LabelErrors, ch.Labels)
		}
		fmt.Fprintln(stdout, line)
	}
	if len(s.Metadata) > 0 {
		var keys []string
		for k := range s.Metadata {
			if strings.HasPrefix(k, "ssl4dp.") && k != "ssl4dp.graphs.spec" {
				keys = append(keys, strings.TrimPrefix(k, "ssl4dp."))
			}
		}
		if len(keys) > 0 {
			slices.Sort(keys)
			fmt.Fprintf(stdout, "  metadata: %s (ssl4dp inspect %s)\n", strings.Join(keys, ", "), c.Output)
		}
	}
}

// sameFile reports whether two paths name one existing file.
func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}
