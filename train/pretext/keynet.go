package pretext

import (
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/ops"
)

// keyNet is a momentum network (MoCo's key encoder, BYOL's target): a forward-only import of
// the method's network in its own graph and machine, at a batch of `chunk` images, in
// training mode (its BatchNorms use the statistics of each chunk, as the official code's key
// encoder does on each GPU). Its outputs reach the loss graph as plain values, which also
// stops their gradient.
type keyNet struct {
	m     *importer.Model
	vm    G.VM
	in    *G.Node
	outs  G.Nodes
	chunk int
	per   int       // values per image of the input
	buf   []float32 // one chunk of input
	plan  *ops.MemoryPlan
	dev   *keyDev // on a device (a resident run): its values there, nil on the host
}

func newKeyNet(mp *pb.ModelProto, chunk, size int, names ...string) (*keyNet, error) {
	m, err := importer.Import(mp, importer.Options{
		InputShapes: map[string][]int{graphs.Input: {chunk, 3, size, size}},
		Phase:       &ops.Phase{Training: true},
	})
	if err != nil {
		return nil, errorf("importing the momentum network: %w", err)
	}
	in, err := m.Input(graphs.Input)
	if err != nil {
		return nil, errorf("%w", err)
	}
	outs, err := outputs(m, names...)
	if err != nil {
		return nil, err
	}
	per := 3 * size * size
	k := &keyNet{m: m, vm: G.NewTapeMachine(m.Graph), in: in, outs: outs, chunk: chunk, per: per, buf: make([]float32, chunk*per)}
	if planKeyNets {
		// Forward only: every activation but the outputs is dead once its reader ran, so the
		// plan keeps little more than the widest layer's input and output.
		if k.plan, err = ops.PlanMemory(m.Graph, outs...); err != nil {
			k.vm.Close()
			return nil, errorf("momentum network: %w", err)
		}
	}
	return k, nil
}

// planKeyNets plans the momentum networks' memory (ops.PlanMemory); tests turn it off to
// compare against unplanned runs.
var planKeyNets = true

// encode runs the network on a batch of images [n, 3, S, S] in chunks of the order perm
// (perm[j] is the image at position j; nil keeps the batch order) and returns, for each
// output, its values for all n images in the original order: shuffled in, un-shuffled out.
func (k *keyNet) encode(images []float32, perm []int) ([][]float32, error) {
	n := len(images) / k.per
	if n*k.per != len(images) || n%k.chunk != 0 {
		return nil, errorf("momentum network: %d input values are not a whole number of %d-image chunks of %d values", len(images), k.chunk, k.per)
	}
	if perm == nil {
		perm = identityPerm(n)
	}
	res := make([][]float32, len(k.outs))
	for c := 0; c < n; c += k.chunk {
		for j := 0; j < k.chunk; j++ {
			src := perm[c+j]
			copy(k.buf[j*k.per:(j+1)*k.per], images[src*k.per:(src+1)*k.per])
		}
		if k.dev != nil {
			if err := k.dev.input(k.buf); err != nil {
				return nil, err
			}
		} else if err := bind(k.in, k.buf); err != nil {
			return nil, err
		}
		k.vm.Reset()
		if err := k.vm.RunAll(); err != nil {
			return nil, errorf("momentum network forward: %w", err)
		}
		for i, o := range k.outs {
			v, err := k.output(i, o)
			if err != nil {
				return nil, err
			}
			each := len(v) / k.chunk
			if res[i] == nil {
				res[i] = make([]float32, n*each)
			}
			for j := 0; j < k.chunk; j++ {
				dst := perm[c+j]
				copy(res[i][dst*each:(dst+1)*each], v[j*each:(j+1)*each])
			}
		}
	}
	return res, nil
}

func identityPerm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}

// stepRand is the random source of one step's choices (key shuffles, cells enqueued): a
// function of the seed, the step and what it is for, so a resumed run draws exactly what an
// uninterrupted one would, with no generator state to save.
func stepRand(seed int64, step int, what uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed)^what*0x9e3779b97f4a7c15, uint64(step)))
}

const (
	randShuffle uint64 = 1 + iota
	randCells
)
