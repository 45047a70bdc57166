package onnx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"google.golang.org/protobuf/proto"

	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// IR versions and default-domain opsets this package reads. onnxruntime 1.30 reads the same
// range; we write IRVersion and an opset in [MinWriteOpset, MaxWriteOpset].
const (
	MinIRVersion  = 3
	MaxIRVersion  = 11
	MinOpset      = 1
	MaxOpset      = 23
	IRVersion     = 8
	MinWriteOpset = 13
	MaxWriteOpset = 17
)

// ReadFile loads and validates the model in path.
func ReadFile(path string) (*pb.ModelProto, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, formatErr(path, "no such file")
		}
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return Decode(data, path)
}

// Decode parses and validates a serialized model; name is used in error messages.
func Decode(data []byte, name string) (*pb.ModelProto, error) {
	if len(data) == 0 {
		return nil, formatErr(name, "file is empty")
	}
	m := &pb.ModelProto{}
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, formatErr(name, "not an ONNX model, or truncated (protobuf: %v)", err)
	}
	if err := Validate(m); err != nil {
		var fe *FormatError
		if errors.As(err, &fe) && fe.File == "" {
			fe.File = name
		}
		return nil, err
	}
	return m, nil
}

// Validate checks what the rest of ssl4dp relies on: a graph, a known IR version and opset,
// well-formed nodes, and initializers whose stored data agrees with their shape.
func Validate(m *pb.ModelProto) error {
	if m.IrVersion == nil && m.Graph == nil {
		return formatErr("", "not an ONNX model (no ir_version and no graph)")
	}
	ir := m.GetIrVersion()
	if ir < MinIRVersion || ir > MaxIRVersion {
		return formatErr("", "IR version %d is not supported (this build reads %d–%d); re-export the model with a current exporter", ir, MinIRVersion, MaxIRVersion)
	}
	if m.Graph == nil {
		return formatErr("", "model has no graph")
	}
	op, err := Opset(m, "")
	if err != nil {
		return err
	}
	if op < MinOpset || op > MaxOpset {
		return formatErr("", "default-domain opset %d is not supported (this build reads %d–%d); re-export with opset 13–17", op, MinOpset, MaxOpset)
	}
	return validateGraph(m.Graph)
}

func validateGraph(g *pb.GraphProto) error {
	for i, n := range g.Node {
		if n.GetOpType() == "" {
			return formatErr("", "node %d (%q) has no op_type", i, n.GetName())
		}
	}
	for _, t := range g.Initializer {
		if err := checkTensor(t); err != nil {
			return err
		}
	}
	return nil
}

// Opset returns the model's opset version for domain ("" or "ai.onnx" is the default domain).
func Opset(m *pb.ModelProto, domain string) (int64, error) {
	for _, o := range m.OpsetImport {
		d := o.GetDomain()
		if d == domain || (domain == "" && d == "ai.onnx") {
			return o.GetVersion(), nil
		}
	}
	if domain == "" {
		return 0, formatErr("", "model imports no default-domain opset")
	}
	return 0, formatErr("", "model imports no opset for domain %q", domain)
}
