package experiment

import (
	"fmt"
	"time"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/evaluate"
	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// EvalReport is a cell's eval.json: the exported model scored with onnxruntime on the val
// split, as `ssl4dp evaluate --model MODEL --data DATA --json` scores it.
type EvalReport struct {
	Model     string         `json:"model"`
	Data      string         `json:"data"`
	Images    int            `json:"images"`
	Input     string         `json:"input"` // "whole" or "SxS"
	Classes   []string       `json:"classes"`
	Scores    metrics.Scores `json:"scores"`
	Confusion [][]int64      `json:"confusion"` // [label][prediction] pixel counts
	Overlays  []string       `json:"overlays,omitempty"`
	Seconds   float64        `json:"seconds"`
}

// evaluateModel runs the protocol of `ssl4dp evaluate` with its defaults: the model's own
// normalisation, whole images for a dynamic model (its fixed size otherwise), e.Batch
// images per pass, the CPU provider.
func evaluateModel(model, spec string, e Eval, overlayDir string) (*EvalReport, error) {
	m, err := evaluate.OpenModel(model, ort.Options{Provider: "cpu", Threads: e.Threads})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	ds, err := data.Open(spec, data.Options{Split: "val"})
	if err != nil {
		return nil, err
	}
	if !data.Labelled(ds) {
		return nil, fmt.Errorf("experiment: %s has no labels; the grid's data must be a segmentation dataset", ds.Name())
	}
	if err := m.CheckClasses(ds); err != nil {
		return nil, err
	}
	o := evaluate.Options{Batch: e.Batch}
	if _, h, w := m.Fixed(); h > 0 && h == w {
		o.Size = h
	}
	if len(m.Info.Mean) == 3 && len(m.Info.Std) == 3 {
		for i := range 3 {
			o.Mean[i], o.Std[i] = float32(m.Info.Mean[i]), float32(m.Info.Std[i])
		}
	}
	var ov *evaluate.Overlays
	if overlayDir != "" && e.Overlays > 0 {
		if ov, err = evaluate.NewOverlays(overlayDir, ds, e.Overlays); err != nil {
			return nil, err
		}
		o.Visit = ov.Visit
	}
	start := time.Now()
	res, err := evaluate.Run(ds, m.Forward, o)
	if err != nil {
		return nil, err
	}
	r := &EvalReport{Model: model, Data: ds.Name(), Images: res.Images, Input: "whole", Classes: res.Classes,
		Scores: res.Scores, Seconds: time.Since(start).Seconds()}
	if o.Size > 0 {
		r.Input = fmt.Sprintf("%dx%d", o.Size, o.Size)
	}
	for l := 0; l < res.Confusion.K; l++ {
		r.Confusion = append(r.Confusion, res.Confusion.Counts[l*res.Confusion.K:(l+1)*res.Confusion.K])
	}
	if ov != nil {
		r.Overlays = ov.Files
	}
	return r, nil
}
