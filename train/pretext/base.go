package pretext

import (
	"slices"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/train"
)

// The files a method's Checkpoint and Outputs hold.
const (
	ModelFile      = "model.onnx"      // the trained (online/query) network, all heads included
	KeyFile        = "key.onnx"        // the momentum network (MoCo's key encoder, BYOL's target)
	QueueFile      = "queue.bin"       // MoCo's queue of negative keys
	DenseQueueFile = "dense_queue.bin" // PLMoCo's queue of negative key cells
	EncoderFile    = "encoder.onnx"    // the trained encoder alone: input → features, low_level
	DecoderFile    = "decoder.onnx"    // encoder + decoder (encoder-decoder methods): input → decoder_features
)

// HeadPrefixes are the initializer-name prefixes of everything that is not the encoder: the
// engine's --encoder-lr-mult applies to the other parameters.
var HeadPrefixes = []string{"head.", "projector.", "predictor.", "dense_projector.", "rotation.", "ppm."}

// base is what every method shares: its name, options and data task, the online network
// (the one the optimizer trains) and its loss.
type base struct {
	method string
	opts   Options
	task   data.Task
	mp     *pb.ModelProto // the online network as built, Init applied
	online *importer.Model
	loss   *G.Node
	parts  map[string]*G.Node
	report InitReport
	batch  int
	// inlineKeys: the momentum network's pass runs inside Bind (a device run: OnDevice).
	inlineKeys bool
	res        train.Resident // a resident device run (UseDevice), else nil
	moms       []*momentumNet // the momentum networks newMomentumNet made
}

// newBase checks the options and builds the method's network (pretext heads pt, outputs
// outs) with Options.Init applied, so that bad input and a file that does not fit show up
// before training starts.
func newBase(method string, o Options, decoder bool, task data.Task, pt graphs.Pretext, outs ...string) (base, error) {
	o.Net = o.Net.withDefaults(decoder)
	if err := o.check(); err != nil {
		return base{}, inMethod(method, err)
	}
	mp, r, err := buildModel(o, pt, outs...)
	if err != nil {
		return base{}, inMethod(method, err)
	}
	return base{method: method, opts: o, task: task, mp: mp, report: r, parts: map[string]*G.Node{}}, nil
}

// Name is the method ("moco", "plmoco", …).
func (b *base) Name() string { return b.method }

// DataTask is how a sample becomes a batch item for this method.
func (b *base) DataTask() data.Task { return b.task }

// Graph is the training graph (nil before Build).
func (b *base) Graph() *G.ExprGraph {
	if b.online == nil {
		return nil
	}
	return b.online.Graph
}

// Loss is the scalar to minimise; Parts its named components (when it has several).
func (b *base) Loss() *G.Node             { return b.loss }
func (b *base) Parts() map[string]*G.Node { return b.parts }

// Learnables are the online network's parameters, by ONNX name.
func (b *base) Learnables() []importer.Param {
	if b.online == nil {
		return nil
	}
	var ps []importer.Param
	for _, p := range b.online.Params() {
		if !p.Frozen {
			ps = append(ps, p)
		}
	}
	return ps
}

// HeadPrefixes are the parameter-name prefixes outside the encoder (train.HeadPrefixer):
// --encoder-lr-mult slows every other parameter.
func (b *base) HeadPrefixes() []string { return append([]string(nil), HeadPrefixes...) }

// Options returns the options with defaults filled in (the network the method trains).
func (b *base) Options() Options { return b.opts }

// InitReport says what Options.Init loaded.
func (b *base) InitReport() InitReport { return b.report }

// buildOnline imports the online network at batch importN for data batches of n items
// (SimCLR imports both views as one batch of 2n) and returns its ONNX model.
func (b *base) buildOnline(n, importN int) (*pb.ModelProto, error) {
	if n < 1 {
		return nil, usagef("%s: batch %d, want ≥ 1", b.method, n)
	}
	if b.online != nil {
		return nil, errorf("%s: Build called twice", b.method)
	}
	var err error
	if b.online, err = importTrained(b.mp, importN, b.opts.Size); err != nil {
		return nil, err
	}
	b.batch = n
	return b.mp, nil
}

// view checks that a batch carries view i as [n, 3, Size, Size] and returns its values.
func (b *base) view(bt *data.Batch, i int) ([]float32, error) {
	if bt == nil || i >= len(bt.Views) {
		got := 0
		if bt != nil {
			got = len(bt.Views)
		}
		return nil, errorf("%s: batch has %d views, want at least %d", b.method, got, i+1)
	}
	v := bt.Views[i]
	want := []int{b.batch, 3, b.opts.Size, b.opts.Size}
	if len(v.Shape) != 4 || v.Shape[0] != want[0] || v.Shape[1] != 3 || v.Shape[2] != want[2] || v.Shape[3] != want[3] || len(v.Data) != b.batch*3*b.opts.Size*b.opts.Size {
		return nil, errorf("%s: view %d has shape %v, want %v (the batch and view size the task was built for)", b.method, i, v.Shape, want)
	}
	return v.Data, nil
}

