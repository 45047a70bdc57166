package experiment

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/pretext"
	"github.com/ssl4dp/ssl4dp/train/seg"
)

// Flags are command-line flags of `ssl4dp train pretext` or `ssl4dp train seg` by name
// (without the dashes) and value as text: a grid file writes them as TOML keys
// (`encoder-lr-mult = 0.1`), and they reach the training code through the commands' own
// flag structs and kong, so a grid means exactly what the same command line means and a
// misspelt flag is an error, not a silent default.
type Flags map[string]string

// Keys the experiment sets itself, per kind of table.
var (
	// stageReserved: the chain sets init, the seed list the seed, the experiment the folder.
	stageReserved    = []string{"method", "init", "seed", "out", "resume"}
	pretrainReserved = stageReserved
	// finetuneReserved: cells fine-tune and are evaluated on the grid's data.
	finetuneReserved = []string{"init", "seed", "out", "resume", "data", "model"}
)

// toFlags converts a TOML table to Flags: strings, integers, floats, booleans and arrays of
// those (joined with commas, as kong reads lists).
func toFlags(m map[string]any, where string, reserved []string) (Flags, error) {
	out := Flags{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if slices.Contains(reserved, k) {
			return nil, fmt.Errorf("%s: %q is set by the experiment itself and cannot be given here (reserved: %s)", where, k, strings.Join(reserved, ", "))
		}
		if strings.HasPrefix(k, "-") {
			return nil, fmt.Errorf("%s: key %q: write flags without dashes (%q)", where, k, strings.TrimLeft(k, "-"))
		}
		v, err := flagText(m[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", where, k, err)
		}
		out[k] = v
	}
	return out, nil
}

func flagText(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case int64:
		return strconv.FormatInt(t, 10), nil
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64), nil
	case bool:
		return strconv.FormatBool(t), nil
	case []any:
		parts := make([]string, len(t))
		for i, x := range t {
			s, err := flagText(x)
			if err != nil {
				return "", err
			}
			if _, nested := x.([]any); nested {
				return "", fmt.Errorf("nested list %v; want a flat list", t)
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("value %v (%T); want a string, number, boolean or list of them", v, v)
}

// argsFor merges flag sets (later ones win) into a command line, sorted by flag name so
// that the same settings always give the same line (and the same folder key).
func argsFor(sets ...Flags) []string {
	merged := Flags{}
	for _, s := range sets {
		maps.Copy(merged, s)
	}
	args := make([]string, 0, len(merged))
	for _, k := range slices.Sorted(maps.Keys(merged)) {
		args = append(args, "--"+k+"="+merged[k])
	}
	return args
}

// parsePretrain parses args as `ssl4dp train pretext` does. check: parse only to validate
// (no --out, no files needed).
func parsePretrain(args []string, check bool) (*parsed[pretext.Flags], error) {
	if check {
		args = append(slices.Clone(args), "--out=check")
	}
	return parseInto[pretext.Flags](args)
}

// parseFinetune parses args as `ssl4dp train seg` does.
func parseFinetune(args []string, check bool) (*parsed[seg.Flags], error) {
	if check {
		args = append(slices.Clone(args), "--out=check")
	}
	return parseInto[seg.Flags](args)
}

// parsed is a command's flag struct after kong, and which flags the line gave (the
// commands' resume logic takes the others from the saved run).
type parsed[T any] struct {
	Flags T
	given func(string) bool
}

func (p *parsed[T]) Given(name string) bool { return p.given(name) }

func parseInto[T any](args []string) (*parsed[T], error) {
	p := &parsed[T]{}
	given, err := train.ParseFlags(&p.Flags, "experiment", args)
	if err != nil {
		return nil, fmt.Errorf("%v (flags: %s)", err, strings.Join(args, " "))
	}
	p.given = given
	return p, nil
}

// decoderMethod reports whether a pretext method writes decoder.onnx.
func decoderMethod(method string) bool { return pretext.Decoder(method) }
