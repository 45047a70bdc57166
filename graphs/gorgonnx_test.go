package graphs

import (
	"fmt"
	"slices"
	"testing"

	onnxgo "github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/x/gorgonnx"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// The classifier models decode and run in onnx-go's Gorgonia backend (Go's other ONNX
// stack) with onnxruntime's outputs, BatchNorm statistics randomised so that they count.
//
// gorgonnx returns values only for graph outputs that no node consumes (its Run fills the
// graph's roots), so "features", which feeds the classifier, is compared through the
// encoder alone (no head, Spec.Outputs = features).
func TestClassifierRunsInGorgonnx(t *testing.T) {
	initORT(t)
	for _, enc := range Encoders {
		for _, n := range []int{1, 2} { // gorgonnx has separate BatchNorm paths for N=1 and N>1
			for _, out := range []string{ClassLogits, Features} {
				t.Run(fmt.Sprintf("%s_N%d_%s", enc, n, out), func(t *testing.T) {
					spec := Spec{Encoder: enc, Width: 0.125, Head: HeadClassifier, Classes: 10, Seed: 4, Outputs: []string{out}}
					if out == Features {
						spec.Head, spec.Classes = HeadNone, 0
					}
					checkGorgonnx(t, spec, n)
				})
			}
		}
	}
}

func checkGorgonnx(t *testing.T, spec Spec, n int) {
	m := mustBuild(t, spec)
	randomizeBN(m.Graph)
	const h, w = 40, 56
	x := randomInput(n, h, w, 5)
	want := runORT(t, m, map[string]ort.Tensor{Input: x})

	data, err := onnx.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	backend := gorgonnx.NewGraph()
	model := onnxgo.NewModel(backend)
	if err := model.UnmarshalBinary(data); err != nil {
		t.Fatalf("onnx-go cannot decode the model: %v", err)
	}
	in := tensor.New(tensor.WithShape(n, 3, h, w), tensor.WithBacking(slices.Clone(x.Data.([]float32))))
	if err := model.SetInput(0, in); err != nil {
		t.Fatal(err)
	}
	if err := backend.Run(); err != nil {
		t.Fatalf("gorgonnx cannot run the model: %v", err)
	}
	outs, err := model.GetOutputTensors()
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range m.Graph.Output {
		got, ref := outs[i], want[o.GetName()]
		if !slices.Equal(ints64(got.Shape()), ref.Shape) {
			t.Fatalf("%s: gorgonnx shape %v, onnxruntime %v", o.GetName(), got.Shape(), ref.Shape)
		}
		if e := relErr(got.Data().([]float32), ref.Data.([]float32)); e > 1e-4 {
			t.Errorf("%s: gorgonnx vs onnxruntime: relative error %.2g", o.GetName(), e)
		}
	}
}
