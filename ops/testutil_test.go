package ops

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

// Test helpers for the part-A ops (conv, pooling, BatchNorm, MatMul).

// aEval builds a graph over the given input values, runs it once on a tape machine and
// returns the output's value.
func aEval(t testing.TB, build func(g *G.ExprGraph, in G.Nodes) (*G.Node, error), inputs ...*tensor.Dense) *tensor.Dense {
	t.Helper()
	g := G.NewGraph()
	var in G.Nodes
	for i, v := range inputs {
		// Named: Gorgonia merges unnamed inputs of equal type and shape into one node.
		in = append(in, G.NodeFromAny(g, v, G.WithName(fmt.Sprintf("in%d", i))))
	}
	out, err := build(g, in)
	if err != nil {
		t.Fatalf("building: %v", err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatalf("running: %v", err)
	}
	return out.Value().(*tensor.Dense)
}

// aRand returns a seeded uniform [-1, 1) tensor of the given dtype.
func aRand(dt tensor.Dtype, seed int64, shape ...int) *tensor.Dense {
	d := gradcheck.Rand(seed, shape)
	if dt == tensor.Float64 {
		return d
	}
	return aTo32(d)
}

func aTo32(d *tensor.Dense) *tensor.Dense {
	src := d.Data().([]float64)
	dst := make([]float32, len(src))
	for i, v := range src {
		dst[i] = float32(v)
	}
	return tensor.New(tensor.WithShape(d.Shape().Clone()...), tensor.WithBacking(dst))
}

// aF64 returns a copy of a tensor's elements as float64.
func aF64(d *tensor.Dense) []float64 {
	switch v := d.Data().(type) {
	case []float64:
		return append([]float64(nil), v[:d.Shape().TotalSize()]...)
	case []float32:
		out := make([]float64, d.Shape().TotalSize())
		for i := range out {
			out[i] = float64(v[i])
		}
		return out
	}
	panic("aF64: not a float tensor")
}

// aClose reports the worst element of got against want with tolerance tol·max(1, |want|).
func aClose(t testing.TB, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values, want %d", what, len(got), len(want))
	}
	worst, at := 0.0, -1
	for i := range got {
		d := math.Abs(got[i]-want[i]) / math.Max(1, math.Abs(want[i]))
		if d > worst || math.IsNaN(got[i]) != math.IsNaN(want[i]) {
			worst, at = d, i
			if math.IsNaN(got[i]) != math.IsNaN(want[i]) {
				worst = math.Inf(1)
			}
		}
	}
	if worst > tol {
		t.Errorf("%s: element %d is %.9g, want %.9g (scaled error %.3g > %.1g)", what, at, got[at], want[at], worst, tol)
	}
}

// aWantErr checks that err is non-nil, starts with "ops:" and contains every fragment.
func aWantErr(t testing.TB, what string, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one containing %q", what, fragments)
		return
	}
	if !strings.HasPrefix(err.Error(), "ops: ") {
		t.Errorf("%s: error %q lacks the \"ops: \" prefix", what, err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("%s: error %q does not contain %q", what, err, f)
		}
	}
}

// aUnwrapOps cuts the ops error out of the text Gorgonia's machine wraps around it (the machine
// formats, rather than wraps, some of its errors, so errors.Unwrap cannot reach it).
func aUnwrapOps(err error) error {
	if i := strings.Index(err.Error(), "ops: "); i >= 0 {
		return errors.New(err.Error()[i:])
	}
	return err
}
