package export

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// opsetHistory agrees with ONNX's own schema history (testdata/opset_history.json, made by
// scripts/gen_opset_history.py from Debian's onnx 1.12): each listed op exists at opset 13,
// and its revisions in 14–17 are exactly the listed ones.
func TestOpsetHistoryMatchesONNX(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "opset_history.json"))
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Ops map[string][]int64 `json:"ops"`
	}
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	for op, changes := range opsetHistory {
		versions, ok := golden.Ops[op]
		if !ok {
			t.Errorf("%s is not an ONNX op", op)
			continue
		}
		if versions[0] > 13 {
			t.Errorf("%s first appears in opset %d, after 13", op, versions[0])
		}
		var want, got []int64
		for _, v := range versions {
			if v > 13 && v <= 17 {
				want = append(want, v)
			}
		}
		for _, c := range changes {
			if !slices.Contains(got, c.opset) {
				got = append(got, c.opset)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: table lists revisions %v in 14–17, ONNX has %v", op, got, want)
		}
	}
}

func opsetModel(opset int64, nodes ...*pb.NodeProto) *pb.ModelProto {
	return &pb.ModelProto{IrVersion: ptr(int64(8)), OpsetImport: []*pb.OperatorSetIdProto{{Domain: ptr(""), Version: ptr(opset)}},
		Graph: &pb.GraphProto{Node: nodes}}
}

func TestConvertOpset(t *testing.T) {
	bn := func(attrs ...*pb.AttributeProto) *pb.NodeProto {
		return onnx.NewNode("BatchNormalization", "bn", []string{"x", "g", "b", "m", "v"}, []string{"y"}, attrs...)
	}
	reshape := func(attrs ...*pb.AttributeProto) *pb.NodeProto {
		return onnx.NewNode("Reshape", "r", []string{"x", "s"}, []string{"y"}, attrs...)
	}
	for _, tc := range []struct {
		name     string
		m        *pb.ModelProto
		to       int64
		want     string // error substring; "" for success
		attrsOut int    // attributes left on the first node
	}{
		{"up, attribute-free", opsetModel(13, bn()), 17, "", 0},
		{"down, default training_mode dropped", opsetModel(17, bn(onnx.IntAttr("training_mode", 0))), 13, "", 0},
		{"down, training_mode=1", opsetModel(15, bn(onnx.IntAttr("training_mode", 1))), 13, "sets training_mode, which opset 13 does not have (it came in opset 14)", 0},
		{"down, allowzero=1", opsetModel(14, reshape(onnx.IntAttr("allowzero", 1))), 13, "sets allowzero", 0},
		{"down to 14 keeps allowzero", opsetModel(16, reshape(onnx.IntAttr("allowzero", 1))), 14, "", 1},
		{"down, Shape end", opsetModel(15, onnx.NewNode("Shape", "s", []string{"x"}, []string{"y"}, onnx.IntAttr("end", 2))), 14, "sets end", 0},
		{"unknown op", opsetModel(13, onnx.NewNode("LayerNormalization", "ln", []string{"x"}, []string{"y"}), onnx.NewNode("Einsum", "e", []string{"x"}, []string{"z"})), 17, "ops Einsum, LayerNormalization changed", 0},
		{"same opset, any op", opsetModel(17, onnx.NewNode("LayerNormalization", "ln", []string{"x"}, []string{"y"})), 17, "", 0},
		{"source opset 11", opsetModel(11, bn()), 13, "the model has opset 11", 0},
	} {
		err := convertOpset(tc.m, tc.to)
		if tc.want != "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if v, _ := onnx.Opset(tc.m, ""); v != tc.to {
			t.Errorf("%s: opset %d, want %d", tc.name, v, tc.to)
		}
		if n := len(tc.m.Graph.Node[0].Attribute); n != tc.attrsOut {
			t.Errorf("%s: %d attributes left, want %d", tc.name, n, tc.attrsOut)
		}
	}
}
