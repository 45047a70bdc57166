// Package modelinfo is what an exported model says about itself in its ONNX metadata_props:
// the method that trained it, the data, the classes and their names, the input
// normalisation, the ssl4dp version and the run it came from. `ssl4dp export` writes it and
// `ssl4dp evaluate` reads it (to name classes, check the class count against the data and
// normalise images as training did).
//
//	info, err := modelinfo.Read(model) // the zero Info when the model carries none
//	info.Write(model)                  // sets every non-empty field's key
//
// It depends only on package onnx, so evaluate reads it without linking Gorgonia.
package modelinfo

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// The metadata_props keys. Values are plain strings, or JSON for lists and maps.
const (
	KeyVersion    = "ssl4dp.version"     // ssl4dp version that exported the model
	KeySource     = "ssl4dp.source"      // the run folder or checkpoint it was exported from
	KeyOutput     = "ssl4dp.output"      // "seg" (logits or labels) or "encoder" (features)
	KeyArgmax     = "ssl4dp.argmax"      // "true": the output is class indices, not logits
	KeyMethod     = "ssl4dp.method"      // training method: "seg", "moco", "plmoco", …
	KeySteps      = "ssl4dp.steps"       // optimizer steps of the run
	KeyEpochs     = "ssl4dp.epochs"      // passes over the training data (may be fractional)
	KeySeed       = "ssl4dp.seed"        // the run's seed
	KeyData       = "ssl4dp.data"        // the training data spec (data.Open)
	KeyNumClasses = "ssl4dp.num_classes" // class count of the segmentation output
	KeyClasses    = "ssl4dp.classes"     // JSON list of class names, by label
	KeyMean       = "ssl4dp.mean"        // JSON [3] per-channel mean on 0–255 RGB
	KeyStd        = "ssl4dp.std"         // JSON [3] per-channel standard deviation on 0–255 RGB
	KeyMetrics    = "ssl4dp.metrics"     // JSON map of the run's final metrics (e.g. "val_miou")
)

// Info is the metadata of an exported model. Zero fields are absent.
type Info struct {
	Version    string
	Source     string
	Output     string
	Argmax     bool
	Method     string
	Steps      int
	Epochs     float64
	Seed       uint64
	Data       string
	NumClasses int
	Classes    []string
	Mean, Std  []float64 // nil, or three values
	Metrics    map[string]float64
}

// Read returns the Info in m's metadata_props. A key holding a value of the wrong form is
// an error naming the key and the value.
func Read(m *pb.ModelProto) (Info, error) {
	var in Info
	get := func(k string) (string, bool) { return onnx.Metadata(m, k) }
	bad := func(k, v, want string) error {
		return fmt.Errorf("modelinfo: metadata %s = %q: want %s", k, v, want)
	}
	in.Version, _ = get(KeyVersion)
	in.Source, _ = get(KeySource)
	in.Output, _ = get(KeyOutput)
	in.Method, _ = get(KeyMethod)
	in.Data, _ = get(KeyData)
	if v, ok := get(KeyArgmax); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Info{}, bad(KeyArgmax, v, "true or false")
		}
		in.Argmax = b
	}
	for _, f := range []struct {
		key string
		dst *int
	}{{KeySteps, &in.Steps}, {KeyNumClasses, &in.NumClasses}} {
		if v, ok := get(f.key); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return Info{}, bad(f.key, v, "a non-negative integer")
			}
			*f.dst = n
		}
	}
	if v, ok := get(KeySeed); ok {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return Info{}, bad(KeySeed, v, "a non-negative integer")
		}
		in.Seed = n
	}
	if v, ok := get(KeyEpochs); ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return Info{}, bad(KeyEpochs, v, "a non-negative number")
		}
		in.Epochs = f
	}
	if v, ok := get(KeyClasses); ok {
		if err := json.Unmarshal([]byte(v), &in.Classes); err != nil {
			return Info{}, bad(KeyClasses, v, "a JSON list of class names")
		}
	}
	for _, f := range []struct {
		key string
		dst *[]float64
	}{{KeyMean, &in.Mean}, {KeyStd, &in.Std}} {
		if v, ok := get(f.key); ok {
			if err := json.Unmarshal([]byte(v), f.dst); err != nil || len(*f.dst) != 3 {
				return Info{}, bad(f.key, v, "a JSON list of 3 numbers (R, G, B)")
			}
		}
	}
	for i, s := range in.Std {
		if !(s > 0) {
			return Info{}, fmt.Errorf("modelinfo: metadata %s: channel %d has std %v; want > 0", KeyStd, i, s)
		}
	}
	if v, ok := get(KeyMetrics); ok {
		if err := json.Unmarshal([]byte(v), &in.Metrics); err != nil {
			return Info{}, bad(KeyMetrics, v, "a JSON object of numbers")
		}
	}
	if in.NumClasses > 0 && len(in.Classes) > 0 && len(in.Classes) != in.NumClasses {
		return Info{}, fmt.Errorf("modelinfo: metadata lists %d class names (%s) but %s = %d", len(in.Classes), KeyClasses, KeyNumClasses, in.NumClasses)
	}
	return in, nil
}

// Write sets the key of every non-zero field of in on m (replacing earlier values).
func (in Info) Write(m *pb.ModelProto) {
	set := func(k, v string) {
		if v != "" {
			onnx.SetMetadata(m, k, v)
		}
	}
	js := func(v any) string {
		b, _ := json.Marshal(v) // strings, numbers and maps of them always marshal
		return string(b)
	}
	set(KeyVersion, in.Version)
	set(KeySource, in.Source)
	set(KeyOutput, in.Output)
	if in.Argmax {
		set(KeyArgmax, "true")
	}
	set(KeyMethod, in.Method)
	if in.Steps > 0 {
		set(KeySteps, strconv.Itoa(in.Steps))
	}
	if in.Epochs > 0 {
		set(KeyEpochs, strconv.FormatFloat(in.Epochs, 'g', -1, 64))
	}
	if in.Seed != 0 {
		set(KeySeed, strconv.FormatUint(in.Seed, 10))
	}
	set(KeyData, in.Data)
	if in.NumClasses > 0 {
		set(KeyNumClasses, strconv.Itoa(in.NumClasses))
	}
	if len(in.Classes) > 0 {
		set(KeyClasses, js(in.Classes))
	}
	if len(in.Mean) > 0 {
		set(KeyMean, js(in.Mean))
	}
	if len(in.Std) > 0 {
		set(KeyStd, js(in.Std))
	}
	finite := map[string]float64{}
	for k, v := range in.Metrics {
		if !math.IsNaN(v) && !math.IsInf(v, 0) { // JSON has no NaN; an undefined score is left out
			finite[k] = v
		}
	}
	if len(finite) > 0 {
		set(KeyMetrics, js(finite))
	}
}
