package features

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/export/modelinfo"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// Options say which encoder runs on which data, and how.
type Options struct {
	Encoder string // the encoder's ONNX file: one image input [N,3,H,W], dense outputs [N,C,h,w]
	Data    string // a labelled dataset spec (data.Open)
	Split   string // the split to run over
	// Output is the encoder output to read (default graphs.Features, the last stage at the
	// output stride; graphs.LowLevel reads layer1 at stride 4).
	Output string
	// Size resizes every image to Size×Size for the encoder (0: whole images at their own
	// size). Masks stay at their original size.
	Size  int
	Batch int // most images per forward pass (0: 8)
	Limit int // only the first Limit images (0: all)
	// Cache is a folder for cached features ("" computes them every time).
	Cache  string
	OrtLib string      // onnxruntime library (see ort.Init); only needed when not cached
	Ort    ort.Options // provider and threads
}

// Image is one image's features and its mask.
type Image struct {
	ID   string
	H, W int       // the feature map's size
	Feat []float32 // [C,H,W]
	Mask data.Mask // the original label image (255: ignore)
}

// Set is one split's features.
type Set struct {
	Encoder string   // the encoder file
	SHA256  string   // its hash (hex)
	Data    string   // the dataset's name (data.Dataset.Name, with the split)
	Classes []string // the dataset's class names, by label
	C       int      // feature channels
	Images  []Image
	Cached  bool // read from Options.Cache, not computed (not stored)
}

func errorf(format string, args ...any) error { return fmt.Errorf("features: "+format, args...) }

