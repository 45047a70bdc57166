package train

import (
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/ssl4dp/ssl4dp/train/optim"
)

// optimCLI embeds OptimFlags as a command does.
type optimCLI struct {
	OptimFlags `embed:"" kong:"set='weight_decay=0.25',set='weight_decay_source=a test',set='heads=head.'"`
}

func parseOptim(t *testing.T, args ...string) (OptimFlags, func(string) bool) {
	t.Helper()
	var cli optimCLI
	given, err := ParseFlags(&cli, "optim", args)
	if err != nil {
		t.Fatal(err)
	}
	return cli.OptimFlags, given
}

// TestOptimFlags: the embedding's weight decay is the default; Config, WriteArgs and
// FromSaved agree on every flag.
func TestOptimFlags(t *testing.T) {
	f, _ := parseOptim(t)
	if f != (OptimFlags{EncoderLRMult: 1, Momentum: 0.9, WeightDecay: 0.25}) {
		t.Errorf("defaults %+v", f)
	}
	f, given := parseOptim(t, "--momentum", "0.5", "--nesterov", "--max-grad-norm", "2", "--encoder-lr-mult", "0.01")
	if got, want := f.Config(), (optim.Config{Momentum: 0.5, WeightDecay: 0.25, Nesterov: true, MaxGradNorm: 2}); got != want {
		t.Errorf("Config %+v, want %+v", got, want)
	}
	var c CommandLine
	f.WriteArgs(&c)
	if got, want := c.String(), "--encoder-lr-mult 0.01 --momentum 0.5 --weight-decay 0.25 --nesterov --max-grad-norm 2"; got != want {
		t.Errorf("WriteArgs %q, want %q", got, want)
	}
	// A resumed run: the given flags stay, the others come from config.json.
	saved := OptimizerConfig{Name: "sgd", Momentum: 0.8, WeightDecay: 1e-3, Nesterov: false, MaxGradNorm: 3, EncoderLRMult: 0.1}
	f.FromSaved(saved, func(name string, apply func()) {
		if !given(name) {
			apply()
		}
	})
	if want := (OptimFlags{EncoderLRMult: 0.01, Momentum: 0.5, WeightDecay: 1e-3, Nesterov: true, MaxGradNorm: 2}); f != want {
		t.Errorf("after FromSaved %+v, want %+v", f, want)
	}
	f = OptimFlags{}
	f.FromSaved(saved, func(_ string, apply func()) { apply() })
	if want := (OptimFlags{EncoderLRMult: 0.1, Momentum: 0.8, WeightDecay: 1e-3, MaxGradNorm: 3}); f != want {
		t.Errorf("all from config.json: %+v, want %+v", f, want)
	}
}

// TestOptimFlagsNeedTheirVariables: a command that embeds OptimFlags without setting its
// variables (its weight decay above all) is refused when its parser is built, not run with
// some default.
func TestOptimFlagsNeedTheirVariables(t *testing.T) {
	var cli struct {
		OptimFlags `embed:""`
	}
	if _, err := kong.New(&cli); err == nil || !strings.Contains(err.Error(), "undefined variable") {
		t.Fatalf("kong.New without the variables: %v", err)
	}
}

func TestCommandLine(t *testing.T) {
	var c CommandLine
	c.Add("data", "synthetic")
	c.Float("lr", 1e-5)
	c.Float("width", 0.25)
	c.Int("iters", 20000)
	c.Switch("resume")
	if got, want := c.String(), "--data synthetic --lr 1e-05 --width 0.25 --iters 20000 --resume"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}