// bindInput binds values to the online network's image input.
func (b *base) bindInput(m *importer.Model, values []float32) error {
	in, err := m.Input(graphs.Input)
	if err != nil {
		return errorf("%w", err)
	}
	return bind(in, values)
}

// checkpointOnline adds model.onnx to files.
func (b *base) checkpointOnline(files map[string][]byte) error {
	if b.online == nil {
		return errorf("%s: Checkpoint before Build", b.method)
	}
	var err error
	files[ModelFile], err = encodeModel(b.online)
	return err
}

// restoreOnline loads model.onnx.
func (b *base) restoreOnline(files map[string][]byte) error {
	if b.online == nil {
		return errorf("%s: Restore before Build", b.method)
	}
	return restoreModel(b.online, files[ModelFile], ModelFile)
}

// savedQueue is a queue of negative keys and the checkpoint file it is saved as.
type savedQueue struct {
	file  string
	queue *Queue // nil: the run has no such queue (PLMoCo's global one when λ = 0)
}

// checkpointMomentum is the checkpoint of a method with a momentum network (MoCo, PLMoCo and
// their encoder-decoder variants, BYOL): the online network, the momentum network (key.onnx)
// and the queues that are not nil, each under its file name. A resumed run must continue
// exactly as an uninterrupted one, so everything a step reads besides the optimizer is here;
// restoreMomentum reads the same list back.
func (b *base) checkpointMomentum(key *keyNet, queues ...savedQueue) (map[string][]byte, error) {
	files := map[string][]byte{}
	if err := b.checkpointOnline(files); err != nil {
		return nil, err
	}
	if err := key.onHost(); err != nil {
		return nil, err
	}
	var err error
	if files[KeyFile], err = encodeModel(key.m); err != nil {
		return nil, err
	}
	for _, q := range queues {
		if q.queue == nil {
			continue
		}
		if files[q.file], err = q.queue.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// restoreMomentum loads what checkpointMomentum wrote, given the same key network and queues;
// a file missing from the checkpoint is an error.
func (b *base) restoreMomentum(files map[string][]byte, key *keyNet, queues ...savedQueue) error {
	if err := b.restoreOnline(files); err != nil {
		return err
	}
	if err := key.onHost(); err != nil {
		return err
	}
	if err := restoreModel(key.m, files[KeyFile], KeyFile); err != nil {
		return err
	}
	key.restored()
	for _, q := range queues {
		if q.queue == nil {
			continue
		}
		data, ok := files[q.file]
		if !ok {
			return errorf("restore: the checkpoint has no %s", q.file)
		}
		if err := q.queue.UnmarshalBinary(data); err != nil {
			return err
		}
	}
	return nil
}

// Outputs are model.onnx (the whole trained network), encoder.onnx and, for the
// encoder-decoder methods, decoder.onnx: graphs' encoder (and head) with the trained values
// copied by name, ready for `train seg --init`.
func (b *base) Outputs() (map[string][]byte, error) {
	if b.online == nil {
		return nil, errorf("%s: Outputs before Build", b.method)
	}
	trained, err := b.online.WriteBack()
	if err != nil {
		return nil, errorf("%w", err)
	}
	files := map[string][]byte{}
	if files[ModelFile], err = onnx.Encode(trained); err != nil {
		return nil, errorf("%w", err)
	}
	n := b.opts.Net
	enc := n
	enc.Head, enc.DecoderWidth = graphs.HeadNone, 0
	if files[EncoderFile], err = extract(trained, enc.spec(graphs.Pretext{}, b.opts.Seed, graphs.Features, graphs.LowLevel)); err != nil {
		return nil, err
	}
	if n.DecoderWidth > 0 {
		if files[DecoderFile], err = extract(trained, n.spec(graphs.Pretext{}, b.opts.Seed, graphs.DecoderFeatures)); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// extract builds spec with graphs and fills every initializer from trained by name.
func extract(trained *pb.ModelProto, spec graphs.Spec) ([]byte, error) {
	mp, err := graphs.Build(spec)
	if err != nil {
		return nil, errorf("%w", err)
	}
	src := onnx.Initializers(trained.Graph)
	for _, t := range mp.Graph.Initializer {
		if !isFloat(t) {
			continue
		}
		s, ok := src[t.GetName()]
		if !ok {
			return nil, errorf("extracting %s: the trained network has no %q", spec.Outputs, t.GetName())
		}
		if !slices.Equal(onnx.Shape(s), onnx.Shape(t)) {
			return nil, errorf("extracting %s: %q is %v in the trained network, %v in graphs' model", spec.Outputs, t.GetName(), onnx.Shape(s), onnx.Shape(t))
		}
		onnx.SetInitializer(mp.Graph, s)
	}
	b, err := onnx.Encode(mp)
	if err != nil {
		return nil, errorf("%w", err)
	}
	return b, nil
}
