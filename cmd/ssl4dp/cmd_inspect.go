package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	"github.com/ssl4dp/ssl4dp/onnx/importer/check"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// InspectCmd describes an ONNX model; --check and --train-check also run it through the
// importer (Gorgonia) and compare with onnxruntime and with finite differences.
type InspectCmd struct {
	File string `arg:"" help:"The ONNX model file."`
	JSON bool   `name:"json" help:"Print one JSON object (stable field names and order) instead of text."`

	Check      bool     `help:"Run the model through the importer (Gorgonia, evaluation mode) and onnxruntime on the same seeded random input; print each output's max absolute and relative error. Exit 1 above --tol or on an unsupported op."`
	TrainCheck bool     `name:"train-check" help:"Also run one backward pass (float64, training mode) and compare a sample of parameter gradients with central finite differences of the importer's forward pass. Exit 1 above --grad-tol."`
	Tol        float64  `default:"1e-4" help:"Largest accepted forward error, relative to each output's largest magnitude."`
	GradTol    float64  `name:"grad-tol" default:"1e-4" help:"Largest accepted relative gradient error."`
	InputShape []string `name:"input-shape" sep:"none" placeholder:"NAME=N,C,H,W" help:"Shape of an input for the checks (repeatable); otherwise symbolic dimensions become batch 2 and size 64."`
	Seed       int64    `default:"1" help:"Seed of the random input, projection and gradient sample."`
	Samples    int      `default:"20" help:"Parameter-gradient entries --train-check compares."`
}

// inspectReport is the --json output: the file plus onnx.Summary's fields (and the checks).
type inspectReport struct {
	File string `json:"file"`
	onnx.Summary
	Check *checkReport `json:"check,omitempty"`
}

// checkReport is what --check and --train-check found.
type checkReport struct {
	Inputs    map[string][]int    `json:"inputs"`
	Outputs   []check.OutputError `json:"outputs"`
	Gradients []check.GradSample  `json:"gradients,omitempty"`
	Warnings  []string            `json:"warnings,omitempty"`
	// DenseMaps are the tensors `train --init` can take as the encoder's dense output
	// (--features): each stride's last map and the default; empty when none is found.
	DenseMaps []importer.DenseMap `json:"dense_maps,omitempty"`
	Failures  []string            `json:"failures,omitempty"`
}

// Run reads and validates the model and prints its summary, then runs the checks asked for.
func (c *InspectCmd) Run(*Globals) error {
	m, err := onnx.ReadFile(c.File)
	if err != nil {
		return err
	}
	r := inspectReport{File: c.File, Summary: onnx.Summarize(m)}
	if c.Check || c.TrainCheck {
		if r.Check, err = c.runChecks(m); err != nil {
			return err
		}
	}
	if c.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		writeInspect(stdout, r)
		if r.Check != nil {
			writeCheck(stdout, r.Check, c)
		}
	}
	if r.Check != nil && len(r.Check.Failures) > 0 {
		return fmt.Errorf("inspect: %s: %s", c.File, strings.Join(r.Check.Failures, "; "))
	}
	return nil
}

// runChecks runs --check (and --train-check) and lists every value above its tolerance.
func (c *InspectCmd) runChecks(m *pb.ModelProto) (*checkReport, error) {
	o := check.Options{Shapes: map[string][]int{}, Seed: c.Seed, Samples: c.Samples}
	for _, s := range c.InputShape {
		name, dims, ok := strings.Cut(s, "=")
		var shape []int
		for _, d := range strings.Split(dims, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(d))
			if err != nil || n < 1 {
				ok = false
				break
			}
			shape = append(shape, n)
		}
		if !ok || name == "" {
			return nil, &usageError{fmt.Sprintf("--input-shape %q: want NAME=N,C,H,W with positive sizes", s)}
		}
		o.Shapes[name] = shape
	}
	if c.Samples < 1 {
		return nil, &usageError{fmt.Sprintf("--samples %d: want at least 1", c.Samples)}
	}
	fw, err := check.Forward(m, o)
	if err != nil {
		return nil, err
	}
	rep := &checkReport{Inputs: fw.Inputs, Outputs: fw.Outputs, Warnings: fw.Warnings}
	if maps, err := importer.DenseMaps(m); err == nil {
		rep.DenseMaps = importer.Stages(maps)
	}
	for _, e := range fw.Outputs {
		if !(e.MaxRel <= c.Tol) {
			rep.Failures = append(rep.Failures, fmt.Sprintf("output %q: relative error %.3g > --tol %g", e.Name, e.MaxRel, c.Tol))
		}
	}
	if c.TrainCheck {
		if rep.Gradients, err = check.Gradients(m, o); err != nil {
			return nil, err
		}
		for _, g := range rep.Gradients {
			if !(g.Err() <= c.GradTol) {
				rep.Failures = append(rep.Failures, fmt.Sprintf("gradient of %s[%d]: analytic %.6g, numeric %.6g (error %.3g > --grad-tol %g)", g.Param, g.Index, g.Analytic, g.Numeric, g.Err(), c.GradTol))
			}
		}
	}
	return rep, nil
}

// usageError is a bad flag value: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return "inspect: " + e.msg }
func (e *usageError) ExitCode() int { return 2 }

