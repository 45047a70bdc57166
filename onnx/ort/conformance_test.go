package ort

import (
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/nodetest"
)

// TestNodeConformance runs ONNX's node tests for the CNN op set through onnxruntime, with
// inputs and expected outputs decoded by ssl4dp's own types, and compares with ONNX's
// backend-test tolerances. Only nodetest.Skips are skipped.
func TestNodeConformance(t *testing.T) {
	dir := testenv.NodeTests(t)
	initORT(t)
	cases, err := nodetest.Load(dir, nodetest.CNNOps)
	if err != nil {
		t.Fatal(err)
	}
	ran, skipped, sets := 0, 0, 0
	for _, c := range cases {
		if c.Skip != "" {
			skipped++
			t.Logf("skip %s: %s", c.Name, c.Skip)
			continue
		}
		ran++
		t.Run(c.Name, func(t *testing.T) {
			model, err := onnx.Encode(c.Model)
			if err != nil {
				t.Fatal(err)
			}
			s, err := NewSession(model, Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for _, set := range c.Sets {
				sets++
				in := map[string]Tensor{}
				for i, name := range c.Inputs {
					shape, data, err := nodetest.Decode(set.In[i])
					if err != nil {
						t.Fatalf("%s input %q: %v", set.Name, name, err)
					}
					in[name] = Tensor{Shape: shape, Data: data}
				}
				out, err := s.Run(in)
				if err != nil {
					t.Fatalf("%s: %v", set.Name, err)
				}
				for i, name := range c.Outputs {
					got := out[name]
					if err := nodetest.Compare(set.Out[i], got.Shape, got.Data, nodetest.RTol, nodetest.ATol); err != nil {
						t.Errorf("%s output %q: %v", set.Name, name, err)
					}
				}
			}
		})
	}
	t.Logf("%d CNN-op node tests: %d run (%d data sets), %d skipped", len(cases), ran, sets, skipped)
	if ran == 0 {
		t.Fatal("no node test ran")
	}
}
