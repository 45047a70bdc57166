package importer

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/nodetest"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// ONNX's node conformance tests through the importer's forward pass (evaluation mode), for
// every node test whose model uses only ops in the importer's table.
//
// Node tests pass weights, shapes, pads and scales as graph inputs; the importer needs the
// configuration ones at import time. So each data set's inputs are first baked into the
// model as initializers, and those that onnx.Roles then calls parameters (float weights and
// data) become graph inputs again: they stay run-time values, and only configuration is
// folded — as in a real model.

// unsupportedOK lists the forms the importer refuses on purpose (each an *UnsupportedError
// whose message contains the key). Any other refusal fails the test.
var unsupportedOK = map[string]string{
	"only 2-D convolutions":                       "1-D and 3-D convolutions",
	"only 2-D pooling":                            "1-D and 3-D pooling",
	"only 4-D inputs are supported":               "GlobalAveragePool on 3-D/5-D inputs",
	"mode=cubic":                                  "cubic Resize",
	"coordinate_transformation_mode=tf_crop":      "Resize tf_crop_and_resize",
	"coordinate_transformation_mode=tf_half":      "Resize tf_half_pixel_for_nn",
	"coordinate_transformation_mode=half_pixel_s": "Resize half_pixel_symmetric (opset 19)",
	"attribute axes":                              "Resize axes (opset 18)",
	"keep_aspect_ratio_policy":                    "Resize keep_aspect_ratio_policy (opset 18)",
	"attribute antialias":                         "Resize antialias (opset 18)",
	"only the last two axes can be resized":       "Resize of N or C axes",
	"storage_order":                               "MaxPool storage_order=1",
	"Indices output":                              "MaxPool Indices output",
	"mask output":                                 "Dropout mask output",
	"mode=wrap":                                   "Pad wrap (opset 19)",
	"computed at run time":                        "ops folded only on import-time values (e.g. Shape-like ops on data)",
	"selects nothing":                             "empty slices (Gorgonia has no empty tensors)",
	"only float inputs":                           "non-float graph inputs to computed ops",
	"only float, integer and bool":                "string and other tensor types",
	"a cast of a run-time tensor":                 "Cast of computed tensors to integer types",
	"16-bit floats":                               "casts to float16/bfloat16",
	"only float tensors are computed at run time": "integer data through run-time ops (Pad, MaxPool on uint8/int32)",
	"no elements":                                 "empty tensors",
	"running-statistic outputs":                   "BatchNorm's training outputs (running statistics are importer state)",
	"only dilation 1":                             "AveragePool dilations (opset 19)",
	"not one number":                              "Pow with a tensor exponent (folded on import-time values only)",
}