func writeCheck(w io.Writer, r *checkReport, c *InspectCmd) {
	var ins []string
	for name, s := range r.Inputs {
		ins = append(ins, fmt.Sprintf("%s %v", name, s))
	}
	sort.Strings(ins)
	fmt.Fprintf(w, "check: importer (Gorgonia, evaluation mode) vs onnxruntime on a random input (seed %d): %s\n", c.Seed, strings.Join(ins, ", "))
	width := len("output")
	for _, e := range r.Outputs {
		width = max(width, len(e.Name))
	}
	fmt.Fprintf(w, "    %-*s %-18s %10s %10s\n", width, "output", "shape", "max abs", "max rel")
	for _, e := range r.Outputs {
		verdict := "ok"
		if !(e.MaxRel <= c.Tol) {
			verdict = fmt.Sprintf("ABOVE --tol %g", c.Tol)
		}
		fmt.Fprintf(w, "    %-*s %-18s %10.3g %10.3g  %s\n", width, e.Name, fmt.Sprint(e.Shape), e.MaxAbs, e.MaxRel, verdict)
	}
	if len(r.Gradients) > 0 {
		fmt.Fprintf(w, "train-check: %d parameter gradients (float64, training mode, one backward pass) vs central differences\n", len(r.Gradients))
		pw := len("parameter")
		for _, g := range r.Gradients {
			pw = max(pw, len(g.Param))
		}
		fmt.Fprintf(w, "    %-*s %8s %14s %14s %10s\n", pw, "parameter", "index", "analytic", "numeric", "error")
		for _, g := range r.Gradients {
			verdict := "ok"
			if !(g.Err() <= c.GradTol) {
				verdict = fmt.Sprintf("ABOVE --grad-tol %g", c.GradTol)
			}
			fmt.Fprintf(w, "    %-*s %8d %14.6g %14.6g %10.2g  %s\n", pw, g.Param, g.Index, g.Analytic, g.Numeric, g.Err(), verdict)
		}
	}
	if len(r.DenseMaps) > 0 {
		fmt.Fprintf(w, "dense maps (train pretext|seg --init %s [--features NAME]; * is the default):\n", c.File)
		for _, d := range r.DenseMaps {
			mark := " "
			if d.Default {
				mark = "*"
			}
			fmt.Fprintf(w, "  %s stride %-3d %4d channels  %s (%s)", mark, d.Stride, d.Channels, d.Name, d.Op)
			if d.Tokens {
				fmt.Fprintf(w, " tokens: drops %d, %d×%d grid", d.Drop, d.GridH, d.GridW)
			}
			fmt.Fprintln(w)
		}
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
}

func writeInspect(w io.Writer, r inspectReport) {
	s := r.Summary
	fmt.Fprintf(w, "%s\n", r.File)
	var opsets []string
	for d, v := range s.Opsets {
		opsets = append(opsets, fmt.Sprintf("%s %d", d, v))
	}
	sort.Strings(opsets)
	fmt.Fprintf(w, "  IR version %d, opsets: %s", s.IRVersion, strings.Join(opsets, ", "))
	if p := strings.TrimSpace(s.Producer); p != "" {
		fmt.Fprintf(w, ", producer: %s", p)
	}
	fmt.Fprintln(w)
	writeValues(w, "inputs", s.Inputs)
	writeValues(w, "outputs", s.Outputs)
	fmt.Fprintf(w, "  trainable parameters: %s (%s)\n", thousands(s.Params), bytesString(s.ParamBytes))
	fmt.Fprintf(w, "  buffers: %s values (BatchNorm running statistics: updated in training, not by gradients)\n", thousands(s.Buffers))
	fmt.Fprintf(w, "  initializers: %d\n", s.Initializers)
	fmt.Fprintf(w, "  ops (%d nodes):\n", s.Nodes)
	width := 0
	for _, o := range s.Ops {
		width = max(width, len(o.Op))
	}
	for _, o := range s.Ops {
		fmt.Fprintf(w, "    %-*s %5d\n", width, o.Op, o.Count)
	}
	if len(s.Metadata) > 0 {
		fmt.Fprintln(w, "  metadata:")
		keys := make([]string, 0, len(s.Metadata))
		for k := range s.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "    %s = %s\n", k, s.Metadata[k])
		}
	}
	if len(s.Tied) > 0 {
		fmt.Fprintf(w, "warning: %d trainable initializers feed more than one node, so those layers would train as one shared tensor: %s\n",
			len(s.Tied), strings.Join(s.Tied, ", "))
		fmt.Fprintln(w, "  Why: PyTorch's ONNX exporter merges initializers that hold identical values into one (a freshly")
		fmt.Fprintln(w, "  initialised model's BatchNorm weights, all ones, become a single tensor).")
		fmt.Fprintln(w, "  Fix: re-export with distinct values (load the trained checkpoint before exporting, or perturb the")
		fmt.Fprintln(w, "  values), or accept that training updates the merged layers together.")
	}
}

func writeValues(w io.Writer, title string, vs []onnx.ValueSummary) {
	fmt.Fprintf(w, "  %s:\n", title)
	width := 0
	for _, v := range vs {
		width = max(width, len(v.Name))
	}
	for _, v := range vs {
		fmt.Fprintf(w, "    %-*s %s [%s]\n", width, v.Name, v.Type, strings.Join(v.Shape, " "))
	}
}

// thousands writes n with comma separators: 11,689,512.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// bytesString writes a byte count in binary units: 44.6 MiB.
func bytesString(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, suffix := float64(n), []string{"KiB", "MiB", "GiB", "TiB"}
	i := -1
	for v >= unit && i < len(suffix)-1 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %s", v, suffix[i])
}
