package ops

import (
	"fmt"
	"hash"
	"math"
	"sync"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/device"
)

// BNState is one BatchNorm layer's running statistics and settings. The importer creates it
// from the ONNX initializers and writes Mean/Var back after training.
type BNState struct {
	Mean, Var *tensor.Dense // [C], same dtype as x; updated in place in training mode
	Momentum  float64       // ONNX meaning: running = running*Momentum + batch*(1-Momentum) (ONNX default 0.9 = PyTorch momentum 0.1)
	Eps       float64       // default 1e-5
	Phase     *Phase        // shared; Training selects batch statistics + running update
	Unbiased  bool          // running Var gets the unbiased batch variance (PyTorch); normalisation always uses the biased one
}

// DefaultBNEps is the epsilon BatchNorm uses when BNState.Eps is 0 (ONNX's default).
const DefaultBNEps = 1e-5

func (st *BNState) eps() float64 {
	if st.Eps == 0 {
		return DefaultBNEps
	}
	return st.Eps
}

// BatchNorm is ONNX BatchNormalization over x [N,C,H,W] (or [N,C], or [N,C,…]) with per-channel
// scale and bias [C]. With st.Phase.Training it normalises with the batch mean and biased
// batch variance and updates st.Mean/st.Var once per forward run (ONNX momentum rule);
// otherwise it is the affine map y = scale·(x − Mean)/√(Var + eps) + bias. Gradients are
// exact in both modes.
//
// Unlike Gorgonia's BatchNorm the statistics live in st, outside the op: a new machine does
// not reset them, one graph switches modes through the shared Phase, and every call makes a
// distinct node (two BatchNorms on one input are never merged).
func BatchNorm(x, scale, bias *G.Node, st *BNState) (*G.Node, error) {
	return batchNorm(x, scale, bias, st, false)
}

// BatchNormRelu is Relu(BatchNorm(x, scale, bias, st)) as one op, bit for bit: the ReLU is
// applied as BatchNorm writes its output, and its gradient mask (y > 0) is applied as the
// BatchNorm gradients read dy. That saves the ReLU's two passes over the activation forward
// and its three backward. The importer uses it where a BatchNormalization's only consumer is a
// Relu (ResNet's conv-BN-ReLU).
func BatchNormRelu(x, scale, bias *G.Node, st *BNState) (*G.Node, error) {
	return batchNorm(x, scale, bias, st, true)
}

func batchNorm(x, scale, bias *G.Node, st *BNState, relu bool) (*G.Node, error) {
	if x == nil || scale == nil || bias == nil {
		return nil, errorf("BatchNorm: x, scale and bias must not be nil")
	}
	if st == nil || st.Mean == nil || st.Var == nil || st.Phase == nil {
		return nil, errorf("BatchNorm: state needs Mean, Var and Phase")
	}
	if x.Dims() < 2 {
		return nil, errorf("BatchNorm: x has shape %v, want at least 2 dims [N,C,…]", x.Shape())
	}
	dt := x.Dtype()
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, errorf("BatchNorm: x is %v, want float32 or float64", dt)
	}
	c := x.Shape()[1]
	for _, p := range []struct {
		name string
		n    *G.Node
	}{{"scale", scale}, {"bias", bias}} {
		if p.n.Dims() != 1 || p.n.Shape()[0] != c {
			return nil, errorf("BatchNorm: %s has shape %v, want [%d] for x %v", p.name, p.n.Shape(), c, x.Shape())
		}
		if p.n.Dtype() != dt {
			return nil, errorf("BatchNorm: %s is %v but x is %v", p.name, p.n.Dtype(), dt)
		}
	}
	if err := st.check(dt, c); err != nil {
		return nil, err
	}
	if st.Momentum < 0 || st.Momentum > 1 {
		return nil, errorf("BatchNorm: momentum %v, want 0 ≤ momentum ≤ 1 (ONNX meaning; PyTorch's 0.1 is 0.9)", st.Momentum)
	}
	if st.Eps < 0 {
		return nil, errorf("BatchNorm: eps %v, want > 0 (0 means %v)", st.Eps, DefaultBNEps)
	}
	op := &bnOp{st: st, id: bnIDs.Add(1), x: x.Shape().Clone(), run: &bnRun{}, relu: relu}
	return G.ApplyOp(op, x, scale, bias)
}

