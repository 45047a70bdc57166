package ops

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"
	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

// slowResize is a straight port of the ONNX Resize spec (opset 13) for one output element
// at a time, independent of the interpolation matrices: the coordinate transform, then either
// the two-tap linear blend of the clamped coordinate or nearest rounding and clamping, per
// axis. The spec leaves the precision open. For nearest mode, where the last bit of the
// coordinate can pick a different element, this port evaluates the formulas in float32 with
// scale = float32(out)/float32(in), as onnxruntime does; for linear mode it uses float64 and
// snaps coordinates that are whole or half numbers up to float64 rounding (they are fractions
// with denominator ≤ 2·out), which is what exact arithmetic gives.
func slowResize(shape []int, x []float64, outH, outW int, scaleH, scaleW float64, mode ResizeMode, coord CoordMode, nearest NearestMode) []float64 {
	r := len(shape)
	ih, iw := shape[r-2], shape[r-1]
	orig := func(xr, lenIn, lenOut int, scale float64) float64 {
		if (coord == PytorchHalfPixel || coord == AlignCorners) && lenOut == 1 {
			return 0
		}
		if mode == Nearest {
			s := float32(scale)
			if scale == 0 {
				s = float32(lenOut) / float32(lenIn)
			}
			var v float32
			switch coord {
			case HalfPixel, PytorchHalfPixel:
				v = float32(float32(xr)+0.5)/s - 0.5
			case AlignCorners:
				v = float32(float32(xr)*float32(lenIn-1)) / float32(lenOut-1)
			default:
				v = float32(xr) / s
			}
			return float64(v)
		}
		s := float64(float32(scale)) // ONNX scales are float32
		if scale == 0 {
			s = float64(lenOut) / float64(lenIn)
		}
		var v float64
		switch coord {
		case HalfPixel, PytorchHalfPixel:
			v = (float64(xr)+0.5)/s - 0.5
		case AlignCorners:
			v = float64(xr) * float64(lenIn-1) / float64(lenOut-1)
		default:
			v = float64(xr) / s
		}
		if h := math.Round(2*v) / 2; math.Abs(v-h) < 1e-9 {
			v = h
		}
		return v
	}
	// taps returns the input indices and weights for one axis.
	taps := func(s float64, lenIn int) ([2]int, [2]float64) {
		if mode == Nearest {
			var i float64
			switch nearest {
			case RoundPreferFloor:
				i = math.Ceil(s - 0.5)
			case RoundPreferCeil:
				i = math.Floor(s + 0.5)
			case Floor:
				i = math.Floor(s)
			case Ceil:
				i = math.Ceil(s)
			}
			k := int(math.Min(math.Max(i, 0), float64(lenIn-1)))
			return [2]int{k, k}, [2]float64{1, 0}
		}
		s = math.Min(math.Max(s, 0), float64(lenIn-1))
		lo := math.Floor(s)
		hi := math.Min(lo+1, float64(lenIn-1))
		return [2]int{int(lo), int(hi)}, [2]float64{1 - (s - lo), s - lo}
	}
	planes := volume(shape[:r-2])
	y := make([]float64, planes*outH*outW)
	for p := 0; p < planes; p++ {
		for oy := 0; oy < outH; oy++ {
			hy, wy := taps(orig(oy, ih, outH, scaleH), ih)
			for ox := 0; ox < outW; ox++ {
				hx, wx := taps(orig(ox, iw, outW, scaleW), iw)
				var v float64
				for a := 0; a < 2; a++ {
					for b := 0; b < 2; b++ {
						v += wy[a] * wx[b] * x[(p*ih+hy[a])*iw+hx[b]]
					}
				}
				y[(p*outH+oy)*outW+ox] = v
			}
		}
	}
	return y
}

var resizeSizes = []struct{ in, out [2]int }{
	{[2]int{5, 7}, [2]int{11, 4}},  // up × down, odd sizes
	{[2]int{5, 7}, [2]int{3, 9}},   // down × up
	{[2]int{5, 7}, [2]int{1, 5}},   // a single output row
	{[2]int{5, 7}, [2]int{8, 14}},  // non-integer × integer upscale
	{[2]int{5, 7}, [2]int{1, 1}},   // a single output element
	{[2]int{4, 6}, [2]int{6, 9}},   // half-pixel ties in nearest mode
	{[2]int{1, 4}, [2]int{3, 2}},   // input length 1 (align_corners divides by in-1 = 0)
	{[2]int{6, 4}, [2]int{4, 6}},   // scale 2/3: exact-integer asymmetric coordinates
	{[2]int{3, 3}, [2]int{3, 3}},   // identity
	{[2]int{2, 3}, [2]int{17, 16}}, // large upscale
}