func supportedOps() []string {
	var ops []string
	for op := range opTable {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

func TestNodeConformance(t *testing.T) {
	dir := testenv.NodeTests(t)
	cases, unreadable, err := loadEach(t, dir, supportedOps())
	if err != nil {
		t.Fatal(err)
	}
	var run, passed, folded int
	skipped := map[string][]string{}
	for name, why := range unreadable {
		skipped[why] = append(skipped[why], name)
	}
	for _, c := range cases {
		if c.Skip != "" {
			skipped["nodetest.Skips: "+c.Skip] = append(skipped["nodetest.Skips: "+c.Skip], c.Name)
			continue
		}
		for _, set := range c.Sets {
			run++
			why, err := runNodeTest(c, set, false)
			if strings.Contains(why, "import-time values") {
				// A fold-only op on data: run it again with every input a Constant, which
				// checks the folding evaluator against ONNX's reference.
				why, err = runNodeTest(c, set, true)
				if why == "" && err == nil {
					folded++
				}
			}
			switch {
			case why != "":
				skipped[why] = append(skipped[why], c.Name)
			case err != nil:
				t.Errorf("%s (%s) %s: %v", c.Name, c.Op, set.Name, err)
			default:
				passed++
			}
		}
	}
	nskip := 0
	for why, names := range skipped {
		nskip += len(names)
		t.Logf("skipped %d: %s: %s", len(names), why, strings.Join(names, " "))
	}
	t.Logf("node tests using only supported ops: %d cases, %d data sets run, %d passed (%d of them folded at import), %d skipped", len(cases), run, passed, folded, nskip)
}

// loadEach loads the node tests one folder at a time, so that a case whose data the
// harness cannot decode (optional and sequence types) is reported and skipped instead of
// failing the whole load.
func loadEach(t *testing.T, dir string, ops []string) ([]nodetest.Case, map[string]string, error) {
	dirs, err := filepath.Glob(filepath.Join(dir, "test_*"))
	if err != nil {
		return nil, nil, err
	}
	tmp := t.TempDir()
	var cases []nodetest.Case
	unreadable := map[string]string{}
	for _, d := range dirs {
		link := filepath.Join(tmp, filepath.Base(d))
		if err := os.Symlink(d, link); err != nil {
			return nil, nil, err
		}
		cs, err := nodetest.Load(tmp, ops)
		os.Remove(link)
		if err != nil {
			unreadable[filepath.Base(d)] = "nodetest cannot read the case (non-tensor types)"
			continue
		}
		cases = append(cases, cs...)
	}
	return cases, unreadable, nil
}

// runNodeTest imports one data set's model and compares every output. why is non-empty
// when the importer refuses the case for an accepted reason. With fold, every input becomes
// a Constant node, so the whole model folds at import.
func runNodeTest(c nodetest.Case, set nodetest.DataSet, fold bool) (why string, err error) {
	mp := proto.Clone(c.Model).(*pb.ModelProto)
	g := mp.Graph
	for _, in := range onnx.GraphInputs(g) {
		_, declared := onnx.Dims(in)
		data := set.Inputs[in.GetName()]
		if got := pb.TensorProto_DataType(data.GetDataType()); declared != pb.TensorProto_UNDEFINED && got != declared {
			return fmt.Sprintf("harness: test data of type %v for an input declared %v (old bfloat16 test data)", got, declared), nil
		}
		if _, _, err := nodetest.Decode(data); err != nil {
			return "harness: nodetest cannot decode the input type", nil
		}
	}
	for _, out := range set.Out {
		if _, _, err := nodetest.Decode(out); err != nil {
			return "harness: nodetest cannot decode the output type", nil
		}
	}
	if randomDropout(c.Model.Graph, set) {
		return "harness: Dropout with training_mode=true draws ONNX's reference random mask", nil
	}
	if fold {
		var consts []*pb.NodeProto
		for _, name := range c.Inputs {
			consts = append(consts, onnx.NewNode("Constant", "const_"+name, nil, []string{name}, onnx.TensorAttr("value", set.Inputs[name])))
		}
		g.Node = append(consts, g.Node...)
		g.Input = nil
		return runImported(mp, Options{}, c.Outputs, set, nil)
	}
	for _, name := range c.Inputs {
		g.Initializer = append(g.Initializer, proto.Clone(set.Inputs[name]).(*pb.TensorProto))
		g.Initializer[len(g.Initializer)-1].Name = proto.String(name)
	}
	roles := onnx.Roles(g)
	var inits []*pb.TensorProto
	o := Options{InputShapes: map[string][]int{}, AllowTied: true}
	feedsOf := map[string]*pb.TensorProto{}
	for _, init := range g.Initializer {
		name := init.GetName()
		if _, isInput := set.Inputs[name]; isInput && roles[name] == onnx.Param {
			feedsOf[name] = set.Inputs[name]
			o.InputShapes[name] = onnx.Shape(init)
			if pb.TensorProto_DataType(init.GetDataType()) == pb.TensorProto_DOUBLE {
				o.Dtype = tensor.Float64
			}
			continue
		}
		inits = append(inits, init)
	}
	g.Initializer = inits
	var ins []*pb.ValueInfoProto
	for _, in := range g.Input {
		if _, ok := feedsOf[in.GetName()]; ok {
			ins = append(ins, in)
		}
	}
	g.Input = ins
	return runImported(mp, o, c.Outputs, set, feedsOf)
}

// randomDropout reports a Dropout told to train (training_mode input true) with a nonzero
// ratio: its expected output depends on the reference implementation's random numbers.
func randomDropout(g *pb.GraphProto, set nodetest.DataSet) bool {
	for _, n := range g.Node {
		if n.GetOpType() != "Dropout" || len(n.Input) < 3 {
			continue
		}
		_, mode, err := nodetest.Decode(set.Inputs[n.Input[2]])
		if err != nil {
			return false
		}
		ratio := 0.5
		if n.Input[1] != "" {
			if _, r, err := nodetest.Decode(set.Inputs[n.Input[1]]); err == nil {
				if f, ok := r.([]float32); ok {
					ratio = float64(f[0])
				}
			}
		}
		if b, ok := mode.([]bool); ok && b[0] && ratio > 0 {
			return true
		}
	}
	return false
}

// runImported imports mp, binds the feeds, runs one forward pass and compares the outputs.
func runImported(mp *pb.ModelProto, o Options, outputs []string, set nodetest.DataSet, feedsOf map[string]*pb.TensorProto) (string, error) {
	m, err := Import(mp, o)
	if err != nil {
		var ue *UnsupportedError
		if errors.As(err, &ue) {
			// Longest key first: "only float tensors are computed at run time" also contains
			// "computed at run time", and map order must not decide which reason applies.
			keys := slices.Collect(maps.Keys(unsupportedOK))
			sort.Slice(keys, func(i, j int) bool {
				return len(keys[i]) > len(keys[j]) || len(keys[i]) == len(keys[j]) && keys[i] < keys[j]
			})
			for _, key := range keys {
				if strings.Contains(err.Error(), key) {
					return "unsupported: " + unsupportedOK[key], nil
				}
			}
		}
		return "", err
	}
	for name, tp := range feedsOf {
		n, _ := m.Input(name)
		shape, data, err := nodetest.Decode(tp)
		if err != nil {
			return "", err
		}
		if f, ok := data.([]float32); ok && o.Dtype == tensor.Float64 {
			d := make([]float64, len(f))
			for i, v := range f {
				d[i] = float64(v)
			}
			data = d
		}
		s := make([]int, len(shape))
		for i, d := range shape {
			s[i] = int(d)
		}
		if err := G.Let(n, tensor.New(tensor.WithShape(s...), tensor.WithBacking(data))); err != nil {
			return "", err
		}
	}
	if len(m.Graph.AllNodes()) > 0 { // everything may have been folded
		vm := G.NewTapeMachine(m.Graph)
		defer vm.Close()
		if err := vm.RunAll(); err != nil {
			return "", err
		}
	}
	for i, name := range outputs {
		shape, data, err := outputData(m, name, pb.TensorProto_DataType(set.Out[i].GetDataType()))
		if err != nil {
			return "", err
		}
		if err := nodetest.Compare(set.Out[i], shape, data, nodetest.RTol, nodetest.ATol); err != nil {
			return "", errorf("output %q: %v", name, err)
		}
	}
	return "", nil
}

// outputData returns an output's shape and values in the Go type of the expected tensor.
func outputData(m *Model, name string, want pb.TensorProto_DataType) ([]int64, any, error) {
	v := m.values[name]
	var shape []int
	var f []float64
	switch {
	case v.node != nil:
		shape = v.node.Shape()
		if v.node.IsScalar() {
			shape = nil
		}
		f = Float64s(v.node.Value())
	case v.k != nil:
		shape = v.k.shape
		f = v.k.floats()
	default:
		return nil, nil, errorf("output %q is not computed: %s", name, v.unavailable)
	}
	s := make([]int64, len(shape))
	for i, d := range shape {
		s[i] = int64(d)
	}
	switch want {
	case pb.TensorProto_FLOAT:
		out := make([]float32, len(f))
		for i, x := range f {
			out[i] = float32(x)
		}
		return s, out, nil
	case pb.TensorProto_DOUBLE:
		return s, f, nil
	case pb.TensorProto_INT64:
		out := make([]int64, len(f))
		for i, x := range f {
			out[i] = int64(x)
		}
		return s, out, nil
	case pb.TensorProto_INT32:
		out := make([]int32, len(f))
		for i, x := range f {
			out[i] = int32(x)
		}
		return s, out, nil
	case pb.TensorProto_UINT8:
		out := make([]uint8, len(f))
		for i, x := range f {
			out[i] = uint8(x)
		}
		return s, out, nil
	case pb.TensorProto_BOOL:
		out := make([]bool, len(f))
		for i, x := range f {
			out[i] = x != 0
		}
		return s, out, nil
	}
	return nil, nil, errorf("output %q: expected type %v is not compared here", name, want)
}
