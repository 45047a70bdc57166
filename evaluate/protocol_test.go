package evaluate

import (
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/ops"
)

// ResizeBilinear is the same map as ops.Resize2D (linear, half_pixel), which is tested
// against onnxruntime: upsampling, downsampling, odd sizes, a 1-pixel input, one axis only.
func TestResizeBilinearMatchesOps(t *testing.T) {
	cases := []struct{ k, h, w, oh, ow int }{
		{3, 5, 7, 11, 13}, {2, 16, 16, 7, 9}, {1, 1, 1, 3, 4}, {4, 8, 8, 64, 64}, {2, 6, 9, 6, 4}, {1, 33, 17, 33, 17},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range cases {
		src := make([]float32, c.k*c.h*c.w)
		for i := range src {
			src[i] = float32(r.NormFloat64())
		}
		got := ResizeBilinear(src, c.k, c.h, c.w, c.oh, c.ow)
		want := opsResize(t, src, c.k, c.h, c.w, c.oh, c.ow)
		if len(got) != len(want) {
			t.Fatalf("%+v: %d values, ops %d", c, len(got), len(want))
		}
		for i := range got {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-5 {
				t.Fatalf("%+v: value %d is %v, ops.Resize2D %v", c, i, got[i], want[i])
			}
		}
	}
}

func opsResize(t *testing.T, src []float32, k, h, w, oh, ow int) []float32 {
	t.Helper()
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(1, k, h, w), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(1, k, h, w), tensor.WithBacking(append([]float32{}, src...)))))
	y, err := ops.Resize2D(x, oh, ow, ops.Linear, ops.HalfPixel, ops.RoundPreferFloor)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return y.Value().Data().([]float32)
}