var (
	coordModes   = []CoordMode{HalfPixel, PytorchHalfPixel, AlignCorners, Asymmetric}
	nearestModes = []NearestMode{RoundPreferFloor, RoundPreferCeil, Floor, Ceil}
)

// resizeVariant is one (mode, coord, nearest) combination.
type resizeVariant struct {
	m ResizeMode
	c CoordMode
	n NearestMode
}

// resizeVariants lists every combination the op supports.
func resizeVariants() (v []resizeVariant) {
	for _, c := range coordModes {
		v = append(v, resizeVariant{Linear, c, RoundPreferFloor})
		for _, n := range nearestModes {
			v = append(v, resizeVariant{Nearest, c, n})
		}
	}
	return v
}

func TestResizeMatchesSpec(t *testing.T) {
	for _, sz := range resizeSizes {
		shape := []int{2, 3, sz.in[0], sz.in[1]}
		x := gradcheck.Rand(20, shape)
		for _, v := range resizeVariants() {
			name := fmt.Sprintf("%v %v %v %v→%v", v.m, v.c, v.n, sz.in, sz.out)
			build := bUnary(func(x *G.Node) (*G.Node, error) {
				return Resize2D(x, sz.out[0], sz.out[1], v.m, v.c, v.n)
			})
			s, got := bForward(t, build, x)
			bShape(t, name, s, 2, 3, sz.out[0], sz.out[1])
			want := slowResize(shape, x.Data().([]float64), sz.out[0], sz.out[1], 0, 0, v.m, v.c, v.n)
			bClose(t, name, got, want, 1e-14, 1e-13)
			_, got32 := bForward(t, build, bTo32(x))
			bClose(t, name+" float32", got32, want, 1e-6, 1e-6)
		}
	}
}

// With explicit scales, out = floor(in·scale) and the coordinates use the scale itself.
func TestResizeScalesMatchesSpec(t *testing.T) {
	shape := []int{1, 2, 10, 5}
	x := gradcheck.Rand(21, shape)
	for _, sc := range [][2]float64{{0.6, 0.6}, {2.5, 1.7}, {1.5, 0.5}, {0.7, 1.3}} {
		// in·scale in float32, as onnxruntime forms it: 10 × 0.7f is 7 (float64: 6.99999988).
		outH, outW := int(float32(10)*float32(sc[0])), int(float32(5)*float32(sc[1]))
		for _, v := range resizeVariants() {
			name := fmt.Sprintf("%v %v %v scales %v", v.m, v.c, v.n, sc)
			s, got := bForward(t, bUnary(func(x *G.Node) (*G.Node, error) {
				return ResizeScales(x, sc[0], sc[1], v.m, v.c, v.n)
			}), x)
			bShape(t, name, s, 1, 2, outH, outW)
			bClose(t, name, got, slowResize(shape, x.Data().([]float64), outH, outW, sc[0], sc[1], v.m, v.c, v.n), 1e-14, 1e-13)
		}
	}
}

// When the scales leave the shape unchanged (3 × 1.3 → 3), onnxruntime copies the input
// instead of resampling it by the scale; ResizeScales does the same.
func TestResizeScalesSameSizeIsCopy(t *testing.T) {
	x := gradcheck.Rand(25, []int{1, 2, 3, 4})
	for _, v := range resizeVariants() {
		s, got := bForward(t, bUnary(func(x *G.Node) (*G.Node, error) {
			return ResizeScales(x, 1.3, 1.1, v.m, v.c, v.n)
		}), x)
		bShape(t, "scales 1.3, 1.1 of 3x4", s, 1, 2, 3, 4)
		bClose(t, fmt.Sprintf("%v %v %v", v.m, v.c, v.n), got, x.Data().([]float64), 0, 0)
	}
}

