package graphs_test

import (
	"fmt"

	"github.com/ssl4dp/ssl4dp/graphs"
)

func ExampleBuild() {
	m, err := graphs.Build(graphs.Spec{Encoder: graphs.ResNet18, Head: graphs.HeadClassifier, Classes: 1000})
	if err != nil {
		panic(err)
	}
	cost, err := graphs.Measure(m, 1, 224, 224)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d parameters, %.2f GFLOPs\n", cost.Params, cost.GFLOPs())
	for _, o := range m.Graph.Output {
		fmt.Println(o.GetName(), cost.Outputs[o.GetName()])
	}
	// Output:
	// 11689512 parameters, 3.63 GFLOPs
	// features [1 512 7 7]
	// low_level [1 64 56 56]
	// class_logits [1 1000]
}

func ExampleBuild_segmentation() {
	m, err := graphs.Build(graphs.Spec{Encoder: graphs.ResNet50, OutputStride: 16, Width: 0.25,
		Head: graphs.HeadFCN, Classes: 21, Outputs: []string{graphs.Logits}})
	if err != nil {
		panic(err)
	}
	cost, err := graphs.Measure(m, 2, 65, 97) // any size: the logits follow the input
	if err != nil {
		panic(err)
	}
	fmt.Println(cost.Outputs[graphs.Logits])
	// Output:
	// [2 21 65 97]
}
