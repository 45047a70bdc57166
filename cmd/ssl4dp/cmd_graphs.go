package main

import (
	"fmt"
	"strings"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx"
)

// GraphsCmd writes a freshly initialised encoder + head as an ONNX model (graphs.Build).
type GraphsCmd struct {
	Encoder      string  `required:"" enum:"resnet18,resnet34,resnet50" help:"Encoder: ${enum}."`
	OutputStride int     `name:"output-stride" default:"32" help:"Output stride of the encoder: 32, 16 or 8 (the last stages are dilated)."`
	Head         string  `required:"" enum:"fcn,psp,deeplabv3plus,nonlocal,classifier,none" help:"Head: ${enum}."`
	Classes      int     `help:"Number of classes (every head but none needs it)."`
	Width        float64 `default:"1" help:"Width multiplier for every encoder stage and head width (e.g. 0.25 for small CPU runs)."`
	Seed         int64   `default:"0" help:"Seed of the parameter initialisation."`
	Size         int     `default:"512" help:"Square input size at which to report output shapes and GFLOPs."`
	Output       string  `short:"o" required:"" type:"path" placeholder:"FILE.onnx" help:"Where to write the model."`
}

// graphsUsageError is a bad flag value that kong's tags cannot express: exit code 2.
type graphsUsageError struct{ msg string }

func (e graphsUsageError) Error() string { return e.msg }
func (e graphsUsageError) ExitCode() int { return 2 }

// Run builds, measures and writes the model.
func (c *GraphsCmd) Run(*Globals) error {
	if c.Size <= 0 {
		return graphsUsageError{fmt.Sprintf("graphs: --size %d; want a positive input size", c.Size)}
	}
	spec := graphs.Spec{Encoder: graphs.Encoder(c.Encoder), OutputStride: c.OutputStride, Width: c.Width,
		Head: graphs.Head(c.Head), Classes: c.Classes, Seed: c.Seed}
	m, err := graphs.Build(spec)
	if err != nil {
		return err
	}
	cost, err := graphs.Measure(m, 1, c.Size, c.Size)
	if err != nil {
		return fmt.Errorf("graphs: the model does not run at %d×%d: %w", c.Size, c.Size, err)
	}
	if err := onnx.WriteFile(c.Output, m); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s, output stride %d, width %g, head %s", c.Output, c.Encoder, c.OutputStride, c.Width, c.Head)
	if c.Classes > 0 {
		fmt.Fprintf(stdout, " (%d classes)", c.Classes)
	}
	fmt.Fprintf(stdout, ", seed %d\n", c.Seed)
	var outs []string
	for _, o := range m.Graph.Output {
		outs = append(outs, fmt.Sprintf("%s %v", o.GetName(), cost.Outputs[o.GetName()]))
	}
	fmt.Fprintf(stdout, "  outputs at 1×3×%d×%d: %s\n", c.Size, c.Size, strings.Join(outs, ", "))
	fmt.Fprintf(stdout, "  trainable parameters: %s (%s float32), BatchNorm buffers: %s values\n",
		thousands(cost.Params), bytesString(4*cost.Params), thousands(cost.Buffers))
	fmt.Fprintf(stdout, "  cost at %d×%d: %.2f GFLOPs (%.2f G multiply-adds, Conv/Gemm/MatMul)\n", c.Size, c.Size, cost.GFLOPs(), float64(cost.MACs)/1e9)
	return nil
}