func TestResizeGrad(t *testing.T) {
	x := gradcheck.Rand(22, []int{1, 2, 3, 4})
	for _, out := range [][2]int{{5, 7}, {2, 3}, {1, 6}} { // up, down, single row
		for _, v := range resizeVariants() {
			err := gradcheck.Compare(gradcheck.Options{}, bUnary(func(x *G.Node) (*G.Node, error) {
				return Resize2D(x, out[0], out[1], v.m, v.c, v.n)
			}), x)
			if err != nil {
				t.Errorf("%v %v %v → %v: %v", v.m, v.c, v.n, out, err)
			}
		}
	}
	gradcheck.Check(t, bUnary(func(x *G.Node) (*G.Node, error) {
		return ResizeScales(x, 1.5, 0.6, Linear, HalfPixel, RoundPreferFloor)
	}), x)
}

// Rank 3 and rank 2 inputs resize their last two axes too.
func TestResizeOtherRanks(t *testing.T) {
	for _, shape := range [][]int{{3, 4, 5}, {4, 5}} {
		x := gradcheck.Rand(23, shape)
		s, got := bForward(t, bUnary(func(x *G.Node) (*G.Node, error) {
			return Resize2D(x, 7, 3, Linear, HalfPixel, RoundPreferFloor)
		}), x)
		want := slowResize(shape, x.Data().([]float64), 7, 3, 0, 0, Linear, HalfPixel, RoundPreferFloor)
		bShape(t, "rank "+fmt.Sprint(len(shape)), s, append(append([]int(nil), shape[:len(shape)-2]...), 7, 3)...)
		bClose(t, "rank "+fmt.Sprint(len(shape)), got, want, 1e-14, 1e-13)
	}
}

func TestResizeErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float64, 4, G.WithShape(1, 2, 3, 4), G.WithName("x"))
	v := G.NewVector(g, G.Float64, G.WithShape(3), G.WithName("v"))
	_, err := Resize2D(x, 0, 4, Linear, HalfPixel, RoundPreferFloor)
	bWantErr(t, "zero height", err, "ops: Resize2D", "0x4", "want both >= 1")
	_, err = Resize2D(v, 2, 2, Linear, HalfPixel, RoundPreferFloor)
	bWantErr(t, "rank 1", err, "rank >= 2")
	_, err = Resize2D(x, 2, 2, ResizeMode(7), HalfPixel, RoundPreferFloor)
	bWantErr(t, "mode", err, "unknown mode 7")
	_, err = Resize2D(x, 2, 2, Linear, CoordMode(9), RoundPreferFloor)
	bWantErr(t, "coord", err, "unknown coordinate mode 9")
	_, err = Resize2D(x, 2, 2, Nearest, HalfPixel, NearestMode(-1))
	bWantErr(t, "nearest", err, "unknown nearest mode -1")
	_, err = ResizeScales(x, 0.2, 1, Linear, HalfPixel, RoundPreferFloor)
	bWantErr(t, "scale to nothing", err, "ops: ResizeScales", "3x4 into 0x4")
	_, err = ResizeScales(x, -1, 1, Linear, HalfPixel, RoundPreferFloor)
	bWantErr(t, "negative scale", err, "positive finite")
}

