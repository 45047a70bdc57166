package train

import (
	"encoding/binary"
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
)

// quadTask is a task whose exact trajectory a test can compute by hand: two parameter
// tensors, "head.w" and "enc.w" (shape [2,2]), each pulled towards a target read from the
// batch's pixels, loss = ½‖head.w − x‖² + ½‖enc.w − x‖². The gradient is (w − x), so plain
// SGD gives w ← w − lr·(w − x). The target depends on the data order and the augmentation,
// so a resume that lost its place in the data would end elsewhere.
type quadTask struct {
	g      *G.ExprGraph
	head   *G.Node
	enc    *G.Node
	x      *G.Node
	xT     *tensor.Dense
	loss   *G.Node
	parts  map[string]*G.Node
	sqrt   bool // loss uses √((w−x)²): at w = x the gradient is 0/0 (for the NaN-gradient test)
	poison int  // with sqrt: at this step x is set to enc.w (= head.w without a head/encoder split), making the gradients NaN

	valCalls int // Validate calls
	onBind   func(step int)
	initVal  float32 // initial value of every weight
}

func newQuad() *quadTask { return &quadTask{poison: -1, initVal: 0.5} }

func (q *quadTask) Name() string { return "quad" }

func (q *quadTask) DataTask() data.Task { return data.DefaultSegTrain(8) }

func (q *quadTask) Build(batch int) error {
	q.g = G.NewGraph()
	mk := func(name string) *G.Node {
		v := make([]float32, 4)
		for i := range v {
			v[i] = q.initVal
		}
		return G.NewTensor(q.g, tensor.Float32, 2, G.WithShape(2, 2), G.WithName(name),
			G.WithValue(tensor.New(tensor.WithShape(2, 2), tensor.WithBacking(v))))
	}
	q.head, q.enc = mk("head.w"), mk("enc.w")
	q.xT = tensor.New(tensor.WithShape(2, 2), tensor.Of(tensor.Float32))
	q.x = G.NewTensor(q.g, tensor.Float32, 2, G.WithShape(2, 2), G.WithName("x"), G.WithValue(q.xT))
	half := G.NewConstant(float32(0.5))
	term := func(w *G.Node) *G.Node {
		d := G.Must(G.Sub(w, q.x))
		if q.sqrt {
			return G.Must(G.Sum(G.Must(G.Sqrt(G.Must(G.Square(d))))))
		}
		return G.Must(G.Mul(half, G.Must(G.Sum(G.Must(G.Square(d))))))
	}
	h, e := term(q.head), term(q.enc)
	q.loss = G.Must(G.Add(h, e))
	q.parts = map[string]*G.Node{"head": h, "enc": e}
	return nil
}

func (q *quadTask) Graph() *G.ExprGraph                 { return q.g }
func (q *quadTask) Loss() *G.Node                       { return q.loss }
func (q *quadTask) Parts() map[string]*G.Node           { return q.parts }
func (q *quadTask) AfterStep(int) error                 { return nil }
func (q *quadTask) Outputs() (map[string][]byte, error) { return q.Checkpoint() }

func (q *quadTask) Learnables() []importer.Param {
	return []importer.Param{{Name: "head.w", Node: q.head, Shape: []int{2, 2}}, {Name: "enc.w", Node: q.enc, Shape: []int{2, 2}}}
}

// target is the value x takes for a batch: the mean over the batch of four pixels of view 0.
func target(b *data.Batch) []float32 {
	v := b.Views[0]
	n, per := v.Shape[0], len(v.Data)/v.Shape[0]
	x := make([]float32, 4)
	for i := 0; i < n; i++ {
		for j := range x {
			x[j] += v.Data[i*per+j*7] / float32(n)
		}
	}
	return x
}

func (q *quadTask) Bind(b *data.Batch, step int) error {
	if q.onBind != nil {
		q.onBind(step)
	}
	x := target(b)
	if q.sqrt && step == q.poison {
		copy(x, q.enc.Value().Data().([]float32))
	}
	copy(q.xT.Data().([]float32), x)
	return G.Let(q.x, q.xT)
}

func (q *quadTask) Checkpoint() (map[string][]byte, error) {
	var b []byte
	for _, n := range []*G.Node{q.head, q.enc} {
		for _, v := range n.Value().Data().([]float32) {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	}
	return map[string][]byte{"w.bin": b}, nil
}

func (q *quadTask) Restore(files map[string][]byte) error {
	b, ok := files["w.bin"]
	if !ok || len(b) != 32 {
		return fmt.Errorf("quad: w.bin missing or of %d bytes", len(b))
	}
	for k, n := range []*G.Node{q.head, q.enc} {
		d := n.Value().Data().([]float32)
		for i := range d {
			d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*(4*k+i):]))
		}
	}
	return nil
}

// weights returns head.w then enc.w.
func (q *quadTask) weights() []float32 {
	return append(append([]float32{}, q.head.Value().Data().([]float32)...), q.enc.Value().Data().([]float32)...)
}

// quadHeads adds the HeadPrefixer split.
type quadHeads struct{ *quadTask }

func (q quadHeads) HeadPrefixes() []string { return []string{"head."} }

// quadVal adds a Validator whose score is a function of the weights.
type quadVal struct{ *quadTask }

func (q quadVal) Validate() (map[string]float64, error) {
	q.valCalls++
	w := q.weights()
	return map[string]float64{KeyMIoU: float64(w[0]), "calls": float64(q.valCalls)}, nil
}
