// Command ssl4dp pre-trains, fine-tunes, exports, evaluates and benchmarks dense-prediction
// models defined as ONNX graphs. Run `ssl4dp --help` for the tour; each command lives in its
// own cmd_<verb>.go file as a struct with a Run method.
package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/alecthomas/kong"
)

// Globals are flags every command sees.
type Globals struct {
	Verbose bool `short:"v" help:"Print more detail (and stack traces for internal errors)."`
}

// CLI lists the commands. Add a command by writing cmd_<verb>.go and one line here.
type CLI struct {
	Globals

	Version    VersionCmd    `cmd:"" help:"Print the ssl4dp version, the Go and onnxruntime versions and the BLAS in use."`
	Inspect    InspectCmd    `cmd:"" help:"Describe an ONNX model: inputs, outputs, ops, trainable parameters."`
	Data       DataCmd       `cmd:"" help:"Preview augmented views (what the model sees) and print dataset statistics."`
	Graphs     GraphsCmd     `cmd:"" help:"Write a freshly initialised encoder + head as ONNX; print parameters and GFLOPs."`
	Train      TrainCmd      `cmd:"" help:"Train: seg fine-tunes a segmentation model (checkpoints, --resume, validation mIoU)."`
	Plot       PlotCmd       `cmd:"" help:"Draw a run's loss, learning-rate, monitor (a pretext method's accuracy at its task) and validation-mIoU curves to a PNG."`
	Bench      BenchCmd      `cmd:"" help:"Time inference (onnxruntime, cpu or cuda) or one training step; latency percentiles, throughput, memory, machine."`
	Export     ExportCmd     `cmd:"" help:"Write an inference ONNX model from a run or checkpoint (seg logits/labels or encoder features), checked against Gorgonia with onnxruntime."`
	Evaluate   EvaluateCmd   `cmd:"" help:"Score a segmentation model with onnxruntime on a labelled split (mIoU, per-class IoU, accuracies, overlays); or a frozen encoder: evaluate linear (1×1-conv probe), evaluate retrieval (Hummingbird)."`
	Demo       DemoCmd       `cmd:"" help:"The main job in one command on built-in data: pre-train MoCo v2 and PLMoCo, fine-tune, export, evaluate, bench; prints the table (~10 min on 2 cores)."`
	Experiment ExperimentCmd `cmd:"" help:"Run a grid of pre-training rows × heads × seeds (TOML), resumable; writes results.md (mean ± std over seeds) and results.png."`
}

const description = `ssl4dp: self-supervised pre-training for dense prediction.

Models are ONNX graphs from end to end: 'graphs' writes encoders and heads, 'train' trains them
in Go (Gorgonia), 'export' writes inference models, 'evaluate' and 'bench' run them with
onnxruntime. Start with 'ssl4dp demo', or see README.md.`

// Exit codes: 0 success; 1 a failure while working; 2 bad input — a bad command line, or a
// file that is missing, unreadable or not what it should be (errors with ExitCode() 2, such
// as *onnx.FormatError); 3 an internal error (a bug: a recovered panic). Whatever the
// code, the message is one line on stderr; a goroutine dump only comes with -v.

// exitCoder lets an error choose the process exit code.
type exitCoder interface{ ExitCode() int }

// stdout and stderr are where commands write; tests replace them to read the output.
var (
	stdout io.Writer = os.Stdout
	stderr io.Writer = os.Stderr
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) (code int) {
	var cli CLI
	parser, err := newParser(&cli)
	if err != nil {
		fmt.Fprintln(stderr, "ssl4dp: internal error building the command line:", err)
		return 3
	}
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(exitPanic); ok {
				code = int(e)
				return
			}
			fmt.Fprintf(stderr, "ssl4dp: internal error: %v (please report it; run with -v for a stack trace)\n", r)
			if cli.Verbose {
				stderr.Write(debug.Stack())
			}
			code = 3
		}
	}()
	ctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintln(stderr, "ssl4dp:", oneLine(err))
		return 2
	}
	if err := ctx.Run(&cli.Globals); err != nil {
		fmt.Fprintln(stderr, "ssl4dp:", oneLine(err))
		return exitCode(err)
	}
	return 0
}

func exitCode(err error) int {
	var ec exitCoder
	switch {
	case errors.As(err, &ec):
		return ec.ExitCode()
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission),
		errors.Is(err, syscall.EISDIR), errors.Is(err, syscall.ENOTDIR):
		return 2 // a path the user gave that cannot be used
	}
	return 1
}

// oneLine keeps an error on one line (onnxruntime's messages can span several), so that a
// script reading stderr sees one message per failure.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func newParser(cli *CLI) (*kong.Kong, error) {
	return kong.New(cli,
		kong.Name("ssl4dp"),
		kong.Description(description),
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Exit(func(code int) { panic(exitPanic(code)) }),
	)
}

// exitPanic carries kong's exit (after --help) out of Parse without os.Exit, so tests can
// call run; main's deferred recover turns it into the code.
type exitPanic int
