package schedule

import (
	"reflect"
	"testing"
)

// TestFlagsWriteArgsRoundTrip: the flags WriteArgs writes, parsed again, build the same
// schedule — what a resolved command line is for.
func TestFlagsWriteArgsRoundTrip(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--schedule", "poly", "--power", "2", "--final-lr", "1e-4", "--warmup", "10", "--warmup-start", "0.1"},
		{"--schedule", "cosine", "--lr", "0.03", "--power", "2"},
		{"--schedule", "step", "--milestones", "0.25,0.5", "--gamma", "0.5", "--lr", "0.1"},
		{"--schedule", "linear", "--final-lr", "0"},
		{"--schedule", "constant", "--lr", "0.05"},
	} {
		f := parse(t, args...)
		var line []string
		f.WriteArgs(func(name, value string) { line = append(line, "--"+name, value) })
		want, err := f.Build(1000)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parse(t, line...).Build(1000)
		if err != nil {
			t.Fatalf("%v: %v", line, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v wrote %v, which builds\n%+v, want\n%+v", args, line, got, want)
		}
	}
}

// TestFlagsFromSaved: every flag not given takes the saved schedule's value; a given one
// keeps its own.
func TestFlagsFromSaved(t *testing.T) {
	saved := Schedule{Kind: Step, BaseLR: 0.5, Total: 100, FinalLR: 0.25, Power: 2, Milestones: []float64{0.5}, Gamma: 0.3, Warmup: 4, WarmupStart: 0.2}
	f := parse(t, "--lr", "0.125")
	f.FromSaved(saved, func(name string, apply func()) {
		if name != "lr" {
			apply()
		}
	})
	want := Flags{LR: 0.125, Schedule: "step", FinalLR: f.FinalLR, Power: 2, Milestones: []float64{0.5}, Gamma: 0.3, Warmup: 4, WarmupStart: 0.2}
	if !reflect.DeepEqual(f, want) || f.FinalLR == nil || *f.FinalLR != 0.25 {
		t.Errorf("got %+v (final-lr %v), want %+v", f, f.FinalLR, want)
	}
	saved.Milestones[0] = 0.9
	if f.Milestones[0] != 0.5 {
		t.Error("the flags share the saved schedule's milestones")
	}
}
