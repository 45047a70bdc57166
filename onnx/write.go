package onnx

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/ssl4dp/ssl4dp/internal/atomicfile"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// Encode validates and serializes a model (deterministic field order, so the same model
// always gives the same bytes).
func Encode(m *pb.ModelProto) ([]byte, error) {
	if err := Validate(m); err != nil {
		return nil, fmt.Errorf("onnx: refusing to write an invalid model: %w", err)
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

// WriteFile validates m and writes it to path atomically: an interrupted or failed write
// (full disk, killed process) leaves any previous file at path untouched.
func WriteFile(path string, m *pb.ModelProto) error {
	data, err := Encode(m)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("onnx: %w", err)
	}
	return nil
}

// NewModel wraps a graph into a model with IR version 8 and the given default-domain opset.
func NewModel(g *pb.GraphProto, opset int64) (*pb.ModelProto, error) {
	if opset < MinWriteOpset || opset > MaxWriteOpset {
		return nil, fmt.Errorf("onnx: opset %d cannot be written; choose %d–%d", opset, MinWriteOpset, MaxWriteOpset)
	}
	return &pb.ModelProto{
		IrVersion:       ptr(int64(IRVersion)),
		ProducerName:    ptr("ssl4dp"),
		ProducerVersion: ptr(Version),
		OpsetImport:     []*pb.OperatorSetIdProto{{Domain: ptr(""), Version: ptr(opset)}},
		Graph:           g,
	}, nil
}

// Version is ssl4dp's version, written into every model's producer_version. Set at build
// time with -ldflags "-X github.com/ssl4dp/ssl4dp/onnx.Version=...".
var Version = "0.1.0-dev"

// SetMetadata sets (or replaces) a metadata_props entry.
func SetMetadata(m *pb.ModelProto, key, value string) {
	for _, p := range m.MetadataProps {
		if p.GetKey() == key {
			p.Value = ptr(value)
			return
		}
	}
	m.MetadataProps = append(m.MetadataProps, &pb.StringStringEntryProto{Key: ptr(key), Value: ptr(value)})
}

// Metadata returns a metadata_props value and whether it was present.
func Metadata(m *pb.ModelProto, key string) (string, bool) {
	for _, p := range m.MetadataProps {
		if p.GetKey() == key {
			return p.GetValue(), true
		}
	}
	return "", false
}
