package seg

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// Mismatch is an initializer present in both models with different shapes.
type Mismatch struct {
	Name             string
	FileShape, Shape []int // in the --init file, in the model being trained
}

// InitReport says what LoadInit did with each initializer.
type InitReport struct {
	From    string     // the file's name, for messages
	Prefix  string     // a prefix stripped from the file's names to match ("" if none)
	Loaded  []string   // copied from the file (same name and shape)
	Skipped []Mismatch // same name, other shape: kept at their random initialisation
	Missing []string   // in the model, not in the file: random initialisation
	Unused  []string   // in the file, not in the model (a classifier, a projector, …)
}

// LoadInit copies into model every float initializer (weights, biases, BatchNorm scales and
// running statistics) that init has under the same name with the same shape — so any ONNX
// whose names follow torchvision's state_dict keys can start a run: graphs/ models, a pretext
// run's encoder.onnx, a torchvision export (scripts/export_torchvision.py). When no name
// matches as is, a prefix common to the file's names ("backbone.", "module.encoder_q.", …)
// is stripped and the match retried. The model is changed in place.
func LoadInit(model, init *pb.ModelProto, from string) (InitReport, error) {
	rep := InitReport{From: from}
	if model.GetGraph() == nil || init.GetGraph() == nil {
		return rep, fmt.Errorf("seg: --init %s: model has no graph", from)
	}
	roles := onnx.Roles(model.Graph)
	targets := map[string]*pb.TensorProto{}
	var order []string
	for _, t := range model.Graph.Initializer {
		if roles[t.GetName()] != onnx.Constant && isFloat(t) {
			targets[t.GetName()] = t
			order = append(order, t.GetName())
		}
	}
	source := map[string]*pb.TensorProto{}
	for _, t := range init.Graph.Initializer {
		if isFloat(t) {
			source[t.GetName()] = t
		}
	}
	if matches(source, targets, "") == 0 {
		if p := commonPrefix(source); p != "" && matches(source, targets, p) > 0 {
			rep.Prefix = p
		}
	}
	used := map[string]bool{}
	for _, name := range order {
		src, ok := source[rep.Prefix+name]
		if !ok {
			rep.Missing = append(rep.Missing, name)
			continue
		}
		used[rep.Prefix+name] = true
		dst := targets[name]
		fs, ts := onnx.Shape(src), onnx.Shape(dst)
		if !slices.Equal(fs, ts) {
			rep.Skipped = append(rep.Skipped, Mismatch{Name: name, FileShape: fs, Shape: ts})
			continue
		}
		vals, err := onnx.Floats(src)
		if err != nil {
			return rep, fmt.Errorf("seg: --init %s: initializer %q: %w", from, src.GetName(), err)
		}
		if pb.TensorProto_DataType(dst.GetDataType()) != pb.TensorProto_FLOAT {
			return rep, fmt.Errorf("seg: the model's initializer %q is %v; only float32 models train", name, pb.TensorProto_DataType(dst.GetDataType()))
		}
		onnx.SetInitializer(model.Graph, onnx.FromFloats(name, ts, vals))
		rep.Loaded = append(rep.Loaded, name)
	}
	for name := range source {
		if !used[name] {
			rep.Unused = append(rep.Unused, name)
		}
	}
	sort.Strings(rep.Unused)
	if len(rep.Loaded) == 0 {
		return rep, inputErrorf("--init %s: no initializer matches the model by name and shape (%d skipped for their shape, %d in the file unused: %s); "+
			"the file should use torchvision's names (conv1.weight, layer1.0.bn1.running_mean, …) and the same encoder and --width",
			from, len(rep.Skipped), len(rep.Unused), listNames(rep.Unused, 5))
	}
	return rep, nil
}

func isFloat(t *pb.TensorProto) bool {
	switch pb.TensorProto_DataType(t.GetDataType()) {
	case pb.TensorProto_FLOAT, pb.TensorProto_DOUBLE, pb.TensorProto_FLOAT16, pb.TensorProto_BFLOAT16:
		return true
	}
	return false
}

// matches counts the model's names found in source after prefix.
func matches(source, targets map[string]*pb.TensorProto, prefix string) int {
	n := 0
	for name := range targets {
		if _, ok := source[prefix+name]; ok {
			n++
		}
	}
	return n
}

// commonPrefix is the longest prefix ending in "." that every name shares.
func commonPrefix(names map[string]*pb.TensorProto) string {
	first := true
	var p string
	for n := range names {
		if first {
			p, first = n, false
			continue
		}
		for !strings.HasPrefix(n, p) {
			p = p[:len(p)-1]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i+1]
	}
	return ""
}

// String is the summary printed at the start of a run.
func (r InitReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "init from %s", r.From)
	if r.Prefix != "" {
		fmt.Fprintf(&b, " (names under %q)", r.Prefix)
	}
	fmt.Fprintf(&b, ": %d loaded, %d skipped (shape mismatch), %d missing (random init), %d in the file unused\n",
		len(r.Loaded), len(r.Skipped), len(r.Missing), len(r.Unused))
	if len(r.Loaded) > 0 {
		fmt.Fprintf(&b, "  loaded:  %s\n", groupNames(r.Loaded))
	}
	for i, m := range r.Skipped {
		if i == 8 {
			fmt.Fprintf(&b, "  … and %d more skipped\n", len(r.Skipped)-8)
			break
		}
		fmt.Fprintf(&b, "  skipped: %s: file %v, model %v\n", m.Name, m.FileShape, m.Shape)
	}
	if len(r.Missing) > 0 {
		fmt.Fprintf(&b, "  missing: %s\n", groupNames(r.Missing))
	}
	if len(r.Unused) > 0 {
		fmt.Fprintf(&b, "  unused:  %s\n", groupNames(r.Unused))
	}
	return b.String()
}

// groupNames summarises names by their first component: "layer1.* (30), head.* (12)"; a
// group of one shows the name itself.
func groupNames(names []string) string {
	count := map[string]int{}
	first := map[string]string{}
	var order []string
	for _, n := range names {
		k := n
		if i := strings.IndexByte(n, '.'); i >= 0 {
			k = n[:i] + ".*"
		}
		if count[k] == 0 {
			order = append(order, k)
			first[k] = n
		}
		count[k]++
	}
	parts := make([]string, len(order))
	for i, k := range order {
		parts[i] = fmt.Sprintf("%s (%d)", k, count[k])
		if count[k] == 1 {
			parts[i] = first[k]
		}
	}
	return strings.Join(parts, ", ")
}

// listNames shows up to n names and how many more there are.
func listNames(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(" and %d more", len(names)-n)
}