// check validates the running statistics against x's dtype and channel count. It runs at
// graph-building time and again before every forward pass, since the state is the caller's.
func (st *BNState) check(dt tensor.Dtype, c int) error {
	if st.Mean == nil || st.Var == nil || st.Phase == nil {
		return errorf("BatchNorm: state needs Mean, Var and Phase")
	}
	for _, p := range []struct {
		name string
		t    *tensor.Dense
	}{{"Mean", st.Mean}, {"Var", st.Var}} {
		if !p.t.Shape().Eq(tensor.Shape{c}) {
			return errorf("BatchNorm: running %s has shape %v, want [%d]", p.name, p.t.Shape(), c)
		}
		if p.t.Dtype() != dt {
			return errorf("BatchNorm: running %s is %v but x is %v", p.name, p.t.Dtype(), dt)
		}
		if p.t.IsMaterializable() {
			return errorf("BatchNorm: running %s is a view; give it its own storage so it can be updated in place", p.name)
		}
	}
	return nil
}

// bnIDs numbers BatchNorm ops; the id is hashed so Gorgonia never merges two of them.
var bnIDs atomic.Uint64

type bnOp struct {
	st   *BNState
	id   uint64
	x    tensor.Shape
	run  *bnRun
	buf  outBuf
	relu bool // BatchNormRelu
}

// kind names the op in profiles.
func (op *bnOp) kind() string {
	if op.relu {
		return "BatchNorm+Relu"
	}
	return "BatchNorm"
}

// bnRun is what the last forward run normalised with, for the gradient ops of the same run:
// recomputing it there would see running statistics already updated by the forward pass.
type bnRun struct {
	mu       sync.Mutex
	training bool
	mean     []float64     // per channel
	invstd   []float64     // 1/√(var + eps)
	dev      *tensor.Dense // on a device: [mean; invstd] as float32 (device_batchnorm.go)
}

func (op *bnOp) Arity() int            { return 3 }
func (op *bnOp) Type() hm.Type         { return dimsFnType(op.x.Dims(), 1, 1, op.x.Dims()) }
func (op *bnOp) ReturnsPtr() bool      { return false }
func (op *bnOp) CallsExtern() bool     { return false }
func (op *bnOp) OverwritesInput() int  { return -1 }
func (op *bnOp) Hashcode() uint32      { return hashOf(op) }
func (op *bnOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", op) }
func (op *bnOp) DiffWRT(n int) []bool  { return []bool{true, true, true} }

func (op *bnOp) String() string {
	name := "BatchNorm"
	if op.relu {
		name = "BatchNormRelu"
	}
	return fmt.Sprintf("%s#%d{momentum=%v eps=%v unbiased=%t x=%v}", name, op.id, op.st.Momentum, op.st.eps(), op.st.Unbiased, op.x)
}

func (op *bnOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := inputShapes("BatchNorm", in, 3)
	if err != nil {
		return nil, err
	}
	if !s[0].Eq(op.x) {
		return nil, errorf("BatchNorm: x has shape %v; the op was built for %v", s[0], op.x)
	}
	return op.x.Clone(), nil
}

// SymDiff: dscale = Σ dy·x̂ and dbias = Σ dy in one pass ([2C], sliced for the two
// parameters), then dx from both. Every gradient op also reads the forward output y: it
// orders them after the forward pass (which records the statistics), and with the ReLU fused
// it is the mask, dy counting only where y > 0.
func (op *bnOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 3 {
		return nil, errorf("BatchNorm: SymDiff got %d inputs, want 3", len(inputs))
	}
	x, scale := inputs[0], inputs[1]
	c := op.x[1]
	stats, err := G.ApplyOp(&bnDiffStatsOp{bnOp: op}, x, output, grad)
	if err != nil {
		return nil, err
	}
	ds, err := Slice(stats, []int{0}, []int{c}, []int{0}, nil)
	if err != nil {
		return nil, err
	}
	db, err := Slice(stats, []int{c}, []int{2 * c}, []int{0}, nil)
	if err != nil {
		return nil, err
	}
	dx, err := G.ApplyOp(&bnDiffXOp{bnOp: op}, x, scale, output, grad, stats)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, ds, db}, nil
}

