package modelinfo_test

import (
	"fmt"

	"github.com/ssl4dp/ssl4dp/export/modelinfo"
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

func Example() {
	m := &pb.ModelProto{}
	modelinfo.Info{Method: "seg", Steps: 300, NumClasses: 2, Classes: []string{"background", "person"},
		Mean: []float64{123.675, 116.28, 103.53}, Std: []float64{58.395, 57.12, 57.375}}.Write(m)
	for _, p := range m.MetadataProps {
		fmt.Printf("%s = %s\n", p.GetKey(), p.GetValue())
	}
	info, err := modelinfo.Read(m)
	if err != nil {
		panic(err)
	}
	v, _ := onnx.Metadata(m, modelinfo.KeyNumClasses)
	fmt.Println(info.Classes[1], v)
	// Output:
	// ssl4dp.method = seg
	// ssl4dp.steps = 300
	// ssl4dp.num_classes = 2
	// ssl4dp.classes = ["background","person"]
	// ssl4dp.mean = [123.675,116.28,103.53]
	// ssl4dp.std = [58.395,57.12,57.375]
	// person 2
}
