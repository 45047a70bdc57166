package train

import (
	"fmt"
	"sort"
	"strings"
)

// UsageError is a bad setting or a run folder that cannot be used as asked (exists without
// --resume, resumed with different settings): bad input, exit code 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return "train: " + e.Msg }

// ExitCode makes the CLI exit with 2, as for a bad flag.
func (e *UsageError) ExitCode() int { return 2 }

func usageErrorf(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// InterruptedError reports a run stopped by SIGINT/SIGTERM (its context was cancelled) after
// it finished the current step and saved a checkpoint.
type InterruptedError struct {
	Step       int    // updates done
	Checkpoint string // the checkpoint folder written
	Dir        string // the run folder, for the --resume hint
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("train: interrupted after step %d; checkpoint saved in %s; continue with --resume --out %s", e.Step, e.Checkpoint, e.Dir)
}

// ExitCode is 130, the shell's code for a process ended by SIGINT.
func (e *InterruptedError) ExitCode() int { return 130 }

// NonFiniteError reports a NaN or infinite loss or gradient. The step's update was not
// applied and no checkpoint was written for it: the latest checkpoint is the last good state.
type NonFiniteError struct {
	Step       int                // the 0-based step whose forward/backward pass failed
	Loss       float64            // the total loss
	Parts      map[string]float64 // the loss parts, if the task has several
	Param      string             // the first parameter with a non-finite gradient ("" if the loss itself is)
	Checkpoint string             // the latest good checkpoint, "" if none yet
}

func (e *NonFiniteError) Error() string {
	var b strings.Builder
	if e.Param == "" {
		fmt.Fprintf(&b, "train: step %d: the loss is %v", e.Step, e.Loss)
	} else {
		fmt.Fprintf(&b, "train: step %d: the gradient of %q is not finite (loss %v)", e.Step, e.Param, e.Loss)
	}
	if len(e.Parts) > 0 {
		names := make([]string, 0, len(e.Parts))
		for k := range e.Parts {
			names = append(names, k)
		}
		sort.Strings(names)
		b.WriteString(" (")
		for i, k := range names {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s %v", k, e.Parts[k])
		}
		b.WriteString(")")
	}
	b.WriteString("; stopped before the update")
	if e.Checkpoint != "" {
		fmt.Fprintf(&b, "; the last good checkpoint is %s (lower --lr, or add --max-grad-norm, and --resume)", e.Checkpoint)
	} else {
		b.WriteString("; no checkpoint had been written yet (lower --lr, or add --max-grad-norm)")
	}
	return b.String()
}
