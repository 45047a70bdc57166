package pretext

import (
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/train/seg"
)

// InitReport says what Options.Init loaded: train seg's report, because --init means the
// same in both commands (seg.LoadInit: every float initializer matched by name and shape,
// a common prefix such as "module.encoder_q." stripped when nothing matches as is).
type InitReport = seg.InitReport

// applyInit copies Options.Init's initializers into mp (see InitReport).
func applyInit(mp *pb.ModelProto, o Options) (InitReport, error) {
	from := o.InitFrom
	if from == "" {
		from = "Options.Init"
	}
	r, err := seg.LoadInit(mp, o.Init, from)
	if err != nil {
		return r, &UsageError{Msg: err.Error()}
	}
	return r, nil
}

func isFloat(t *pb.TensorProto) bool {
	switch pb.TensorProto_DataType(t.GetDataType()) {
	case pb.TensorProto_FLOAT, pb.TensorProto_DOUBLE, pb.TensorProto_FLOAT16, pb.TensorProto_BFLOAT16:
		return true
	}
	return false
}
