package check

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

func fixture(t *testing.T, path string) string {
	if err := ort.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(testenv.RepoRoot(t), path)
}

func TestForwardAndGradients(t *testing.T) {
	mp, err := onnx.ReadFile(fixture(t, "onnx/importer/testdata/fcn_small.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Forward(mp, Options{Seed: 1, Size: 23})
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Inputs["input"]; len(got) != 4 || got[0] != 2 || got[2] != 23 {
		t.Fatalf("input shape %v, want [2 3 23 23]", got)
	}
	if len(rep.Outputs) != 2 {
		t.Fatalf("outputs %v", rep.Outputs)
	}
	for _, o := range rep.Outputs {
		if o.MaxRel > 1e-5 || o.Shape[3] != 23 {
			t.Errorf("output %s %v: rel error %.3g", o.Name, o.Shape, o.MaxRel)
		}
	}
	gs, err := Gradients(mp, Options{Seed: 1, Size: 12, Samples: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 10 {
		t.Fatalf("%d samples", len(gs))
	}
	for _, g := range gs {
		if g.Err() > 1e-5 {
			t.Errorf("%s[%d]: analytic %g, numeric %g", g.Param, g.Index, g.Analytic, g.Numeric)
		}
	}
}

// A wrong gradient must be visible: scaling one parameter's value between the analytic
// and the numeric pass is the same as a wrong derivative for every other parameter.
func TestGradientSampleErr(t *testing.T) {
	if (GradSample{Analytic: 1, Numeric: 1.5}).Err() < 0.3 || (GradSample{Analytic: 1e-12, Numeric: 0}).Err() > 1e-3 {
		t.Fatal("Err does not separate a real disagreement from round-off")
	}
}

func TestUnsupportedOp(t *testing.T) {
	mp, err := onnx.ReadFile(fixture(t, "onnx/testdata/tiny_torchvision.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	mp.Graph.Node[2].OpType = new(string)
	*mp.Graph.Node[2].OpType = "Selu"
	_, err = Forward(mp, Options{})
	var ue *importer.UnsupportedError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "Selu") {
		t.Fatalf("got %v, want an *importer.UnsupportedError for Selu", err)
	}
}

// A gradient that is zero by construction (a BatchNorm bias feeding another BatchNorm)
// passes with round-off from central differences, and a real disagreement still fails.
func TestGradSampleErrFloor(t *testing.T) {
	zero := GradSample{Analytic: 0, Numeric: -5.55e-11, Scale: 0.2}
	if e := zero.Err(); e > 1e-4 {
		t.Errorf("zero-by-construction gradient: Err %g, want ≤ 1e-4", e)
	}
	wrong := GradSample{Analytic: 1e-3, Numeric: 1.1e-3, Scale: 0.2}
	if e := wrong.Err(); e < 0.05 {
		t.Errorf("10%% disagreement: Err %g, want ≈ 0.09", e)
	}
	tiny := GradSample{Analytic: 0, Numeric: 5e-9, Scale: 0}
	if e := tiny.Err(); e < 0.1 {
		t.Errorf("no scale: floor is 1e-8 as before, Err %g", e)
	}
}
