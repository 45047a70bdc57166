package importer

import (
	"os/exec"

	"google.golang.org/protobuf/proto"
	"path/filepath"
	"testing"
	"time"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/ops"
)

// Full-size torchvision models at opsets 13 and 17, exported by scripts/export_torchvision.py
// (BatchNorm kept)
// into a temporary folder, against onnxruntime in both modes. Needs Debian's python3-torch,
// which is not a CI dependency: without it the test skips, even with SSL4DP_STRICT=1. It
// takes about a minute, so it runs only with SSL4DP_LONG=1 (`just test-long`).
func TestTorchvisionFullSize(t *testing.T) {
	testenv.Long(t, "full-size torchvision exports; the fixtures and graphs/ models cover every op at small sizes")
	if err := exec.Command(testenv.DebianPython, "-c", "import torch, torchvision").Run(); err != nil {
		t.Skipf("%s has no torch/torchvision (not a CI dependency): %v", testenv.DebianPython, err)
	}
	script := filepath.Join(testenv.RepoRoot(t), "scripts", "export_torchvision.py")
	for _, c := range []struct {
		model string
		size  int
		opset string
	}{{"resnet18", 224, "13"}, {"resnet50", 224, "17"}, {"fcn_resnet50", 160, "13"}, {"deeplabv3_resnet50", 129, "17"}} {
		t.Run(c.model, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), c.model+".onnx")
			start := time.Now()
			if out, err := exec.Command(testenv.DebianPython, script, c.model, path, "--size", "64", "--opset", c.opset).CombinedOutput(); err != nil {
				t.Fatalf("export: %v\n%s", err, out)
			}
			exported := time.Since(start)
			mp, err := onnx.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			inf, err := InferenceForm(mp)
			if err != nil {
				t.Fatal(err)
			}
			fs := feeds("input", randFeed(9, 2, 3, c.size, c.size))
			// Freshly initialised torchvision models share their BatchNorm γ=1 / β=0
			// initializers (the exporter merges equal values): irrelevant to a forward check.
			o := Options{AllowTied: true}
			for _, mode := range []struct {
				name  string
				train bool
				ref   *pb.ModelProto
				tol   float64
			}{{"eval", false, inf, 1e-4}, {"train", true, noTrainingDropout(mp), 1e-3}} {
				start := time.Now()
				// Dropout draws different masks here and in onnxruntime: off in both.
				o.Phase, o.NoDropout = &ops.Phase{Training: mode.train}, true
				want := runORT(t, mode.ref, fs)
				mid := time.Since(start)
				got, _ := runImport(t, mp, fs, o)
				for name, w := range want {
					abs, rel := maxRelErr(got[name], w)
					t.Logf("%s %s output %q: max abs %.3g, rel %.3g (export %.1fs, onnxruntime %.1fs, importer %.1fs)",
						c.model, mode.name, name, abs, rel, exported.Seconds(), mid.Seconds(), (time.Since(start) - mid).Seconds())
					if rel > mode.tol {
						t.Errorf("%s: relative error %.3g > %g", mode.name, rel, mode.tol)
					}
				}
			}
		})
	}
}

// noTrainingDropout returns a copy of mp whose Dropout nodes run as the identity in
// onnxruntime (their training_mode input removed) while BatchNorm still trains.
func noTrainingDropout(mp *pb.ModelProto) *pb.ModelProto {
	out := proto.Clone(mp).(*pb.ModelProto)
	for _, n := range out.Graph.Node {
		if n.GetOpType() == "Dropout" {
			n.Input, n.Output = n.Input[:min(len(n.Input), 2)], n.Output[:1]
		}
	}
	return out
}
