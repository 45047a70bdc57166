package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A profile counts each op kind's runs per pass, with the FLOPs of convolutions, and nothing
// once stopped.
func TestProfileCountsOpRuns(t *testing.T) {
	g := G.NewGraph()
	x := G.NodeFromAny(g, aRand(tensor.Float32, 1, 2, 3, 8, 8), G.WithName("x"))
	w := G.NodeFromAny(g, aRand(tensor.Float32, 2, 4, 3, 3, 3), G.WithName("w"))
	y, err := Conv2D(x, w, nil, ConvParams{Pads: [4]int{1, 1, 1, 1}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Relu(y)
	if err != nil {
		t.Fatal(err)
	}
	dr := G.NodeFromAny(g, aRand(tensor.Float32, 3, r.Shape()...), G.WithName("dr"))
	if _, err := G.Backpropagate(G.Nodes{r}, G.Nodes{dr}, G.Nodes{x, w}); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	p := StartProfile()
	for i := 0; i < 2; i++ {
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
	}
	StopProfile()
	if err := vm.RunAll(); err != nil { // not counted
		t.Fatal(err)
	}
	if ActiveProfile() != nil {
		t.Fatal("a profile is still active after StopProfile")
	}
	got := map[ProfileKey]ProfileStat{}
	var sum float64
	for _, row := range p.Rows() {
		got[row.ProfileKey] = row.ProfileStat
		sum += row.Seconds
	}
	flops := 2.0 * 2 * 4 * 8 * 8 * (3 * 3 * 3) // 2 × N·M·OH·OW × C·KH·KW, per run
	for _, want := range []struct {
		key   ProfileKey
		flops float64
	}{
		{ProfileKey{"Conv2D 3×3", forward}, flops},
		{ProfileKey{"Conv2D 3×3 ∂x", backward}, flops},
		{ProfileKey{"Conv2D 3×3 ∂w", backward}, flops},
		{ProfileKey{"Relu", forward}, 0},
		{ProfileKey{"Relu", backward}, 0},
	} {
		s, ok := got[want.key]
		if !ok {
			t.Errorf("no row for %+v; rows %v", want.key, got)
			continue
		}
		if s.Calls != 2 || s.FLOPs != 2*want.flops || s.Seconds <= 0 {
			t.Errorf("%+v: %+v, want 2 calls, %v FLOPs, time > 0", want.key, s, 2*want.flops)
		}
	}
	if len(got) != 5 {
		t.Errorf("%d rows, want 5: %v", len(got), got)
	}
	if d := p.Seconds() - sum; d < -1e-12 || d > 1e-12 {
		t.Errorf("Seconds() = %v, rows add up to %v", p.Seconds(), sum)
	}
}
