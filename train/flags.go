package train

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/ssl4dp/ssl4dp/train/optim"
)

// OptimFlags are the SGD flags of the train commands (kong tags). They live here, once, so
// that `train seg` and `train pretext` cannot drift apart in what a flag means, how a resumed
// run takes it back from config.json (FromSaved) or how the resolved command line writes it
// (WriteArgs). Each command embeds them with the variables its help and defaults need:
//
//	train.OptimFlags `embed:"" kong:"set='weight_decay=0.0005',set='weight_decay_source=mmseg VOC: 5e-4',set='heads=head.*'"`
//
// weight_decay is the default of --weight-decay (the commands follow different recipes),
// weight_decay_source says where it comes from, and heads lists the parameter-name prefixes
// that are not the encoder (the task's HeadPrefixes), for the help of --encoder-lr-mult. The
// variables go in kong's own tag because Go tags may not repeat a key (staticcheck SA5008);
// kong refuses to build a parser that leaves one unset.
type OptimFlags struct {
	EncoderLRMult float64 `name:"encoder-lr-mult" default:"1" help:"LR multiplier for the encoder: every parameter outside the new heads (${heads}); 0.01 lets a pre-trained (--init) encoder move 100x slower than the heads."`
	Momentum      float64 `name:"momentum" default:"0.9" help:"SGD momentum."`
	WeightDecay   float64 `name:"weight-decay" default:"${weight_decay}" help:"L2 weight decay on weights (BatchNorm and biases excluded); ${weight_decay_source}."`
	Nesterov      bool    `name:"nesterov" help:"Nesterov momentum."`
	MaxGradNorm   float64 `name:"max-grad-norm" default:"0" help:"Clip the global gradient norm to this before each step (0: no clipping)."`
}

// Config is the optimizer's settings; the encoder's LR multiplier is not one of them (it goes
// to train.Config.EncoderLRMult, which scales the LR of everything outside the heads).
func (f OptimFlags) Config() optim.Config {
	return optim.Config{Momentum: f.Momentum, WeightDecay: f.WeightDecay, Nesterov: f.Nesterov, MaxGradNorm: f.MaxGradNorm}
}

// FromSaved takes the flags back from a run's saved optimizer settings (config.json's
// "optimizer"), so that `--resume --out RUN` alone continues with the optimizer the run
// started with. set(name, apply) is the command's: it calls apply unless the flag was given
// on the command line (the engine then refuses a given value that differs from the run's).
func (f *OptimFlags) FromSaved(o OptimizerConfig, set func(name string, apply func())) {
	set("momentum", func() { f.Momentum = o.Momentum })
	set("weight-decay", func() { f.WeightDecay = o.WeightDecay })
	set("nesterov", func() { f.Nesterov = o.Nesterov })
	set("max-grad-norm", func() { f.MaxGradNorm = o.MaxGradNorm })
	set("encoder-lr-mult", func() { f.EncoderLRMult = o.EncoderLRMult })
}

// WriteArgs writes the flags into a command's resolved command line: every value, except
// --nesterov and --max-grad-norm, which are written only when they are on (their defaults are
// off, so leaving them out says the same).
func (f OptimFlags) WriteArgs(c *CommandLine) {
	c.Float("encoder-lr-mult", f.EncoderLRMult)
	c.Float("momentum", f.Momentum)
	c.Float("weight-decay", f.WeightDecay)
	if f.Nesterov {
		c.Switch("nesterov")
	}
	if f.MaxGradNorm > 0 {
		c.Float("max-grad-norm", f.MaxGradNorm)
	}
}

// CommandLine builds the resolved command line a train command prints at the start of a run,
// so that every run says exactly what it did: "--name value" for each flag, a switch bare,
// numbers in their shortest exact form (0.0005, 1e-05), so the line given again does the
// same run.
type CommandLine struct{ b strings.Builder }

// Add writes --name value.
func (c *CommandLine) Add(name, value string) { fmt.Fprintf(&c.b, " --%s %s", name, value) }

// Float writes a number flag.
func (c *CommandLine) Float(name string, v float64) {
	c.Add(name, strconv.FormatFloat(v, 'g', -1, 64))
}

// Int writes an integer flag.
func (c *CommandLine) Int(name string, v int) { c.Add(name, strconv.Itoa(v)) }

// Switch writes a boolean flag that is on: --name.
func (c *CommandLine) Switch(name string) { fmt.Fprintf(&c.b, " --%s", name) }

// String is the line so far, without the command's name.
func (c *CommandLine) String() string { return strings.TrimSpace(c.b.String()) }

// GivenFlags reports which flags a parsed command line gave (not defaults), by name: the
// train commands' --resume takes every other flag from the saved run.
func GivenFlags(kctx *kong.Context) func(string) bool {
	given := map[string]bool{}
	if kctx != nil {
		for _, p := range kctx.Path {
			if p.Flag != nil {
				given[p.Flag.Name] = true
			}
		}
	}
	return func(name string) bool { return given[name] }
}

// ParseFlags parses args into a command's flag struct (a pointer) as the CLI does —
// defaults, enums, embedded flag groups — without printing or exiting, and returns which
// flags were given. The experiment runner and the commands' tests read command lines with it.
func ParseFlags(flags any, name string, args []string) (given func(string) bool, err error) {
	k, err := kong.New(flags, kong.Name(name), kong.Writers(io.Discard, io.Discard), kong.Exit(func(int) {}))
	if err != nil {
		return nil, fmt.Errorf("%s: internal error building the flag parser: %w", name, err)
	}
	kctx, err := k.Parse(args)
	if err != nil {
		return nil, err
	}
	return GivenFlags(kctx), nil
}
