package experiment

import (
	"context"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/ssl4dp/ssl4dp/train/classify"
	"github.com/ssl4dp/ssl4dp/train/pretext"
)

// ClassifyMethod is the stage method that runs `ssl4dp train classify` (supervised
// pre-training) instead of `train pretext`: stages = [{ method = "classify", epochs = 20 }].
// Its flags are [pretrain]'s that train classify has (encoder, width, size, batch, lr,
// epochs, checkpoint-every, …; scale and the pretext methods' settings are left out) and
// the stage's own, which must all be train classify's.
const ClassifyMethod = "classify"

// stageMethods are the methods a stage may name.
func stageMethods() []string { return append(slices.Clone(pretext.Methods), ClassifyMethod) }

// stageArgs are a stage's command-line flags: argsFor(pretrain, stage, data, extra) with
// "method" set for train pretext; for classify, without "method" and without the [pretrain]
// flags train classify does not have.
func stageArgs(method string, pretrain, stage, data Flags, extra Flags) []string {
	if method != ClassifyMethod {
		return argsFor(pretrain, stage, data, extra, Flags{"method": method})
	}
	known := classifyFlagNames()
	common := Flags{}
	for k, v := range pretrain {
		if known[k] {
			common[k] = v
		}
	}
	return argsFor(common, stage, data, extra)
}

// parseStage parses a stage's flags as its command does and returns what runs it.
func parseStage(method string, args []string, check bool) (func(ctx context.Context, log io.Writer, resume bool) error, error) {
	if method != ClassifyMethod {
		pf, err := parsePretrain(args, check)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, log io.Writer, resume bool) error {
			pf.Flags.Resume = resume
			return pf.Flags.Run(ctx, log, pf.Given)
		}, nil
	}
	if check {
		args = append(slices.Clone(args), "--out=check")
	}
	cf, err := parseInto[classify.Flags](args)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, log io.Writer, resume bool) error {
		cf.Flags.Resume = resume
		return cf.Flags.Run(ctx, log, cf.Given)
	}, nil
}

// supervisedStages applies the Supervised row's rule to a chain that starts with classify
// stages: without a checkpoint (init = "" and no --init ROW=FILE) the row is not skipped but
// trains its own supervised encoder by those stages; with one, the checkpoint stands for
// them and they are dropped. Other chains are returned as they are.
func supervisedStages(specs []StageSpec, initFile, skip string) ([]StageSpec, string) {
	if len(specs) == 0 || specs[0].Method != ClassifyMethod {
		return specs, skip
	}
	if initFile == "" {
		return specs, ""
	}
	for len(specs) > 0 && specs[0].Method == ClassifyMethod {
		specs = specs[1:]
	}
	return specs, skip
}

var (
	classifyNamesOnce sync.Once
	classifyNames     map[string]bool
)

// classifyFlagNames are the long flag names of `ssl4dp train classify`, from its struct tags.
func classifyFlagNames() map[string]bool {
	classifyNamesOnce.Do(func() {
		classifyNames = map[string]bool{}
		var walk func(t reflect.Type)
		walk = func(t reflect.Type) {
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				if f.Anonymous && f.Type.Kind() == reflect.Struct {
					walk(f.Type)
					continue
				}
				if name := f.Tag.Get("name"); name != "" {
					classifyNames[name] = true
				}
			}
		}
		walk(reflect.TypeOf(classify.Flags{}))
	})
	return classifyNames
}

// stageMethodList is stageMethods for messages.
func stageMethodList() string { return strings.Join(stageMethods(), ", ") }
