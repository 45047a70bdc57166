// Command ssl4dp pre-trains, fine-tunes, exports, evaluates and benchmarks dense-prediction
// models defined as ONNX graphs. Run `ssl4dp --help` for the tour; each command lives in its
// own cmd_<verb>.go file as a struct with a Run method.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/alecthomas/kong"
)

// Globals are flags every command sees.
type Globals struct {
	Verbose bool `short:"v" help:"Print more detail (and stack traces for internal errors)."`
}

// CLI lists the commands. Add a command by writing cmd_<verb>.go and one line here.
type CLI struct {
	Globals

	Version VersionCmd `cmd:"" help:"Print the ssl4dp version, the Go and onnxruntime versions and the BLAS in use."`
}

const description = `ssl4dp: self-supervised pre-training for dense prediction.

Models are ONNX graphs from end to end: 'graphs' writes encoders and heads, 'train' trains them
in Go (Gorgonia), 'export' writes inference models, 'evaluate' and 'bench' run them with
onnxruntime. Start with 'ssl4dp demo', or see README.md.`

// exitCoder lets an error choose the process exit code (2: bad input, 1: failure).
type exitCoder interface{ ExitCode() int }

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) (code int) {
	var cli CLI
	parser, err := newParser(&cli)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ssl4dp: internal error building the command line:", err)
		return 3
	}
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(exitPanic); ok {
				code = int(e)
				return
			}
			fmt.Fprintf(os.Stderr, "ssl4dp: internal error: %v (please report it; run with -v for a stack trace)\n", r)
			if cli.Verbose {
				os.Stderr.Write(debug.Stack())
			}
			code = 3
		}
	}()
	ctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ssl4dp:", err)
		return 2
	}
	if err := ctx.Run(&cli.Globals); err != nil {
		fmt.Fprintln(os.Stderr, "ssl4dp:", err)
		var ec exitCoder
		if errors.As(err, &ec) {
			return ec.ExitCode()
		}
		return 1
	}
	return 0
}

func newParser(cli *CLI) (*kong.Kong, error) {
	return kong.New(cli,
		kong.Name("ssl4dp"),
		kong.Description(description),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Exit(func(code int) { panic(exitPanic(code)) }),
	)
}

// exitPanic carries kong's exit (after --help) out of Parse without os.Exit, so tests can
// call run; main's deferred recover turns it into the code.
type exitPanic int
