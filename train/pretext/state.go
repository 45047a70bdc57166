package pretext

import (
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
)

// encodeModel is m's network with its current parameters and BatchNorm statistics, as ONNX
// bytes (importer.WriteBack).
func encodeModel(m *importer.Model) ([]byte, error) {
	mp, err := m.WriteBack()
	if err != nil {
		return nil, errorf("%w", err)
	}
	b, err := onnx.Encode(mp)
	if err != nil {
		return nil, errorf("%w", err)
	}
	return b, nil
}

// restoreModel loads what encodeModel wrote (file, for messages) into m's parameter nodes
// and BatchNorm states, in place and exactly. Every parameter and statistic must be there
// with its size.
func restoreModel(m *importer.Model, data []byte, file string) error {
	if data == nil {
		return errorf("restore: the checkpoint has no %s", file)
	}
	mp, err := onnx.Decode(data, file)
	if err != nil {
		return errorf("restore: %w", err)
	}
	inits := onnx.Initializers(mp.Graph)
	load := func(name string, dst []float32) error {
		t, ok := inits[name]
		if !ok {
			return errorf("restore: %s has no initializer %q", file, name)
		}
		f, err := onnx.Floats(t)
		if err != nil {
			return errorf("restore: %s: %q: %w", file, name, err)
		}
		if len(f) != len(dst) {
			return errorf("restore: %s: %q has %d values, the network %d", file, name, len(f), len(dst))
		}
		copy(dst, f)
		return nil
	}
	for _, p := range m.Params() {
		v, err := values(p)
		if err != nil {
			return err
		}
		if err := load(p.Name, v); err != nil {
			return err
		}
	}
	for _, bn := range m.BatchNorms() {
		if err := load(bn.Mean, bn.State.Mean.Data().([]float32)); err != nil {
			return err
		}
		if err := load(bn.Var, bn.State.Var.Data().([]float32)); err != nil {
			return err
		}
	}
	return nil
}
