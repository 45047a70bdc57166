package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ssl4dp/ssl4dp/onnx"
)

// InspectCmd describes an ONNX model without running it.
type InspectCmd struct {
	File string `arg:"" help:"The ONNX model file."`
	JSON bool   `name:"json" help:"Print one JSON object (stable field names and order) instead of text."`
}

// inspectReport is the --json output: the file plus onnx.Summary's fields.
type inspectReport struct {
	File string `json:"file"`
	onnx.Summary
}

// Run reads and validates the model and prints its summary.
func (c *InspectCmd) Run(*Globals) error {
	m, err := onnx.ReadFile(c.File)
	if err != nil {
		return err
	}
	r := inspectReport{File: c.File, Summary: onnx.Summarize(m)}
	if c.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	writeInspect(stdout, r)
	return nil
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
