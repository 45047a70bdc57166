package importer

import (
	"math"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// Constant folding is checked against onnxruntime: each case is a shape subgraph computed
// from Shape(x) and constants, cast to float at the end; the importer folds it at import
// time, onnxruntime computes it at run time from the same input.

func toFloat(g *graph, in, out string) *graph {
	return g.node("Cast", []string{in}, []string{out}, onnx.IntAttr("to", int64(pb.TensorProto_FLOAT)))
}

// adaptivePoolMatrix emits P[i,h] = 1/(end_i−start_i) on start_i ≤ h < end_i with
// start_i = ⌊i·L/s⌋, end_i = ⌈(i+1)·L/s⌉ for the axis length L = Shape(x)[axis]: PyTorch's
// adaptive_avg_pool bins, built from ops as graphs/ does for PSP.
func adaptivePoolMatrix(g *graph, x string, axis, bins int64, out string) *graph {
	p := out + "_"
	g.scalar(p+"axis", axis).scalar(p+"zero", 0).scalar(p+"one", 1).scalar(p+"bins", bins).ints(p+"ax1", 1)
	g.node("Shape", []string{x}, []string{p + "shape"})
	g.node("Gather", []string{p + "shape", p + "axis"}, []string{p + "L"})
	toFloat(g, p+"L", p+"Lf")
	toFloat(g, p+"bins", p+"sf")
	g.node("Range", []string{p + "zero", p + "bins", p + "one"}, []string{p + "i"})
	toFloat(g, p+"i", p+"if")
	g.node("Mul", []string{p + "if", p + "Lf"}, []string{p + "iL"})
	g.node("Div", []string{p + "iL", p + "sf"}, []string{p + "startr"})
	g.node("Floor", []string{p + "startr"}, []string{p + "start"})
	toFloat(g, p+"one", p+"onef")
	g.node("Add", []string{p + "if", p + "onef"}, []string{p + "i1"})
	g.node("Mul", []string{p + "i1", p + "Lf"}, []string{p + "i1L"})
	g.node("Div", []string{p + "i1L", p + "sf"}, []string{p + "endr"})
	g.node("Ceil", []string{p + "endr"}, []string{p + "end"})
	g.node("Range", []string{p + "zero", p + "L", p + "one"}, []string{p + "h"})
	toFloat(g, p+"h", p+"hf")
	g.node("Unsqueeze", []string{p + "start", p + "ax1"}, []string{p + "start2"})
	g.node("Unsqueeze", []string{p + "end", p + "ax1"}, []string{p + "end2"})
	g.node("GreaterOrEqual", []string{p + "hf", p + "start2"}, []string{p + "ge"})
	g.node("Less", []string{p + "hf", p + "end2"}, []string{p + "lt"})
	g.node("And", []string{p + "ge", p + "lt"}, []string{p + "mask"})
	toFloat(g, p+"mask", p+"maskf")
	g.node("ReduceSum", []string{p + "maskf", p + "ax1"}, []string{p + "cnt"}, onnx.IntAttr("keepdims", 1))
	g.node("Div", []string{p + "maskf", p + "cnt"}, []string{out})
	return g
}

func TestFoldAgainstORT(t *testing.T) {
	x := randFeed(1, 2, 3, 7, 5)
	cases := []struct {
		name  string
		opset int64
		build func(g *graph)
	}{
		{"adaptive pool matrix", 17, func(g *graph) {
			adaptivePoolMatrix(g, "x", 2, 3, "P")
		}},
		{"adaptive pool matrix, more bins than rows", 13, func(g *graph) {
			adaptivePoolMatrix(g, "x", 3, 6, "P")
		}},
		{"resize sizes from Shape", 13, func(g *graph) {
			g.ints("s", 0).ints("e", 2).ints("hw", 64, 65)
			g.node("Shape", []string{"x"}, []string{"sh"})
			g.node("Slice", []string{"sh", "s", "e"}, []string{"nc"})
			g.node("Concat", []string{"nc", "hw"}, []string{"sizes"}, onnx.IntAttr("axis", 0))
			toFloat(g, "sizes", "P")
		}},
		{"Shape start/end (opset 15)", 15, func(g *graph) {
			g.node("Shape", []string{"x"}, []string{"sh"}, onnx.IntAttr("start", -3), onnx.IntAttr("end", 3))
			toFloat(g, "sh", "P")
		}},
		{"Slice negative steps and clamping", 13, func(g *graph) {
			g.ints("s", -1, 100).ints("e", -100, 0).ints("a", 0, 1).ints("st", -2, 1)
			g.init(onnx.FromInt64s("m", []int{4, 3}, []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}))
			g.node("Slice", []string{"m", "s", "e", "a", "st"}, []string{"sl"})
			toFloat(g, "sl", "P")
		}},
		{"Slice opset 9 attributes", 9, func(g *graph) {
			g.node("Shape", []string{"x"}, []string{"sh"})
			g.node("Slice", []string{"sh"}, []string{"sl"}, onnx.IntsAttr("starts", 1), onnx.IntsAttr("ends", -1), onnx.IntsAttr("axes", 0))
			toFloat(g, "sl", "P")
		}},
		{"integer Div truncates, Sub, Mul", 13, func(g *graph) {
			g.ints("a", -7, 7, -8, 9).ints("b", 2, -2, 3, 4).ints("c", 3)
			g.node("Div", []string{"a", "b"}, []string{"d"})
			g.node("Mul", []string{"d", "c"}, []string{"e"})
			g.node("Sub", []string{"e", "b"}, []string{"f"})
			toFloat(g, "f", "P")
		}},
		{"Gather 2-D indices, negative", 13, func(g *graph) {
			g.konst("m", []int{3, 2}, 1, 2, 3, 4, 5, 6)
			g.init(onnx.FromInt64s("idx", []int{2, 2}, []int64{0, -1, 2, 1}))
			g.node("Gather", []string{"m", "idx"}, []string{"P"}, onnx.IntAttr("axis", 0))
		}},
		{"Reshape 0 and -1, Transpose, Expand", 13, func(g *graph) {
			g.konst("m", []int{2, 3, 2}, randFloats(3, 12, -1, 1)...)
			g.ints("shape", 0, -1).ints("ex", 3, 1, 1)
			g.node("Reshape", []string{"m", "shape"}, []string{"r"})
			g.node("Transpose", []string{"r"}, []string{"tr"}, onnx.IntsAttr("perm", 1, 0))
			g.node("Expand", []string{"tr", "ex"}, []string{"P"})
		}},
		{"Reshape allowzero (opset 14)", 14, func(g *graph) {
			g.konst("m", []int{2, 3}, randFloats(4, 6, -1, 1)...)
			g.ints("shape", 3, 2, 1).ints("shape0", 0, 3).ints("z", 0)
			g.node("Reshape", []string{"m", "shape"}, []string{"r"}, onnx.IntAttr("allowzero", 1))
			g.node("Flatten", []string{"r"}, []string{"P"}, onnx.IntAttr("axis", -1))
		}},
		{"ConstantOfShape, Where, Equal, Not, Or", 13, func(g *graph) {
			g.ints("shp", 2, 3)
			g.konst("m", []int{3}, 1, 2, 3).konst("two", nil, 2)
			g.node("ConstantOfShape", []string{"shp"}, []string{"c"}, onnx.TensorAttr("value", onnx.FromFloats("", []int{1}, []float32{7})))
			g.node("Equal", []string{"m", "two"}, []string{"eq"})
			g.node("Not", []string{"eq"}, []string{"ne"})
			g.node("Greater", []string{"m", "two"}, []string{"gt"})
			g.node("Or", []string{"eq", "gt"}, []string{"ge"})
			g.node("Where", []string{"ge", "c", "m"}, []string{"w"})
			toFloat(g, "ne", "nef")
			g.node("Add", []string{"w", "nef"}, []string{"P"})
		}},
		{"ReduceSum keepdims 0 (opset 11 attribute), ReduceMean, Squeeze", 11, func(g *graph) {
			g.konst("m", []int{2, 1, 3}, randFloats(5, 6, -1, 1)...)
			g.node("ReduceSum", []string{"m"}, []string{"rs"}, onnx.IntsAttr("axes", 2), onnx.IntAttr("keepdims", 0))
			g.node("ReduceMean", []string{"m"}, []string{"rm"}, onnx.IntsAttr("axes", 0, -1))
			g.node("Squeeze", []string{"rs"}, []string{"sq"})
			g.node("Squeeze", []string{"rm"}, []string{"sq2"}, onnx.IntsAttr("axes", 0, 1))
			g.node("Mul", []string{"sq", "sq2"}, []string{"P"})
		}},
		{"MatMul batched and 1-D", 13, func(g *graph) {
			g.konst("a", []int{2, 1, 3, 4}, randFloats(6, 24, -1, 1)...)
			g.konst("b", []int{3, 4, 2}, randFloats(7, 24, -1, 1)...)
			g.konst("v", []int{2}, 0.5, -2)
			g.node("MatMul", []string{"a", "b"}, []string{"ab"})
			g.node("MatMul", []string{"ab", "v"}, []string{"P"})
		}},
		{"Range float, Pow, Sqrt, Neg, Abs, Reciprocal, Max, Min", 13, func(g *graph) {
			g.konst("s", nil, 0.5).konst("l", nil, 3.2).konst("d", nil, 0.7)
			g.node("Range", []string{"s", "l", "d"}, []string{"r"})
			g.node("Pow", []string{"r", "s"}, []string{"p"})
			g.node("Neg", []string{"p"}, []string{"n"})
			g.node("Abs", []string{"n"}, []string{"a"})
			g.node("Sqrt", []string{"a"}, []string{"q"})
			g.node("Reciprocal", []string{"q"}, []string{"rc"})
			g.node("Max", []string{"rc", "s"}, []string{"mx"})
			g.node("Min", []string{"mx", "l", "r"}, []string{"P"})
		}},
		{"Unsqueeze attribute (opset 11) and Concat of floats", 11, func(g *graph) {
			g.floats("a", 1, 2).floats("b", 3)
			g.node("Concat", []string{"a", "b"}, []string{"c"}, onnx.IntAttr("axis", 0))
			g.node("Unsqueeze", []string{"c"}, []string{"P"}, onnx.IntsAttr("axes", 0, 2))
		}},
		{"Constant node attributes", 13, func(g *graph) {
			g.node("Constant", nil, []string{"c1"}, onnx.FloatsAttr("value_floats", 1.5, -2))
			g.node("Constant", nil, []string{"c2"}, onnx.IntAttr("value_int", 3))
			toFloat(g, "c2", "c2f")
			g.node("Mul", []string{"c1", "c2f"}, []string{"P"})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newGraph(tc.opset).input("x", -1, 3, -1, -1)
			tc.build(g)
			g.output("P")
			mp := g.model()
			feeds := map[string]feed{"x": x}
			want := runORT(t, mp, feeds)["P"]
			m, err := Import(mp, Options{InputShapes: shapesOf(feeds)})
			if err != nil {
				t.Fatal(err)
			}
			v := m.values["P"]
			if !v.isKonst() {
				t.Fatalf("P was not folded: %v", v)
			}
			got := v.k.floats()
			if len(got) != len(want) {
				t.Fatalf("got %d values %v, onnxruntime gives %d: %v", len(got), got, len(want), want)
			}
			// Integer and elementwise results must be exact; float sums may differ in the last
			// bit (this evaluator accumulates in float64, onnxruntime in float32).
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-6*math.Max(1, math.Abs(want[i])) {
					t.Fatalf("element %d: got %v, onnxruntime %v\n got %v\nwant %v", i, got[i], want[i], got, want)
				}
			}
		})
	}
}

