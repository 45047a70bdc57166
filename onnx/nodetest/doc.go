// Package nodetest loads ONNX's own node conformance tests (Debian's libonnx-testdata:
// /usr/share/libonnx-testdata/data/node/test_*/) and compares computed outputs with the
// expected ones, so that any backend — onnxruntime through onnx/ort, Gorgonia through the
// importer — is checked against the same data.
//
//	cases, err := nodetest.Load(testenv.NodeTests(t), nodetest.CNNOps)
//	for _, c := range cases {
//		if c.Skip != "" { continue }            // see Skips for the reasons
//		for _, set := range c.Sets {
//			// run c.Model on set.In (graph order), then for each output i:
//			err := nodetest.Compare(set.Out[i], shape, values, nodetest.RTol, nodetest.ATol)
//		}
//	}
//
// Models are read with onnx.ReadFile and tensors decoded with ssl4dp's own types, so the
// harness also tests the reader. Errors start with "nodetest: " and name the case and file.
package nodetest
