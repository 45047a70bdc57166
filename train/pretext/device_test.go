//go:build cgo

package pretext

import (
	"math"
	"os"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/ops"
	"github.com/ssl4dp/ssl4dp/ops/device"
)

// devicePass builds method's task, binds one batch and runs one forward+backward pass on the
// CPU (e nil) or on a device; it returns the loss and every learnable's gradient.
func devicePass(t *testing.T, method string, e *device.Engine) (float64, map[string][]float32) {
	t.Helper()
	c, err := Defaults(method, CPU)
	if err != nil {
		t.Fatal(err)
	}
	switch cc := c.(type) {
	case *MoCoConfig:
		cc.Queue = 16
	case *PLMoCoConfig:
		cc.DenseQueue = 32
	case *BYOLConfig:
		cc.Dim, cc.Hidden, cc.PredictorHidden = 16, 32, 32
	case *SimSiamConfig:
		cc.Dim = 32
	case *PLRConfig:
		cc.Grid = 2
	}
	const size, batch = 32, 4
	o := Options{Net: Net{Encoder: graphs.ResNet18, Width: 0.0625, DecoderWidth: 16}, Size: size, Seed: 1, Steps: 10}
	o.Views = quietViews(method, size)
	task, err := New(method, o, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Build(batch); err != nil {
		t.Fatal(err)
	}
	var nodes G.Nodes
	learn := task.Learnables()
	for _, p := range learn {
		nodes = append(nodes, p.Node)
	}
	grads, err := G.Grad(task.Loss(), nodes...)
	if err != nil {
		t.Fatal(err)
	}
	b := batches(t, task, batch, 1)[0]
	if err := task.Bind(b, 0); err != nil {
		t.Fatal(err)
	}
	var opts []G.VMOpt
	if e != nil {
		if err := ops.ToDevice(task.Graph(), e, ops.BNStates(task.Graph())...); err != nil {
			t.Fatal(err)
		}
		opts = append(opts, G.WithEngine(e))
	}
	vm := G.NewTapeMachine(task.Graph(), opts...)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	out := map[string][]float32{}
	for i, p := range learn {
		d := grads[i].Value().(*tensor.Dense)
		if device.Of(d) != nil {
			if d, err = device.Download(d); err != nil {
				t.Fatal(err)
			}
		}
		out[p.Name] = append([]float32(nil), d.Data().([]float32)[:d.Shape().TotalSize()]...)
	}
	var loss float64
	switch v := task.Loss().Value().(type) {
	case *G.F32:
		loss = float64(float32(*v))
	default:
		t.Fatalf("%s: loss is a %T, want a host scalar", method, v)
	}
	return loss, out
}

// TestEachMethodStepOnEmulatedDevice: one pass of every pretext method's training graph
// (encoder, heads, losses; the momentum network's keys computed on the host and copied in
// as a batch) on the emulated device gives the CPU's loss and every gradient.
//
// Tolerances: the loss to 1e-5 of max(|loss|, 1) (SimSiam's is a cosine near 0); each
// gradient within 3e-4 of its largest magnitude, or of 1% of the model's largest gradient
// where that is larger. The batched convolution and the kernels' double trees sum in other
// orders than the CPU, and BatchNorm over the batch of 4 in the projectors divides those
// differences by small standard deviations (seen: SimSiam's 1.2e-4); the gradient of a bias
// just before a BatchNorm is 0 in exact arithmetic, rounding noise (~1e-7) on both sides.
//
// With SSL4DP_TEST_DEVICE=cuda (scripts/gpu_check.sh, on a lent GPU) the device is GPU 0
// instead and the bounds are the GPU check's: the loss and every gradient within 1e-3 of
// scale (cuBLAS's GEMMs sum in orders of their own).
func TestEachMethodStepOnEmulatedDevice(t *testing.T) {
	// The key pass runs inside Bind, before the graph's inputs move to the device: the
	// momentum network and its EMA stay on the host (they are not on the device yet).
	inlineKeyPasses(t)
	methods := Methods
	if testing.Short() {
		// -short: one of each kind (a queue and momentum network, a dense matching with the
		// −1 ignore, a host-side match) instead of all eleven (about 45 s).
		methods = []string{"moco", "plmoco", "densecl"}
	}
	for _, method := range methods {
		t.Run(method, func(t *testing.T) {
			wantL, want := devicePass(t, method, nil)
			lossTol, gradTol := 1e-5, 3e-4
			var d device.Device
			emu := device.NewEmulated()
			d = emu
			if os.Getenv("SSL4DP_TEST_DEVICE") == "cuda" {
				c, err := device.NewCUDA(0)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				d, emu, lossTol, gradTol = c, nil, 1e-3, 1e-3
			}
			gotL, got := devicePass(t, method, device.NewEngine(d))
			if emu != nil && emu.Launches == 0 {
				t.Fatal("nothing ran on the device")
			}
			if math.Abs(gotL-wantL) > lossTol*max(math.Abs(wantL), 1) {
				t.Errorf("loss %v on the device, %v on the CPU", gotL, wantL)
			}
			global := 0.0
			for _, w := range want {
				for _, v := range w {
					global = max(global, math.Abs(float64(v)))
				}
			}
			worst := 0.0
			for name, w := range want {
				g := got[name]
				var diff, scale float64
				for i := range w {
					diff = max(diff, math.Abs(float64(g[i])-float64(w[i])))
					scale = max(scale, math.Abs(float64(w[i])))
				}
				rel := diff / max(scale, 0.01*global, 1e-30)
				worst = max(worst, rel)
				if rel > gradTol || math.IsNaN(rel) {
					t.Errorf("%s: max |device − CPU| = %.3g, %.3g of its scale %.3g", name, diff, rel, scale)
				}
			}
			t.Logf("%s: loss %v (CPU %v); %d gradients, worst %.3g of scale", d.Name(), gotL, wantL, len(want), worst)
		})
	}
}
