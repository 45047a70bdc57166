package pretext

import (
	"math"
	"slices"
	"testing"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
)

// emaPair imports one tiny network twice (different seeds, so the values differ).
func emaPair(t *testing.T) (target, online *importer.Model) {
	t.Helper()
	for i, seed := range []int64{1, 2} {
		mp, err := graphs.Build(graphs.Spec{Encoder: graphs.ResNet18, Width: 0.0625, Pretext: graphs.Pretext{Projector: graphs.ProjectorMoCoV2, Dim: 8}, Seed: seed, Outputs: []string{graphs.Projection}})
		if err != nil {
			t.Fatal(err)
		}
		m, err := importer.Import(mp, importer.Options{InputShapes: map[string][]int{"input": {2, 3, 32, 32}}})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			target = m
		} else {
			online = m
		}
	}
	return target, online
}

func TestEMAUpdate(t *testing.T) {
	target, online := emaPair(t)
	e, err := NewEMA(target, online)
	if err != nil {
		t.Fatal(err)
	}
	before := map[string][]float32{}
	for _, p := range target.Params() {
		v, _ := values(p)
		before[p.Name] = slices.Clone(v)
	}
	bnBefore := slices.Clone(target.BatchNorms()[0].State.Mean.Data().([]float32))
	const m = 0.9
	if err := e.Update(m); err != nil {
		t.Fatal(err)
	}
	for _, p := range target.Params() {
		got, _ := values(p)
		o, _ := online.Param(p.Name)
		ov, _ := values(o)
		for i := range got {
			want := before[p.Name][i]*float32(m) + ov[i]*float32(1-m)
			if got[i] != want {
				t.Fatalf("%s[%d] = %v, want %v·%v + %v·%v = %v", p.Name, i, got[i], before[p.Name][i], m, ov[i], 1-m, want)
			}
		}
	}
	// Running statistics are the target's own.
	if !slices.Equal(bnBefore, target.BatchNorms()[0].State.Mean.Data().([]float32)) {
		t.Error("EMA changed a BatchNorm running mean")
	}
	// m = 1 keeps the target, Copy makes it equal to the online network.
	w, _ := target.Param("conv1.weight")
	wv, _ := values(w)
	keep := slices.Clone(wv)
	e.Update(1)
	if !slices.Equal(keep, wv) {
		t.Error("Update(1) changed the target")
	}
	e.Copy()
	ow, _ := online.Param("conv1.weight")
	owv, _ := values(ow)
	if !slices.Equal(wv, owv) {
		t.Error("Copy left the target different from the online network")
	}
	for _, bad := range []float64{-0.1, 1.5, math.NaN()} {
		if err := e.Update(bad); err == nil {
			t.Errorf("Update(%v) accepted", bad)
		}
	}
}

func TestEMAPairsByName(t *testing.T) {
	target, _ := emaPair(t)
	mp, err := graphs.Build(graphs.Spec{Encoder: graphs.ResNet18, Width: 0.0625, Outputs: []string{graphs.Features}})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := importer.Import(mp, importer.Options{InputShapes: map[string][]int{"input": {2, 3, 32, 32}}})
	if err != nil {
		t.Fatal(err)
	}
	// The target has a projector the online network lacks.
	if _, err := NewEMA(target, bare); err == nil || !contains(err.Error(), "projector.0.weight") {
		t.Errorf("missing projector: error %v, want one naming projector.0.weight", err)
	}
	wide, err := graphs.Build(graphs.Spec{Encoder: graphs.ResNet18, Width: 0.125, Pretext: graphs.Pretext{Projector: graphs.ProjectorMoCoV2, Dim: 8}, Outputs: []string{graphs.Projection}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := importer.Import(wide, importer.Options{InputShapes: map[string][]int{"input": {2, 3, 32, 32}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewEMA(target, w); err == nil || !contains(err.Error(), "shape") {
		t.Errorf("other width: error %v, want a shape mismatch", err)
	}
}

func TestBYOLTauSchedule(t *testing.T) {
	for _, c := range []struct {
		k, total int
		want     float64
	}{{0, 100, 0.996}, {50, 100, 1 - 0.004/2}, {100, 100, 1}, {200, 100, 1}, {7, 0, 0.996}} {
		if got := byolTau(0.996, c.k, c.total); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("τ(%d of %d) = %v, want %v", c.k, c.total, got, c.want)
		}
	}
}
