package nodetest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// CNNOps are the ops ssl4dp's encoders, heads and pretext heads are built from; the
// conformance tests select the node tests that use nothing else.
var CNNOps = []string{"Conv", "ConvTranspose", "BatchNormalization", "Relu", "MaxPool", "AveragePool",
	"GlobalAveragePool", "Resize", "Concat", "Add", "Mul", "MatMul", "Softmax", "Transpose", "Reshape",
	"Gemm", "Flatten", "ReduceMean", "Pad", "Slice"}

// Case is one node test: a model and its recorded inputs and expected outputs.
type Case struct {
	Name  string // the folder name, e.g. "test_conv_with_strides_padding"
	Dir   string
	Op    string // the op under test; ops joined by "+" when a model has several kinds
	Skip  string // why the case is not run (see Skips), or ""
	Model *pb.ModelProto
	// Inputs and Outputs name the graph's inputs (initializers excluded) and outputs, in
	// graph order: input_i.pb belongs to Inputs[i].
	Inputs, Outputs []string
	Sets            []DataSet
}

// DataSet is one test_data_set_* folder.
type DataSet struct {
	Name            string                     // "test_data_set_0"
	Inputs, Outputs map[string]*pb.TensorProto // by graph name
	In, Out         []*pb.TensorProto          // the same tensors in graph order
}

// Load returns the node tests under dir (the folders test_*) whose models use only ops from
// ops, sorted by name. Cases listed in Skips come back with Skip set (and, when they cannot
// even be read, no Model or Sets). Models are read with onnx.ReadFile and tensors decoded
// with ssl4dp's own types, so a test data file the project cannot read is an error here.
func Load(dir string, ops []string) ([]Case, error) {
	allowed := map[string]bool{}
	for _, op := range ops {
		allowed[op] = true
	}
	dirs, err := filepath.Glob(filepath.Join(dir, "test_*"))
	if err != nil {
		return nil, fmt.Errorf("nodetest: %w", err)
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("nodetest: no test_* folders in %s", dir)
	}
	sort.Strings(dirs)
	var cases []Case
	for _, d := range dirs {
		opList, ok, err := usesOnly(filepath.Join(d, "model.onnx"), allowed)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		c := Case{Name: filepath.Base(d), Dir: d, Op: strings.Join(opList, "+"), Skip: Skips[filepath.Base(d)]}
		if err := c.load(); err != nil {
			if c.Skip != "" {
				cases = append(cases, Case{Name: c.Name, Dir: c.Dir, Op: c.Op, Skip: c.Skip})
				continue
			}
			return nil, err
		}
		cases = append(cases, c)
	}
	return cases, nil
}

// usesOnly reports the model's op types (sorted, distinct) and whether all of them, in the
// default domain, are allowed. It parses without validation: the filter must see models the
// strict reader refuses, so that refusing one of the selected cases is reported, not hidden.
func usesOnly(path string, allowed map[string]bool) ([]string, bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("nodetest: %w", err)
	}
	var m pb.ModelProto
	if err := proto.Unmarshal(data, &m); err != nil {
		return nil, false, fmt.Errorf("nodetest: %s: %v", path, err)
	}
	seen := map[string]bool{}
	ok := len(m.GetGraph().GetNode()) > 0
	for _, n := range m.GetGraph().GetNode() {
		if d := n.GetDomain(); (d != "" && d != "ai.onnx") || !allowed[n.GetOpType()] {
			ok = false
		}
		seen[n.GetOpType()] = true
	}
	var list []string
	for op := range seen {
		list = append(list, op)
	}
	sort.Strings(list)
	return list, ok, nil
}

func (c *Case) load() error {
	m, err := onnx.ReadFile(filepath.Join(c.Dir, "model.onnx"))
	if err != nil {
		return fmt.Errorf("nodetest: %s: %w", c.Name, err)
	}
	c.Model = m
	for _, v := range onnx.GraphInputs(m.Graph) {
		c.Inputs = append(c.Inputs, v.GetName())
	}
	for _, v := range m.Graph.Output {
		c.Outputs = append(c.Outputs, v.GetName())
	}
	sets, _ := filepath.Glob(filepath.Join(c.Dir, "test_data_set_*"))
	sort.Strings(sets)
	if len(sets) == 0 {
		return fmt.Errorf("nodetest: %s: no test_data_set_* folder", c.Name)
	}
	for _, s := range sets {
		ds := DataSet{Name: filepath.Base(s)}
		var err error
		if ds.Inputs, ds.In, err = readTensors(s, "input", c.Inputs); err != nil {
			return fmt.Errorf("nodetest: %s: %w", c.Name, err)
		}
		if ds.Outputs, ds.Out, err = readTensors(s, "output", c.Outputs); err != nil {
			return fmt.Errorf("nodetest: %s: %w", c.Name, err)
		}
		c.Sets = append(c.Sets, ds)
	}
	return nil
}

// readTensors reads kind_0.pb, kind_1.pb, … and names them after the graph's values.
func readTensors(dir, kind string, names []string) (map[string]*pb.TensorProto, []*pb.TensorProto, error) {
	files, _ := filepath.Glob(filepath.Join(dir, kind+"_*.pb"))
	if len(files) != len(names) {
		return nil, nil, fmt.Errorf("%s has %d %s files, the graph has %d %ss (%s)", filepath.Base(dir), len(files), kind, len(names), kind, strings.Join(names, ", "))
	}
	byName := make(map[string]*pb.TensorProto, len(names))
	ordered := make([]*pb.TensorProto, len(names))
	for i, name := range names {
		path := filepath.Join(dir, fmt.Sprintf("%s_%d.pb", kind, i))
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, err
		}
		t := &pb.TensorProto{}
		if err := proto.Unmarshal(data, t); err != nil {
			return nil, nil, fmt.Errorf("%s: not a TensorProto: %v", path, err)
		}
		if err := onnx.CheckTensor(t); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		byName[name] = t
		ordered[i] = t
	}
	return byName, ordered, nil
}
