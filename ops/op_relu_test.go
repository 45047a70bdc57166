package ops

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

func TestReluForward(t *testing.T) {
	x := gradcheck.Rand(31, []int{2, 3, 5, 7})
	d := x.Data().([]float64)
	d[0], d[1], d[2] = 0, -1e30, 1e30
	want := make([]float64, len(d))
	for i, v := range d {
		want[i] = math.Max(v, 0)
	}
	build := bUnary(Relu)
	shape, got := bForward(t, build, x)
	bShape(t, "Relu", shape, 2, 3, 5, 7)
	bClose(t, "Relu float64", got, want, 0, 0)
	_, got32 := bForward(t, build, bTo32(x))
	bClose(t, "Relu float32", got32, want, 1e-7, 1e-7)
}

// NaN must survive the forward pass (a diverged run shows in the loss) and give no gradient.
func TestReluNaN(t *testing.T) {
	x := bDense([]int{3}, []float64{math.NaN(), -1, 2})
	_, got := bForward(t, bUnary(Relu), x)
	if !math.IsNaN(got[0]) || got[1] != 0 || got[2] != 2 {
		t.Errorf("Relu(NaN, -1, 2) = %v, want [NaN 0 2]", got)
	}
}

func TestReluGrad(t *testing.T) {
	x := gradcheck.Rand(32, []int{2, 4, 3, 3})
	// Keep every element away from the kink, where central differences are not the derivative.
	for i, v := range x.Data().([]float64) {
		if math.Abs(v) < 1e-3 {
			x.Data().([]float64)[i] = 0.5
		}
	}
	gradcheck.Check(t, bUnary(Relu), x)
}

// At x = 0 the gradient is 0, as in PyTorch (and ONNX Runtime's training kernels), not
// Gorgonia Rectify's 1.
func TestReluGradAtZero(t *testing.T) {
	g := G.NewGraph()
	x := G.NodeFromAny(g, bDense([]int{4}, []float64{0, -2, 3, 0.5}), G.WithName("x"))
	y, err := Relu(x)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := G.Sum(y)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(loss, x); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	gv, err := x.Grad()
	if err != nil {
		t.Fatal(err)
	}
	bClose(t, "dRelu/dx", bF64s(t, gv), []float64{0, 0, 1, 1}, 0, 0)
}

func TestReluMerging(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float32, 2, G.WithShape(2, 3), G.WithName("x"))
	a, err := Relu(x)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Relu(x)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("two Relu nodes of one input were not merged (hash is not deterministic)")
	}
}

func TestReluErrors(t *testing.T) {
	g := G.NewGraph()
	_, err := Relu(nil)
	bWantErr(t, "nil", err, "ops: Relu", "nil input")
	s := G.NewScalar(g, G.Float64, G.WithName("s"))
	_, err = Relu(s)
	bWantErr(t, "scalar", err, "ops: Relu", `"s"`, "scalar")
	i := G.NewTensor(g, tensor.Int, 1, G.WithShape(3), G.WithName("i"))
	_, err = Relu(i)
	bWantErr(t, "int", err, "ops: Relu", "int", "want float32 or float64")
}

// The branch-free masks against the comparison they replace, on the values where bit tricks
// go wrong: signed zeros, subnormals, infinities and NaNs of both signs.
func TestPositiveMasks(t *testing.T) {
	for _, b := range []uint32{0, 0x80000000, 1, 0x80000001, 0x3f800000, 0xbf800000, 0x7f7fffff,
		0xff7fffff, 0x7f800000, 0xff800000, 0x7f800001, 0x7fc00000, 0xffc00000, 0x7fffffff, 0xffffffff} {
		v := math.Float32frombits(b)
		want := uint32(0)
		if v > 0 {
			want = ^want
		}
		if got := positiveMask32(v); got != want {
			t.Errorf("positiveMask32(%#08x = %g) = %#x, want %#x", b, v, got, want)
		}
		w := float64(v)
		want64 := uint64(0)
		if w > 0 {
			want64 = ^want64
		}
		if got := positiveMask64(w); got != want64 {
			t.Errorf("positiveMask64(%g) = %#x, want %#x", w, got, want64)
		}
	}
	for _, b := range []uint64{0, 1 << 63, 1, 1<<63 | 1, 0x7fefffffffffffff, 0x7ff0000000000000,
		0x7ff0000000000001, 0xfff0000000000000, 0xfff8000000000000, 0x7fffffffffffffff, 0xffffffffffffffff} {
		v := math.Float64frombits(b)
		want := uint64(0)
		if v > 0 {
			want = ^want
		}
		if got := positiveMask64(v); got != want {
			t.Errorf("positiveMask64(%#016x = %g) = %#x, want %#x", b, v, got, want)
		}
	}
}
