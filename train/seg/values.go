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
