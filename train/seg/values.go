package seg

import (
	"fmt"
	"slices"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// loadValues copies the parameters and BatchNorm running statistics of mp into an imported
// model, by initializer name. Every one must be present with the model's shape; on error
// the model may be partly loaded.
func loadValues(m *importer.Model, mp *pb.ModelProto) error {
	inits := onnx.Initializers(mp.GetGraph())
	load := func(name string, dst []float32, shape []int) error {
		t, ok := inits[name]
		if !ok {
			return fmt.Errorf("seg: the checkpoint's model has no initializer %q", name)
		}
		if shape != nil && !slices.Equal(onnx.Shape(t), shape) {
			return fmt.Errorf("seg: the checkpoint's %q has shape %v, the model %v", name, onnx.Shape(t), shape)
		}
		v, err := onnx.Floats(t)
		if err != nil {
			return fmt.Errorf("seg: the checkpoint's %q: %w", name, err)
		}
		if len(v) != len(dst) {
			return fmt.Errorf("seg: the checkpoint's %q has %d values, the model %d", name, len(v), len(dst))
		}
		copy(dst, v)
		return nil
	}
	for _, p := range m.Params() {
		if err := load(p.Name, p.Node.Value().Data().([]float32), p.Shape); err != nil {
			return err
		}
	}
	for _, bn := range m.BatchNorms() {
		if err := load(bn.Mean, bn.State.Mean.Data().([]float32), nil); err != nil {
			return err
		}
		if err := load(bn.Var, bn.State.Var.Data().([]float32), nil); err != nil {
			return err
		}
	}
	return nil
}

// copyValues copies every parameter and BatchNorm statistic of src into dst, two imports of
// the same ONNX model (the training graph into an evaluation graph of another input size).
func copyValues(dst, src *importer.Model) error {
	params := map[string][]float32{}
	for _, p := range src.Params() {
		params[p.Name] = p.Node.Value().Data().([]float32)
	}
	for _, p := range dst.Params() {
		v, ok := params[p.Name]
		d := p.Node.Value().Data().([]float32)
		if !ok || len(v) != len(d) {
			return fmt.Errorf("seg: parameter %q differs between the training and evaluation graphs", p.Name)
		}
		copy(d, v)
	}
	stats := map[string][2][]float32{}
	for _, bn := range src.BatchNorms() {
		stats[bn.Mean] = [2][]float32{bn.State.Mean.Data().([]float32), bn.State.Var.Data().([]float32)}
	}
	for _, bn := range dst.BatchNorms() {
		s, ok := stats[bn.Mean]
		mean, vr := bn.State.Mean.Data().([]float32), bn.State.Var.Data().([]float32)
		if !ok || len(s[0]) != len(mean) || len(s[1]) != len(vr) {
			return fmt.Errorf("seg: BatchNorm %q differs between the training and evaluation graphs", bn.Node)
		}
		copy(mean, s[0])
		copy(vr, s[1])
	}
	return nil
}
