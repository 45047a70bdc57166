package check

import (
	"fmt"
	"math"
	"math/rand"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/onnx/importer"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/ops"
)

// GradSample is one parameter entry's gradient, analytic and numeric.
type GradSample struct {
	Param    string  `json:"param"`
	Index    int     `json:"index"`    // flat index into the parameter
	Analytic float64 `json:"analytic"` // from one backward pass
	Numeric  float64 `json:"numeric"`  // (L(θ+ε) − L(θ−ε)) / 2ε
	Scale    float64 `json:"scale"`    // the largest |analytic gradient entry| of any parameter
}

// Err is the disagreement relative to the larger magnitude, and absolute below a floor
// where both are round-off: 1e-8, or 1e-5 of the largest gradient entry of the model.
// The second floor is for gradients that are zero by construction — the bias of a BatchNorm
// whose output feeds another BatchNorm in training mode (EfficientNet's and MobileNetV3's
// projection layers): their analytic value is 0 and central differences give round-off of
// about 1e-10 of the loss, which must not count as a relative error of 1.
func (s GradSample) Err() float64 {
	d := math.Abs(s.Analytic - s.Numeric)
	return d / math.Max(math.Max(math.Abs(s.Analytic), math.Abs(s.Numeric)), math.Max(1e-8, 1e-5*s.Scale))
}

// Gradients imports the model in float64 and training mode (BatchNorm with batch
// statistics; Dropout off, since a fresh mask per run defeats finite differences), takes
// L = Σ_outputs Σ out ⊙ R with fixed random R, runs one backward pass, and compares Samples
// seeded (parameter, entry) gradients with central differences of the same forward pass.
func Gradients(mp *pb.ModelProto, o Options) ([]GradSample, error) {
	o = o.withDefaults()
	shapes, err := inputShapes(mp, o)
	if err != nil {
		return nil, err
	}
	values := randomInputs(shapes, o.Seed)
	build := func(grad bool) (*importer.Model, *G.Node, G.VM, error) {
		m, err := importer.Import(mp, importer.Options{InputShapes: shapes, AllowTied: true, Dtype: tensor.Float64,
			Phase: &ops.Phase{Training: true}, NoDropout: true})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("check: %w", err)
		}
		loss, err := projection(m, o.Seed)
		if err != nil {
			return nil, nil, nil, err
		}
		if grad {
			if _, err := G.Grad(loss, m.Learnables()...); err != nil {
				return nil, nil, nil, fmt.Errorf("check: symbolic gradient: %w", err)
			}
		}
		if err := bind(m, shapes, values); err != nil {
			return nil, nil, nil, err
		}
		return m, loss, G.NewTapeMachine(m.Graph), nil
	}
	am, _, avm, err := build(true)
	if err != nil {
		return nil, err
	}
	defer avm.Close()
	if err := avm.RunAll(); err != nil {
		return nil, fmt.Errorf("check: forward and backward pass: %w", err)
	}
	fm, floss, fvm, err := build(false)
	if err != nil {
		return nil, err
	}
	defer fvm.Close()
	eval := func() (float64, error) {
		fvm.Reset()
		if err := fvm.RunAll(); err != nil {
			return 0, fmt.Errorf("check: forward pass: %w", err)
		}
		return importer.Float64s(floss.Value())[0], nil
	}

	params := am.Params()
	fparams := fm.Params()
	var learn []int
	for i, p := range params {
		if !p.Frozen {
			learn = append(learn, i)
		}
	}
	if len(learn) == 0 {
		return nil, fmt.Errorf("check: the model has no trainable parameters")
	}
	scale := 0.0
	for _, i := range learn {
		gv, err := params[i].Node.Grad()
		if err != nil {
			return nil, fmt.Errorf("check: %s has no gradient: %w", params[i].Name, err)
		}
		for _, v := range importer.Float64s(gv) {
			scale = math.Max(scale, math.Abs(v))
		}
	}
	r := rand.New(rand.NewSource(o.Seed + 1))
	var out []GradSample
	for k := 0; k < o.Samples; k++ {
		i := learn[r.Intn(len(learn))]
		gv, err := params[i].Node.Grad()
		if err != nil {
			return nil, fmt.Errorf("check: %s has no gradient: %w", params[i].Name, err)
		}
		grad := importer.Float64s(gv)
		data := fparams[i].Node.Value().Data().([]float64)
		j := r.Intn(len(data))
		x := data[j]
		data[j] = x + o.Eps
		lp, err := eval()
		if err != nil {
			return nil, err
		}
		data[j] = x - o.Eps
		lm, err := eval()
		if err != nil {
			return nil, err
		}
		data[j] = x
		out = append(out, GradSample{Param: params[i].Name, Index: j, Analytic: grad[j], Numeric: (lp - lm) / (2 * o.Eps), Scale: scale})
	}
	return out, nil
}

// projection builds L = Σ over outputs of Σ out ⊙ R with seeded R ~ U(−1, 1).
func projection(m *importer.Model, seed int64) (*G.Node, error) {
	outs, err := m.Outputs()
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	r := rand.New(rand.NewSource(seed + 2))
	var total *G.Node
	for i, out := range outs {
		shape := out.Shape().Clone()
		n := shape.TotalSize()
		rv := make([]float64, n)
		for j := range rv {
			rv[j] = 2*r.Float64() - 1
		}
		var rn *G.Node
		if out.IsScalar() {
			rn = G.NewScalar(m.Graph, tensor.Float64, G.WithValue(rv[0]), G.WithName(fmt.Sprintf("check/R%d", i)))
		} else {
			rn = G.NewTensor(m.Graph, tensor.Float64, len(shape), G.WithShape(shape...),
				G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(rv))), G.WithName(fmt.Sprintf("check/R%d", i)))
		}
		p, err := ops.Mul(out, rn)
		if err != nil {
			return nil, fmt.Errorf("check: output %q: %w", m.OutputNames()[i], err)
		}
		s, err := ops.ReduceSum(p, nil, false)
		if err != nil {
			return nil, fmt.Errorf("check: output %q: %w", m.OutputNames()[i], err)
		}
		if total == nil {
			total = s
		} else if total, err = G.Add(total, s); err != nil {
			return nil, fmt.Errorf("check: %w", err)
		}
	}
	return total, nil
}
