package pretext

import (
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// Extract builds spec with graphs and fills every float initializer from trained by name
// (train classify writes its encoder.onnx with it, as the methods here do).
func Extract(trained *pb.ModelProto, spec graphs.Spec) ([]byte, error) { return extract(trained, spec) }

// RestoreModel loads a checkpoint's model file (data, named file in messages) into m's
// parameters and BatchNorm statistics, as the methods' Restore does.
func RestoreModel(m *importer.Model, data []byte, file string) error {
	return restoreModel(m, data, file)
}