func (op *bnOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *bnOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	defer timeOp(op.kind(), forward, 0)()
	a, err := denseInputs("BatchNorm", 3, in)
	if err != nil {
		return nil, err
	}
	if !a[0].Shape().Eq(op.x) {
		return nil, errorf("BatchNorm: got x %v at run time, want %v", a[0].Shape(), op.x)
	}
	if err := op.st.check(a[0].Dtype(), op.x[1]); err != nil {
		return nil, err
	}
	n, c := op.x[0], op.x[1]
	inner := op.x.TotalSize() / (n * c)
	training := op.st.Phase.Training
	if training && n*inner < 2 {
		return nil, errorf("BatchNorm: training needs more than one value per channel, got x %v", op.x)
	}
	var y *tensor.Dense
	if device.Of(a[0]) == nil {
		y = op.buf.get(prealloc, a[0].Dtype(), op.x)
	}
	op.run.mu.Lock()
	defer op.run.mu.Unlock()
	op.run.training = training
	op.run.mean = growFloats(op.run.mean, c)
	op.run.invstd = growFloats(op.run.invstd, c)
	if e, err := devOf("BatchNorm", a...); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		y = op.buf.onDevice(e, prealloc, op.x)
		return y, op.forwardDevice(e, a, y, n, c, inner)
	}
	if a[0].Dtype() == tensor.Float32 {
		bnForward(op, elems[float32](a[0]), elems[float32](a[1]), elems[float32](a[2]), elems[float32](y), n, c, inner)
	} else {
		bnForward(op, elems[float64](a[0]), elems[float64](a[1]), elems[float64](a[2]), elems[float64](y), n, c, inner)
	}
	return y, nil
}

func growFloats(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// bnForward normalises x into y with batch statistics (training: also updating the running
// ones) or the running statistics (eval), recording what it used in op.run.
func bnForward[T Float](op *bnOp, x, scale, bias, y []T, n, c, inner int) {
	st, run := op.st, op.run
	eps := st.eps()
	rm, rv := elems[T](st.Mean), elems[T](st.Var)
	m := float64(n * inner)
	parallelFor(c, len(x), func(lo, hi int) {
		for ci := lo; ci < hi; ci++ {
			var mean, invstd float64
			if run.training {
				// Two passes: the mean first, then the centred sum of squares, which keeps float32
				// activations with a large mean from cancelling.
				var s float64
				for ni := 0; ni < n; ni++ {
					s += sumF64(x[(ni*c+ci)*inner:][:inner])
				}
				mean = s / m
				var ss float64
				for ni := 0; ni < n; ni++ {
					ss += sumSqDevF64(x[(ni*c+ci)*inner:][:inner], mean)
				}
				variance := ss / m
				invstd = 1 / math.Sqrt(variance+eps)
				runVar := variance
				if st.Unbiased {
					runVar = ss / (m - 1)
				}
				rm[ci] = T(float64(rm[ci])*st.Momentum + mean*(1-st.Momentum))
				rv[ci] = T(float64(rv[ci])*st.Momentum + runVar*(1-st.Momentum))
			} else {
				mean = float64(rm[ci])
				invstd = 1 / math.Sqrt(float64(rv[ci])+eps)
			}
			run.mean[ci], run.invstd[ci] = mean, invstd
			// y = x·a + b with a = scale·invstd, b = bias − mean·a.
			a := float64(scale[ci]) * invstd
			b := float64(bias[ci]) - mean*a
			for ni := 0; ni < n; ni++ {
				o := (ni*c + ci) * inner
				src := x[o : o+inner]
				dst := y[o : o+inner][:len(src)] // one length: no bounds checks
				if op.relu {
					// T(max(z, 0)) = max(T(z), 0) for every z (NaN included): Relu(BatchNorm) bit for bit.
					for k, v := range src {
						dst[k] = T(max(float64(v)*a+b, 0))
					}
					continue
				}
				for k, v := range src {
					dst[k] = T(float64(v)*a + b)
				}
			}
		}
	})
}
