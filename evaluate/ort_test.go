package evaluate

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/export"
	"github.com/ssl4dp/ssl4dp/export/modelinfo"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

func initORT(t testing.TB) {
	t.Helper()
	lib := testenv.ORTLibrary(t)
	if err := ort.Init(lib); errors.Is(err, ort.ErrNoCgo) {
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
}

// colourStep is how far apart the classes' red values are in colourDataset's images.
const colourStep = 40

// colourDataset writes a seg:DIR dataset whose images say their labels: every pixel's red
// channel is colourStep × its class (green and blue vary and carry nothing). Images have
// different sizes; some pixels are labelled 255 (ignored, with a red value of another class).
func colourDataset(t testing.TB, k int, sizes [][2]int) string {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"images", "masks", "splits"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var names, ids []string
	for c := 0; c < k; c++ {
		names = append(names, fmt.Sprintf("class%d", c))
	}
	for i, s := range sizes {
		w, h := s[0], s[1]
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		mask := image.NewGray(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c := (x/5 + y/4 + i) % k
				label := uint8(c)
				if (x+y)%11 == 0 {
					label, c = data.Ignore, (c+1)%k
				}
				img.SetRGBA(x, y, color.RGBA{uint8(colourStep * c), uint8(7 * x), uint8(5 * y), 255})
				mask.SetGray(x, y, color.Gray{label})
			}
		}
		id := fmt.Sprintf("img%d", i)
		ids = append(ids, id)
		writePNG(t, filepath.Join(dir, "images", id+".png"), img)
		writePNG(t, filepath.Join(dir, "masks", id+".png"), mask)
	}
	write := func(name string, lines []string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("classes.txt", names)
	write(filepath.Join("splits", "val.txt"), ids)
	return dir
}

func writePNG(t testing.TB, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// colourModel maps a normalised image to logits that single out each pixel's class:
// logit_c = −(red − colourStep·c)², with red recovered from the normalised input by a 1×1
// conv (weight std_R, bias mean_R − colourStep·c). With argmax it ends in ArgMax instead.
func colourModel(t testing.TB, k int, argmax bool) string {
	t.Helper()
	w := make([]float32, k*3)
	b := make([]float32, k)
	for c := 0; c < k; c++ {
		w[c*3] = data.ImageNetStd[0]
		b[c] = data.ImageNetMean[0] - float32(colourStep*c)
	}
	n, h, wd := onnx.Dim{Param: "N"}, onnx.Dim{Param: "H"}, onnx.Dim{Param: "W"}
	g := &pb.GraphProto{
		Name: proto("colour"),
		Node: []*pb.NodeProto{
			onnx.NewNode("Conv", "conv", []string{"input", "w", "b"}, []string{"diff"}),
			onnx.NewNode("Mul", "square", []string{"diff", "diff"}, []string{"sq"}),
			onnx.NewNode("Neg", "neg", []string{"sq"}, []string{"logits"}),
		},
		Initializer: []*pb.TensorProto{onnx.FromFloats("w", []int{k, 3, 1, 1}, w), onnx.FromFloats("b", []int{k}, b)},
		Input:       []*pb.ValueInfoProto{onnx.ValueInfo("input", pb.TensorProto_FLOAT, n, onnx.Dim{Value: 3}, h, wd)},
		Output:      []*pb.ValueInfoProto{onnx.ValueInfo("logits", pb.TensorProto_FLOAT, n, onnx.Dim{Value: int64(k)}, h, wd)},
	}
	if argmax {
		g.Node = append(g.Node, onnx.NewNode("ArgMax", "argmax", []string{"logits"}, []string{"labels"}, onnx.IntAttr("axis", 1), onnx.IntAttr("keepdims", 0)))
		g.Output = []*pb.ValueInfoProto{onnx.ValueInfo("labels", pb.TensorProto_INT64, n, h, wd)}
	}
	m, err := onnx.NewModel(g, 13)
	if err != nil {
		t.Fatal(err)
	}
	if argmax {
		modelinfo.Info{NumClasses: k}.Write(m)
	}
	path := filepath.Join(t.TempDir(), "colour.onnx")
	if err := onnx.WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	return path
}

func proto(s string) *string { return &s }

// A model that reads each pixel's label off its colour scores mIoU 1, on whole images of
// three sizes, batched or not, with logits or with labels (an --argmax model); and the
// overlays show the image, the ground truth and the same prediction in the palette.
func TestPerfectModel(t *testing.T) {
	initORT(t)
	const k = 4
	dir := colourDataset(t, k, [][2]int{{20, 30}, {33, 17}, {25, 25}, {33, 17}, {33, 17}})
	ds, err := data.Open("seg:"+dir, data.Options{Split: "val"})
	if err != nil {
		t.Fatal(err)
	}
	for _, argmax := range []bool{false, true} {
		m, err := OpenModel(colourModel(t, k, argmax), ort.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if m.Argmax != argmax || m.Classes != k {
			t.Fatalf("argmax %v: model says argmax %v, %d classes", argmax, m.Argmax, m.Classes)
		}
		for _, batch := range []int{1, 3} {
			ov, err := NewOverlays(t.TempDir(), ds, 2)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(ds, m.Forward, Options{Batch: batch, Visit: ov.Visit})
			if err != nil {
				t.Fatal(err)
			}
			s := res.Scores
			if s.MIoU != 1 || s.PixelAcc != 1 || s.MeanAcc != 1 || res.Images != 5 {
				t.Errorf("argmax %v batch %d: mIoU %v aAcc %v mAcc %v over %d images, want 1 1 1 over 5", argmax, batch, s.MIoU, s.PixelAcc, s.MeanAcc, res.Images)
			}
			var ignored int64
			for i := 0; i < ds.Len(); i++ {
				smp, _ := ds.Load(i)
				for _, l := range smp.Mask.Pix {
					if l == data.Ignore {
						ignored++
					}
				}
			}
			if want := int64(20*30+3*33*17+25*25) - ignored; s.Pixels != want || ignored == 0 {
				t.Errorf("%d pixels counted, want %d (%d ignored)", s.Pixels, want, ignored)
			}
			checkOverlay(t, ov, ds)
		}
	}
}

// checkOverlay reads the first overlay back: three panels, the ground truth and the
// (perfect) prediction coloured alike, ignored pixels in the ignore colour.
func checkOverlay(t *testing.T, ov *Overlays, ds data.Dataset) {
	t.Helper()
	if len(ov.Files) != 2 || !strings.HasSuffix(ov.Files[0], "0000_img0.png") {
		t.Fatalf("overlays %v", ov.Files)
	}
	f, err := os.Open(ov.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := ds.Load(0)
	w, h := s.Mask.W, s.Mask.H
	if b := img.Bounds(); b.Dx() != 3*w+2*overlayGap || b.Dy() != h {
		t.Fatalf("overlay is %v, want %dx%d", b, 3*w+2*overlayGap, h)
	}
	pal := ds.Palette()
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			l := s.Mask.Pix[y*w+x]
			want := data.IgnoreColour
			if l != data.Ignore {
				want = pal[l]
			}
			gt := color.RGBAModel.Convert(img.At(w+overlayGap+x, y)).(color.RGBA)
			pr := color.RGBAModel.Convert(img.At(2*(w+overlayGap)+x, y)).(color.RGBA)
			r, _, _, _ := img.At(x, y).RGBA()
			if gt != want || (l != data.Ignore && pr != want) || uint8(r>>8) != uint8(s.Image.Pix[y*w+x]) {
				t.Fatalf("overlay pixel (%d,%d): label %d, ground truth %v, prediction %v, want %v", x, y, l, gt, pr, want)
			}
		}
	}
}

// onnxruntime's evaluation of an export equals evaluate.Run with a Gorgonia forward pass of
// the same weights: whole images batched (with a short last batch) and images resized.
func TestORTMatchesGorgonia(t *testing.T) {
	initORT(t)
	spec := graphs.Spec{Encoder: graphs.ResNet18, OutputStride: 16, Width: 0.125, Head: graphs.HeadFCN, Classes: 4, Seed: 5}
	src, err := graphs.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	perturbBN(src)
	ex, err := export.Export(src, export.Options{Dynamic: true, H: 48, W: 48, ORT: ort.Options{Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "seg.onnx")
	if err := onnx.WriteFile(path, ex.Model); err != nil {
		t.Fatal(err)
	}
	m, err := OpenModel(path, ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ds, err := data.Open("synthetic:size=48,val=6,classes=4", data.Options{Split: "val"})
	if err != nil {
		t.Fatal(err)
	}
	gf := gorgoniaForward(t, src)
	for _, o := range []Options{{Batch: 4}, {Batch: 2, Size: 40}} {
		a, err := Run(ds, m.Forward, o)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Run(ds, gf, o)
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(a.Scores.MIoU - b.Scores.MIoU); d > 1e-4 || math.IsNaN(a.Scores.MIoU) {
			t.Errorf("%+v: mIoU onnxruntime %v, Gorgonia %v", o, a.Scores.MIoU, b.Scores.MIoU)
		}
		var differ int64
		for i := range a.Confusion.Counts {
			differ += max(a.Confusion.Counts[i]-b.Confusion.Counts[i], 0)
		}
		predicted := 0
		for c := 0; c < 4; c++ {
			var col int64
			for l := 0; l < 4; l++ {
				col += a.Confusion.At(l, c)
			}
			if col > 0 {
				predicted++
			}
		}
		if predicted < 2 {
			t.Errorf("%+v: the network predicts %d class; the comparison needs varied predictions", o, predicted)
		}
		t.Logf("size %d: mIoU %.6f (onnxruntime) vs %.6f (Gorgonia); %d of %d pixels counted differently; %d classes predicted", o.Size, a.Scores.MIoU, b.Scores.MIoU, differ, a.Scores.Pixels, predicted)
	}
}

// gorgoniaForward runs mp through the importer in evaluation mode, one import per input
// shape.
func gorgoniaForward(t *testing.T, mp *pb.ModelProto) Forward {
	type net struct {
		m  *importer.Model
		vm G.VM
	}
	nets := map[string]net{}
	t.Cleanup(func() {
		for _, n := range nets {
			n.vm.Close()
		}
	})
	return func(images data.Tensor) (data.Tensor, error) {
		key := fmt.Sprint(images.Shape)
		n, ok := nets[key]
		if !ok {
			m, err := importer.Import(mp, importer.Options{InputShapes: map[string][]int{graphs.Input: images.Shape}})
			if err != nil {
				return data.Tensor{}, err
			}
			n = net{m: m, vm: G.NewTapeMachine(m.Graph)}
			nets[key] = n
		}
		in, _ := n.m.Input(graphs.Input)
		if err := G.Let(in, tensor.New(tensor.WithShape(images.Shape...), tensor.WithBacking(append([]float32{}, images.Data...)))); err != nil {
			return data.Tensor{}, err
		}
		n.vm.Reset()
		if err := n.vm.RunAll(); err != nil {
			return data.Tensor{}, err
		}
		out, err := n.m.Output(graphs.Logits)
		if err != nil {
			return data.Tensor{}, err
		}
		return data.Tensor{Shape: out.Shape().Clone(), Data: append([]float32{}, out.Value().Data().([]float32)...)}, nil
	}
}

// perturbBN gives every BatchNorm seeded statistics and affine values, so evaluation mode
// is not the near-identity of freshly initialised ones.
func perturbBN(mp *pb.ModelProto) {
	inits := onnx.Initializers(mp.Graph)
	x := uint32(1)
	next := func() float32 { x = x*1664525 + 1013904223; return float32(x>>8) / (1 << 24) }
	for _, n := range mp.Graph.Node {
		if n.GetOpType() != "BatchNormalization" {
			continue
		}
		for i, rng := range [][2]float32{{}, {0.5, 1.5}, {-0.2, 0.2}, {-0.2, 0.2}, {0.5, 1.5}} {
			t := inits[n.Input[i]]
			if i == 0 || t == nil {
				continue
			}
			v := make([]float32, t.Dims[0])
			for j := range v {
				v[j] = rng[0] + (rng[1]-rng[0])*next()
			}
			onnx.SetInitializer(mp.Graph, onnx.FromFloats(t.GetName(), onnx.Shape(t), v))
		}
	}
}
