package pretext

import (
	"fmt"
	"slices"

	"github.com/ssl4dp/ssl4dp/train"
)

// Methods lists the method names New accepts.
var Methods = []string{"moco", "simclr", "byol", "simsiam", "plr", "edmoco", "plmoco", "pledmoco", "densecl", "pixpro", "cp2"}

// Task is a pretext method: a train.Task that also reports its settings.
type Task interface {
	train.Task
	// Options returns the options with the network's defaults filled in.
	Options() Options
	// InitReport says what Options.Init loaded.
	InitReport() InitReport
}

var (
	_ Task = (*MoCo)(nil)
	_ Task = (*SimCLR)(nil)
	_ Task = (*BYOL)(nil)
	_ Task = (*SimSiam)(nil)
	_ Task = (*PLR)(nil)
	_ Task = (*PLMoCo)(nil)
	_ Task = (*DenseCL)(nil)
	_ Task = (*PixPro)(nil)
	_ Task = (*CP2)(nil)
)

// Decoder reports whether the method trains an encoder-decoder (and writes decoder.onnx).
func Decoder(method string) bool {
	return slices.Contains([]string{"plr", "edmoco", "pledmoco", "cp2"}, method)
}

// Defaults returns a method's hyper-parameters at a scale, as a pointer New accepts.
func Defaults(method string, s Scale) (Config, error) {
	if s != Paper && s != CPU {
		return nil, &UsageError{fmt.Sprintf("scale %q; want %q or %q", s, Paper, CPU)}
	}
	switch method {
	case "moco", "edmoco":
		c := MoCoDefaults(s)
		return &c, nil
	case "simclr":
		c := SimCLRDefaults(s)
		return &c, nil
	case "byol":
		c := BYOLDefaults(s)
		return &c, nil
	case "simsiam":
		c := SimSiamDefaults(s)
		return &c, nil
	case "plr":
		c := PLRDefaults(s)
		return &c, nil
	case "plmoco", "pledmoco":
		c := PLMoCoDefaults(s)
		return &c, nil
	case "densecl":
		c := DenseCLDefaults(s)
		return &c, nil
	case "pixpro":
		c := PixProDefaults(s)
		return &c, nil
	case "cp2":
		c := CP2Defaults(s)
		return &c, nil
	}
	return nil, &UsageError{fmt.Sprintf("unknown method %q; want one of %v", method, Methods)}
}

// New returns the method with the given hyper-parameters (a Config from Defaults, possibly
// changed). The config must be the method's type.
func New(method string, o Options, c Config) (Task, error) {
	wrong := func() (Task, error) {
		return nil, &UsageError{fmt.Sprintf("method %s does not take a %T", method, c)}
	}
	switch method {
	case "moco", "edmoco":
		mc, ok := c.(*MoCoConfig)
		if !ok {
			return wrong()
		}
		if method == "moco" {
			return NewMoCo(o, *mc)
		}
		return NewEDMoCo(o, *mc)
	case "simclr":
		sc, ok := c.(*SimCLRConfig)
		if !ok {
			return wrong()
		}
		return NewSimCLR(o, *sc)
	case "byol":
		bc, ok := c.(*BYOLConfig)
		if !ok {
			return wrong()
		}
		return NewBYOL(o, *bc)
	case "simsiam":
		sc, ok := c.(*SimSiamConfig)
		if !ok {
			return wrong()
		}
		return NewSimSiam(o, *sc)
	case "plr":
		pc, ok := c.(*PLRConfig)
		if !ok {
			return wrong()
		}
		return NewPLR(o, *pc)
	case "plmoco", "pledmoco":
		pc, ok := c.(*PLMoCoConfig)
		if !ok {
			return wrong()
		}
		if method == "plmoco" {
			return NewPLMoCo(o, *pc)
		}
		return NewPLEDMoCo(o, *pc)
	case "densecl":
		dc, ok := c.(*DenseCLConfig)
		if !ok {
			return wrong()
		}
		return NewDenseCL(o, *dc)
	case "pixpro":
		pc, ok := c.(*PixProConfig)
		if !ok {
			return wrong()
		}
		return NewPixPro(o, *pc)
	case "cp2":
		cc, ok := c.(*CP2Config)
		if !ok {
			return wrong()
		}
		return NewCP2(o, *cc)
	}
	return nil, &UsageError{fmt.Sprintf("unknown method %q; want one of %v", method, Methods)}
}

// UsageError is a bad method name, scale or setting: bad user input (CLI exit code 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return "pretext: " + e.Msg }

// ExitCode makes the CLI exit with 2, as for a bad flag.
func (e *UsageError) ExitCode() int { return 2 }

func usagef(format string, args ...any) error { return &UsageError{fmt.Sprintf(format, args...)} }

// inMethod prefixes err with the method's name, keeping a UsageError one.
func inMethod(method string, err error) error {
	if u, ok := err.(*UsageError); ok {
		return &UsageError{method + ": " + u.Msg}
	}
	return errorf("%s: %w", method, err)
}