func TestFoldErrors(t *testing.T) {
	cases := []struct {
		name  string
		build func(g *graph)
		want  string
	}{
		{"gather out of range", func(g *graph) {
			g.ints("i", 9)
			g.node("Shape", []string{"x"}, []string{"s"})
			g.node("Gather", []string{"s", "i"}, []string{"P"})
		}, "index 9 is out of range for axis 0 of size 4"},
		{"bad reshape", func(g *graph) {
			g.ints("shape", 5, -1)
			g.node("Shape", []string{"x"}, []string{"s"})
			g.node("Reshape", []string{"s", "shape"}, []string{"P"})
		}, "cannot reshape [4] (4 elements) to [5 -1]"},
		{"division by zero", func(g *graph) {
			g.ints("z", 0)
			g.node("Shape", []string{"x"}, []string{"s"})
			g.node("Div", []string{"s", "z"}, []string{"P"})
		}, "integer division by zero"},
		{"unknown op", func(g *graph) {
			g.node("Einsum", []string{"x"}, []string{"P"})
		}, `node "P_node" (Einsum, opset 13): op type Einsum not supported`},
		{"reshape shape at run time", func(g *graph) {
			g.node("Relu", []string{"x"}, []string{"r"})
			g.node("Reshape", []string{"x", "r"}, []string{"P"})
		}, "a shape input computed at run time not supported"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newGraph(13).input("x", 2, 3, 4, 5)
			tc.build(g)
			g.output("P")
			_, err := Import(g.model(), Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
