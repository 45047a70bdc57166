package pretext

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// InitReport says what ApplyInit did, by initializer name.
type InitReport struct {
	Loaded  []string // copied from the file into the model
	Skipped []string // in the file but not used: no such initializer in the model (a classifier's fc.*), or not a float tensor (num_batches_tracked)
	Missing []string // in the model but not in the file: they keep their fresh initialisation
}

func (r InitReport) String() string {
	if len(r.Loaded)+len(r.Skipped)+len(r.Missing) == 0 {
		return "random initialisation"
	}
	return fmt.Sprintf("loaded %d initializers, skipped %d%s, missing %d%s",
		len(r.Loaded), len(r.Skipped), examples(r.Skipped), len(r.Missing), examples(r.Missing))
}

// examples lists up to four names as " (a, b, c, … and 7 more)".
func examples(names []string) string {
	if len(names) == 0 {
		return ""
	}
	n := min(len(names), 4)
	s := " (" + strings.Join(names[:n], ", ")
	if len(names) > n {
		s += fmt.Sprintf(", … and %d more", len(names)-n)
	}
	return s + ")"
}

// ApplyInit copies into dst every float initializer of src that dst has under the same
// name — the torchvision state_dict keys that graphs uses for encoders, so an encoder.onnx of
// an earlier run or a PyTorch export (scripts/export_torchvision.py) loads by name. A name
// present in both with different shapes is an error (the encoder or width does not match);
// nothing is copied then. At least one initializer must load.
func ApplyInit(dst, src *pb.ModelProto) (InitReport, error) {
	var r InitReport
	if src == nil || src.Graph == nil {
		return r, errorf("init: model has no graph")
	}
	have := onnx.Initializers(dst.Graph)
	var load []*pb.TensorProto
	for _, t := range src.Graph.Initializer {
		name := t.GetName()
		d, ok := have[name]
		if !ok || !isFloat(t) {
			r.Skipped = append(r.Skipped, name)
			continue
		}
		if !isFloat(d) {
			return r, errorf("init: %q is a float tensor in the file but %v in the model", name, pb.TensorProto_DataType(d.GetDataType()))
		}
		if !slices.Equal(onnx.Shape(t), onnx.Shape(d)) {
			return r, errorf("init: %q has shape %v in the file and %v in the model; the file was made for another encoder, width or head", name, onnx.Shape(t), onnx.Shape(d))
		}
		load = append(load, t)
	}
	if len(load) == 0 {
		return r, errorf("init: no initializer of the file matches the model by name (the file has %d, e.g. %v; the model's encoder uses torchvision's names such as conv1.weight)", len(src.Graph.Initializer), firstNames(src.Graph, 3))
	}
	loaded := map[string]bool{}
	for _, t := range load {
		f, err := onnx.Floats(t)
		if err != nil {
			return r, errorf("init: %q: %v", t.GetName(), err)
		}
		onnx.SetInitializer(dst.Graph, onnx.FromFloats(t.GetName(), onnx.Shape(t), f))
		r.Loaded = append(r.Loaded, t.GetName())
		loaded[t.GetName()] = true
	}
	for _, t := range dst.Graph.Initializer {
		if isFloat(t) && !loaded[t.GetName()] {
			r.Missing = append(r.Missing, t.GetName())
		}
	}
	return r, nil
}

func isFloat(t *pb.TensorProto) bool {
	switch pb.TensorProto_DataType(t.GetDataType()) {
	case pb.TensorProto_FLOAT, pb.TensorProto_DOUBLE, pb.TensorProto_FLOAT16, pb.TensorProto_BFLOAT16:
		return true
	}
	return false
}

func firstNames(g *pb.GraphProto, n int) []string {
	var out []string
	for _, t := range g.Initializer {
		if len(out) == n {
			break
		}
		out = append(out, t.GetName())
	}
	return out
}
