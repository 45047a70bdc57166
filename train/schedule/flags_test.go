package schedule

import (
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// parse runs kong over Flags as a command would embed them.
func parse(t *testing.T, args ...string) Flags {
	t.Helper()
	var cli struct {
		Flags `embed:""`
	}
	p, err := kong.New(&cli)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Parse(args); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return cli.Flags
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "poly (p=0.9) from 0.01 to 0 over 1000 steps"},
		{[]string{"--schedule", "poly", "--power", "0.9", "--final-lr", "1e-4", "--warmup", "100"},
			"poly (p=0.9) from 0.01 to 0.0001 over 1000 steps, linear warm-up over 100 steps from ×0.001"},
		{[]string{"--lr", "0.003", "--schedule", "step"}, "step from 0.003, ×0.1 at steps [700 900] of 1000"},
		{[]string{"--schedule", "step", "--milestones", "0.5", "--gamma", "0.5"}, "step from 0.01, ×0.5 at steps [500] of 1000"},
		{[]string{"--schedule", "cosine", "--final-lr", "0"}, "cosine from 0.01 to 0 over 1000 steps"},
		{[]string{"--schedule", "constant", "--lr", "0.05"}, "constant 0.05 for 1000 steps"},
		{[]string{"--schedule", "linear", "--final-lr", "1e-3"}, "linear from 0.01 to 0.001 over 1000 steps"},
	} {
		s, err := parse(t, tc.args...).Build(1000)
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if s.String() != tc.want {
			t.Errorf("%v: %q, want %q", tc.args, s.String(), tc.want)
		}
	}
	// The constant schedule's LR never moves.
	s, err := parse(t, "--schedule", "constant").Build(10)
	if err != nil || s.LR(0) != 0.01 || s.LR(10) != 0.01 {
		t.Errorf("constant: %v, LR(0)=%v LR(10)=%v", err, s.LR(0), s.LR(10))
	}
}

func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--schedule", "ploy"}, `unknown schedule "ploy" (did you mean "poly"?)`},
		{[]string{"--final-lr", "0.1"}, "final LR is the larger"},
		{[]string{"--schedule", "step", "--final-lr", "1e-3"}, "--final-lr 0.001 disagrees"},
		{[]string{"--schedule", "constant", "--final-lr", "1e-3"}, "constant keeps --lr 0.01"},
		{[]string{"--warmup", "5000"}, "--warmup 5000 steps"},
		{[]string{"--lr=-1"}, "--lr -1"},
	} {
		_, err := parse(t, tc.args...).Build(1000)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}