// Extract returns the encoder's features over o.Split of o.Data, from the cache when it
// holds them.
func Extract(o Options) (*Set, error) {
	if o.Output == "" {
		o.Output = graphs.Features
	}
	if o.Batch == 0 {
		o.Batch = 8
	}
	if o.Size < 0 || o.Batch < 0 || o.Limit < 0 {
		return nil, errorf("size %d, batch %d, limit %d: want values ≥ 0", o.Size, o.Batch, o.Limit)
	}
	b, err := os.ReadFile(o.Encoder)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &onnx.FormatError{File: o.Encoder, Msg: "no such file; give the encoder ONNX (a pre-training run's encoder.onnx, or ssl4dp graphs --out)"}
	} else if err != nil {
		return nil, errorf("%w", err)
	}
	mp, err := onnx.Decode(b, o.Encoder)
	if err != nil {
		return nil, err
	}
	info, err := modelinfo.Read(mp)
	if err != nil {
		return nil, &onnx.FormatError{File: o.Encoder, Msg: err.Error()}
	}
	mean, std := data.ImageNetMean, data.ImageNetStd
	if len(info.Mean) == 3 && len(info.Std) == 3 {
		for i := range 3 {
			mean[i], std[i] = float32(info.Mean[i]), float32(info.Std[i])
		}
	}
	sum := sha256.Sum256(b)
	hash := hex.EncodeToString(sum[:])
	key := cacheKey(hash, o, mean, std)
	if o.Cache != "" {
		s, err := readCache(o.Cache, key)
		if err != nil {
			return nil, err
		}
		if s != nil {
			s.Encoder, s.Cached = o.Encoder, true
			return s, nil
		}
	}
	ds, err := data.Open(o.Data, data.Options{Split: o.Split})
	if err != nil {
		return nil, err
	}
	if !data.Labelled(ds) {
		return nil, &usageError{fmt.Sprintf("%s has no labels; the dense probes need a segmentation dataset", ds.Name())}
	}
	if err := ort.Init(o.OrtLib); err != nil {
		return nil, errorf("%w", err)
	}
	s, err := run(b, o, ds, mean, std)
	if err != nil {
		return nil, err
	}
	s.Encoder, s.SHA256 = o.Encoder, hash
	if o.Cache != "" {
		if err := writeCache(o.Cache, key, s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// usageError is bad input found before anything runs: CLI exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return "features: " + e.msg }
func (e *usageError) ExitCode() int { return 2 }

// run computes the features with onnxruntime.
func run(model []byte, o Options, ds data.Dataset, mean, std [3]float32) (*Set, error) {
	sess, err := ort.NewSession(model, o.Ort)
	if err != nil {
		return nil, &onnx.FormatError{File: o.Encoder, Msg: oneLine(err)}
	}
	defer sess.Close()
	ins, outs := sess.Inputs(), sess.Outputs()
	if len(ins) != 1 || ins[0].Type != "float32" || (ins[0].Shape != nil && len(ins[0].Shape) != 4) {
		return nil, &onnx.FormatError{File: o.Encoder, Msg: fmt.Sprintf("the model has %d inputs (%v); an encoder has one float image input [N,3,H,W]", len(ins), ins)}
	}
	var names []string
	found := false
	for _, v := range outs {
		names = append(names, v.Name)
		found = found || v.Name == o.Output
	}
	if !found {
		return nil, &onnx.FormatError{File: o.Encoder, Msg: fmt.Sprintf("no output %q (it has %s); give an encoder (encoder.onnx) or choose the output to read", o.Output, strings.Join(names, ", "))}
	}
	if s := ins[0].Shape; s != nil && (s[2] > 0 || s[3] > 0) && (s[2] != s[3] || (o.Size != 0 && int64(o.Size) != s[2])) {
		return nil, &usageError{fmt.Sprintf("%s has a fixed input size %dx%d; give --size %d or re-export it with dynamic H and W", o.Encoder, s[2], s[3], s[2])}
	} else if s != nil && s[2] > 0 {
		o.Size = int(s[2])
	}
	n := ds.Len()
	if o.Limit > 0 {
		n = min(n, o.Limit)
	}
	if n == 0 {
		return nil, &usageError{fmt.Sprintf("%s is empty", ds.Name())}
	}
	task := data.SegEval{W: o.Size, H: o.Size, Mean: mean, Std: std}
	l, err := data.NewLoader(ds, task, data.LoaderConfig{Batch: 1, Epochs: 1})
	if err != nil {
		return nil, errorf("%w", err)
	}
	defer l.Close()
	set := &Set{Data: ds.Name(), Classes: ds.Classes()}
	var pending []*data.Item
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		defer func() { pending = pending[:0] }()
		img := pending[0].Views[0].Image
		per := 3 * img.H * img.W
		x := make([]float32, 0, len(pending)*per)
		for _, it := range pending {
			x = append(x, it.Views[0].Image.Pix...)
		}
		shape := []int64{int64(len(pending)), 3, int64(img.H), int64(img.W)}
		res, err := sess.Run(map[string]ort.Tensor{ins[0].Name: {Shape: shape, Data: x}})
		if err != nil {
			return errorf("%s on %s: %v", o.Encoder, pending[0].ID, err)
		}
		t := res[o.Output]
		f, ok := t.Data.([]float32)
		if !ok || len(t.Shape) != 4 || t.Shape[0] != int64(len(pending)) {
			return &onnx.FormatError{File: o.Encoder, Msg: fmt.Sprintf("output %q is %T of shape %v; want float32 [N,C,h,w]", o.Output, t.Data, t.Shape)}
		}
		c, h, w := int(t.Shape[1]), int(t.Shape[2]), int(t.Shape[3])
		if set.C != 0 && set.C != c {
			return errorf("%s: %d channels for %s, %d before", o.Encoder, c, pending[0].ID, set.C)
		}
		set.C = c
		for i, it := range pending {
			set.Images = append(set.Images, Image{ID: it.ID, H: h, W: w,
				Feat: append([]float32(nil), f[i*c*h*w:(i+1)*c*h*w]...), Mask: *it.Full})
		}
		return nil
	}
	for range n {
		bt, err := l.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errorf("%w", err)
		}
		it := bt.Items[0]
		if it.Full == nil {
			return nil, errorf("%s: image %s has no mask", ds.Name(), it.ID)
		}
		if len(pending) > 0 {
			a, b := pending[0].Views[0].Image, it.Views[0].Image
			if a.W != b.W || a.H != b.H {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
		pending = append(pending, it)
		if len(pending) == o.Batch {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return set, nil
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