// TestResizeONNXNodeTests runs ONNX's own Resize conformance cases (Debian libonnx-testdata)
// for the modes we support. One case is known to differ: in
// test_resize_downsample_scales_linear_align_corners ONNX 1.12's reference puts in·scale
// (2.4) where the spec and onnxruntime put the output length (2) into align_corners, so it
// expects 3.142857 where onnxruntime (and we) give 4.
func TestResizeONNXNodeTests(t *testing.T) {
	root := testenv.NodeTests(t)
	dirs, err := filepath.Glob(filepath.Join(root, "test_resize_*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no test_resize_* folders in %s (%v)", root, err)
	}
	ran := 0
	for _, dir := range dirs {
		name := filepath.Base(dir)
		m, err := onnx.ReadFile(filepath.Join(dir, "model.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		var n *pb.NodeProto
		for _, nd := range m.Graph.Node {
			if nd.GetOpType() == "Resize" {
				n = nd
			}
		}
		if n == nil || len(m.Graph.Node) != 1 {
			t.Logf("%s: not a single Resize node, skipped", name)
			continue
		}
		mode := onnx.AttrString(n, "mode", "nearest")
		coordName := onnx.AttrString(n, "coordinate_transformation_mode", "half_pixel")
		nearestName := onnx.AttrString(n, "nearest_mode", "round_prefer_floor")
		rm, ok1 := map[string]ResizeMode{"nearest": Nearest, "linear": Linear}[mode]
		cm, ok2 := map[string]CoordMode{"half_pixel": HalfPixel, "pytorch_half_pixel": PytorchHalfPixel, "align_corners": AlignCorners, "asymmetric": Asymmetric}[coordName]
		nm, ok3 := map[string]NearestMode{"round_prefer_floor": RoundPreferFloor, "round_prefer_ceil": RoundPreferCeil, "floor": Floor, "ceil": Ceil}[nearestName]
		if !ok1 || !ok2 || !ok3 {
			t.Logf("%s: %s/%s/%s not supported by Resize2D, skipped", name, mode, coordName, nearestName)
			continue
		}
		inputs := map[string]*pb.TensorProto{}
		for i, vi := range m.Graph.Input {
			inputs[vi.GetName()] = readTensorPB(t, filepath.Join(dir, "test_data_set_0", fmt.Sprintf("input_%d.pb", i)))
		}
		want := readTensorPB(t, filepath.Join(dir, "test_data_set_0", "output_0.pb"))
		x := inputs[n.Input[0]]
		xs := onnx.Shape(x)
		xf, err := onnx.Floats(x)
		if err != nil {
			t.Fatal(err)
		}
		xd := make([]float64, len(xf))
		for i, v := range xf {
			xd[i] = float64(v)
		}
		var build func(x *G.Node) (*G.Node, error)
		switch {
		case len(n.Input) > 3 && n.Input[3] != "":
			sizes, err := onnx.Int64s(inputs[n.Input[3]])
			if err != nil {
				t.Fatal(err)
			}
			build = func(x *G.Node) (*G.Node, error) { return Resize2D(x, int(sizes[2]), int(sizes[3]), rm, cm, nm) }
		default:
			scales, err := onnx.Floats(inputs[n.Input[2]])
			if err != nil {
				t.Fatal(err)
			}
			build = func(x *G.Node) (*G.Node, error) {
				return ResizeScales(x, float64(scales[2]), float64(scales[3]), rm, cm, nm)
			}
		}
		s, got := bForward(t, bUnary(build), bDense(xs, xd))
		wf, err := onnx.Floats(want)
		if err != nil {
			t.Fatal(err)
		}
		wd := make([]float64, len(wf))
		for i, v := range wf {
			wd[i] = float64(v)
		}
		if name == "test_resize_downsample_scales_linear_align_corners" {
			wd = []float64{1, 4} // onnxruntime's value; see the comment above
		}
		bShape(t, name, s, onnx.Shape(want)...)
		bClose(t, name, got, wd, 1e-5, 1e-5)
		ran++
	}
	if ran < 12 {
		t.Errorf("ran %d ONNX Resize node tests, want at least 12 (nearest/linear cases)", ran)
	}
}

func readTensorPB(t *testing.T, path string) *pb.TensorProto {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tp pb.TensorProto
	if err := proto.Unmarshal(data, &tp); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := onnx.CheckTensor(&tp); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &tp
}

// BenchmarkResize2DBilinear is the decoder's typical upsampling step: 8×21×32×32 logits to
// 128×128, float32, forward then backward, through the ops' kernels (no graph overhead).
func BenchmarkResize2DBilinear(b *testing.B) {
	g := G.NewGraph()
	xn := G.NewTensor(g, G.Float32, 4, G.WithShape(8, 21, 32, 32), G.WithName("x"))
	y, err := Resize2D(xn, 128, 128, Linear, HalfPixel, RoundPreferFloor)
	if err != nil {
		b.Fatal(err)
	}
	fwd := y.Op().(resizeOp)
	bwd := resizeDiffOp{f: fwd, buf: new(outBuf)}
	x := bTo32(gradcheck.Rand(1, []int{8, 21, 32, 32}))
	dy := bTo32(gradcheck.Rand(2, []int{8, 21, 128, 128}))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := fwd.Do(x); err != nil {
			b.Fatal(err)
		}
		if _, err := bwd.Do(dy); err != nil {
			b.Fatal(err)
		}
	}
}