func openVal(t *testing.T, spec string) data.Dataset {
	t.Helper()
	ds, err := data.Open(spec, data.Options{Split: "val"})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// oracle answers every image with one-hot logits of its own mask, read in index order, which
// is the order Run promises.
func oracle(t *testing.T, ds data.Dataset, k int, calls *[][]int) Forward {
	next := 0
	return func(images data.Tensor) (data.Tensor, error) {
		*calls = append(*calls, append([]int{}, images.Shape...))
		n, h, w := images.Shape[0], images.Shape[2], images.Shape[3]
		out := data.Tensor{Shape: []int{n, k, h, w}, Data: make([]float32, n*k*h*w)}
		for i := 0; i < n; i++ {
			s, err := ds.Load(next)
			if err != nil {
				return data.Tensor{}, err
			}
			next++
			for p, l := range s.Mask.Pix {
				if int(l) < k {
					out.Data[(i*k+int(l))*h*w+p] = 1
				}
			}
		}
		return out, nil
	}
}

func TestRunOracleIsPerfect(t *testing.T) {
	ds := openVal(t, "synthetic:size=32,val=12,classes=4")
	var calls [][]int
	var visited []int
	res, err := Run(ds, oracle(t, ds, 4, &calls), Options{Batch: 5, Workers: 2, Visit: func(i int, id string, pred []int32, label *data.Mask) error {
		visited = append(visited, i)
		if len(pred) != label.W*label.H {
			return fmt.Errorf("prediction of %d pixels for a %dx%d mask", len(pred), label.W, label.H)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Scores.MIoU != 1 || res.Scores.PixelAcc != 1 || res.Images != 12 {
		t.Fatalf("oracle: mIoU %v, aAcc %v over %d images; want 1, 1, 12", res.Scores.MIoU, res.Scores.PixelAcc, res.Images)
	}
	if want := "[[5 3 32 32] [5 3 32 32] [2 3 32 32]]"; fmt.Sprint(calls) != want {
		t.Fatalf("forward calls %v, want %s (batches of 5 in index order)", calls, want)
	}
	if fmt.Sprint(visited) != "[0 1 2 3 4 5 6 7 8 9 10 11]" {
		t.Fatalf("Visit saw images %v, want 0…11 in order", visited)
	}
}

// A network that answers class c everywhere scores what counting the labels by hand gives:
// IoU_c = n_c/T, 0 for the other labelled classes, undefined for absent ones. With Size the
// forward pass sees resized images, and the scores are still counted on the original masks.
func TestRunConstantPrediction(t *testing.T) {
	const k, c = 5, 2
	ds := openVal(t, "synthetic:size=24,val=7,classes=5")
	counts := make([]int64, k)
	var total int64
	for i := 0; i < ds.Len(); i++ {
		s, err := ds.Load(i)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range s.Mask.Pix {
			if l != data.Ignore {
				counts[l]++
				total++
			}
		}
	}
	defined := 0
	for l := range counts {
		if counts[l] > 0 || l == c {
			defined++
		}
	}
	wantMIoU := float64(counts[c]) / float64(total) / float64(defined)
	for _, size := range []int{0, 16} {
		var shapes [][]int
		fwd := func(images data.Tensor) (data.Tensor, error) {
			shapes = append(shapes, append([]int{}, images.Shape...))
			n, h, w := images.Shape[0], 3, 5 // any logit size: resized to the masks
			out := data.Tensor{Shape: []int{n, k, h, w}, Data: make([]float32, n*k*h*w)}
			for i := 0; i < n; i++ {
				for p := 0; p < h*w; p++ {
					out.Data[(i*k+c)*h*w+p] = 1
				}
			}
			return out, nil
		}
		res, err := Run(ds, fwd, Options{Size: size, Batch: 4})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(res.Scores.MIoU-wantMIoU) > 1e-12 || math.Abs(res.Scores.PixelAcc-float64(counts[c])/float64(total)) > 1e-12 {
			t.Fatalf("size %d: mIoU %v aAcc %v, want %v and %v", size, res.Scores.MIoU, res.Scores.PixelAcc, wantMIoU, float64(counts[c])/float64(total))
		}
		side := 24
		if size > 0 {
			side = size
		}
		if shapes[0][2] != side || shapes[0][3] != side {
			t.Fatalf("size %d: forward saw %v", size, shapes[0])
		}
	}
}

type unlabelled struct{ data.Dataset }

func (unlabelled) Classes() []string     { return nil }
func (unlabelled) Palette() []color.RGBA { return nil }

func TestRunErrors(t *testing.T) {
	ds := openVal(t, "synthetic:size=16,val=3,classes=3")
	logits := func(shape []int, fill float32) Forward {
		return func(images data.Tensor) (data.Tensor, error) {
			s := append([]int{}, shape...)
			if s[0] < 0 {
				s[0] = images.Shape[0]
			}
			n := 1
			for _, d := range s {
				n *= d
			}
			out := data.Tensor{Shape: s, Data: make([]float32, n)}
			for i := range out.Data {
				out.Data[i] = fill
			}
			return out, nil
		}
	}
	cases := []struct {
		name string
		ds   data.Dataset
		fwd  Forward
		o    Options
		want string
	}{
		{"classes", ds, logits([]int{-1, 4, 16, 16}, 0), Options{}, "predicts 4 classes, the dataset has 3"},
		{"rank", ds, logits([]int{-1, 3, 16}, 0), Options{}, "returned shape [1 3 16], want [1,3,h,w]"},
		{"batch", ds, logits([]int{2, 3, 16, 16}, 0), Options{}, "returned shape [2 3 16 16]"},
		{"nan", ds, logits([]int{-1, 3, 4, 4}, float32(math.NaN())), Options{}, "is NaN"},
		{"unlabelled", unlabelled{ds}, logits([]int{-1, 3, 16, 16}, 0), Options{}, "has no labels"},
		{"negative", ds, logits([]int{-1, 3, 16, 16}, 0), Options{Size: -1}, "want values ≥ 0"},
		{"forward", ds, func(data.Tensor) (data.Tensor, error) { return data.Tensor{}, fmt.Errorf("boom") }, Options{}, "forward pass on synthetic/val/0: boom"},
	}
	for _, c := range cases {
		_, err := Run(c.ds, c.fwd, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "evaluate: ") {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
