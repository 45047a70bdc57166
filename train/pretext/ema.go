package pretext

import (
	"slices"

	"github.com/ssl4dp/ssl4dp/onnx/importer"
)

// EMA is the exponential moving average that makes a momentum network out of an online one
// (MoCo's key encoder, BYOL's target): θ_target ← m·θ_target + (1 − m)·θ_online for every
// trained parameter, paired by initializer name. BatchNorm running statistics are not
// averaged: like facebookresearch/moco's _momentum_update_key_encoder, which loops over
// parameters() only, the target keeps the statistics of its own forward passes.
type EMA struct {
	target, online *importer.Model
	pairs          [][2]importer.Param // target, online
}

// NewEMA pairs every parameter of target with the online parameter of the same name and
// size. Both models are usually imports of one ONNX model.
func NewEMA(target, online *importer.Model) (*EMA, error) {
	e := &EMA{target: target, online: online}
	var missing []string
	for _, t := range target.Params() {
		o, ok := online.Param(t.Name)
		if !ok {
			missing = append(missing, t.Name)
			continue
		}
		if !slices.Equal(t.Shape, o.Shape) {
			return nil, errorf("EMA: parameter %q has shape %v in the momentum network and %v in the online one", t.Name, t.Shape, o.Shape)
		}
		e.pairs = append(e.pairs, [2]importer.Param{t, o})
	}
	if len(missing) > 0 {
		return nil, errorf("EMA: the online network has no parameters %v of the momentum network", missing)
	}
	return e, nil
}

// Copy sets the target to the online values (the start of training: param_k.copy_(param_q)).
func (e *EMA) Copy() error { return e.Update(0) }

// Update moves the target towards the online network: t ← m·t + (1 − m)·o, in float32 as
// PyTorch computes param_k·m + param_q·(1 − m). m = 0 copies, m = 1 leaves the target.
func (e *EMA) Update(m float64) error {
	if !(m >= 0 && m <= 1) {
		return errorf("EMA: momentum %v, want 0 ≤ m ≤ 1", m)
	}
	a, b := float32(m), float32(1-m)
	for _, p := range e.pairs {
		t, err := values(p[0])
		if err != nil {
			return err
		}
		o, err := values(p[1])
		if err != nil {
			return err
		}
		for i := range t {
			t[i] = t[i]*a + o[i]*b
		}
	}
	return nil
}

// values is a float32 parameter's backing slice, read afresh each time because a machine
// may have given the node a new value since the last call.
func values(p importer.Param) ([]float32, error) {
	v := p.Node.Value()
	if v == nil {
		return nil, errorf("parameter %q has no value", p.Name)
	}
	d, ok := v.Data().([]float32)
	if !ok {
		return nil, errorf("parameter %q holds %T, want []float32 (training runs in float32)", p.Name, v.Data())
	}
	return d, nil
}
