package modelinfo

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

func TestRoundTrip(t *testing.T) {
	in := Info{Version: "1.2.3", Source: "runs/a", Output: "seg", Argmax: true, Method: "plmoco", Steps: 300, Epochs: 1.5,
		Seed: math.MaxUint64, Data: "voc:/data/VOC2012", NumClasses: 2, Classes: []string{"background", "person"},
		Mean: []float64{1, 2, 3}, Std: []float64{4, 5, 6}, Metrics: map[string]float64{"miou": 0.5, "undefined": math.NaN()}}
	m := &pb.ModelProto{}
	in.Write(m)
	got, err := Read(m)
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.Metrics = map[string]float64{"miou": 0.5} // NaN has no JSON form: left out
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back %+v\nwant %+v", got, want)
	}
	if v, _ := onnx.Metadata(m, KeyClasses); v != `["background","person"]` {
		t.Errorf("%s = %s", KeyClasses, v)
	}
	empty, err := Read(&pb.ModelProto{})
	if err != nil || !reflect.DeepEqual(empty, Info{}) {
		t.Errorf("no metadata: %+v, %v", empty, err)
	}
	(Info{}).Write(m) // zero fields leave existing keys alone
	if again, _ := Read(m); !reflect.DeepEqual(again, want) {
		t.Errorf("a zero Info changed the metadata: %+v", again)
	}
}

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct{ key, value, want string }{
		{KeySteps, "-3", "ssl4dp.steps = \"-3\": want a non-negative integer"},
		{KeyNumClasses, "x", "ssl4dp.num_classes"},
		{KeyArgmax, "maybe", "want true or false"},
		{KeyEpochs, "NaN?", "want a non-negative number"},
		{KeySeed, "-1", "want a non-negative integer"},
		{KeyClasses, "background", "a JSON list of class names"},
		{KeyMean, "[1,2]", "a JSON list of 3 numbers"},
		{KeyStd, "[1,0,1]", "channel 1 has std 0"},
		{KeyMetrics, "[]", "a JSON object of numbers"},
	} {
		m := &pb.ModelProto{}
		onnx.SetMetadata(m, tc.key, tc.value)
		if _, err := Read(m); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "modelinfo: ") {
			t.Errorf("%s=%s: %v, want %q", tc.key, tc.value, err, tc.want)
		}
	}
	m := &pb.ModelProto{}
	Info{NumClasses: 3, Classes: []string{"a", "b"}}.Write(m)
	if _, err := Read(m); err == nil || !strings.Contains(err.Error(), "2 class names") {
		t.Errorf("2 names for 3 classes: %v", err)
	}
}
