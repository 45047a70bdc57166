package pretext

import (
	"math"

	"github.com/ssl4dp/ssl4dp/onnx/importer"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/train"
)

// momentumNet is MoCo's key encoder with its EMA and Shuffle BN emulation: a keyNet at
// batch n/chunks that follows the online network.
type momentumNet struct {
	key    *keyNet
	ema    *EMA
	chunks int
	seed   int64
	res    train.Resident // a resident device run (base.UseDevice), else nil
}

// newMomentumNet imports mp as the key network for batches of n images in `chunks` shuffled
// chunks and starts it as a copy of online (facebookresearch/moco: param_k.copy_(param_q)).
func (b *base) newMomentumNet(mp *pb.ModelProto, online *importer.Model, n, chunks, size int, seed int64, outs ...string) (*momentumNet, error) {
	if n%chunks != 0 || n/chunks < 2 {
		return nil, usagef("batch %d does not split into %d key chunks of at least 2 images each (Shuffle BN emulation); choose a batch that is a multiple of 2×%d, or fewer key chunks", n, chunks, chunks)
	}
	key, err := newKeyNet(mp, n/chunks, size, outs...)
	if err != nil {
		return nil, err
	}
	ema, err := NewEMA(key.m, online)
	if err != nil {
		return nil, err
	}
	if err := ema.Copy(); err != nil {
		return nil, err
	}
	mn := &momentumNet{key: key, ema: ema, chunks: chunks, seed: seed}
	b.moms = append(b.moms, mn)
	return mn, nil
}

// network is the key network, nil before Build: Checkpoint and Restore called too early then
// report the missing Build instead of dereferencing nil.
func (mn *momentumNet) network() *keyNet {
	if mn == nil {
		return nil
	}
	return mn.key
}

// encode first moves the key network towards the online one (m, before the key forward, as
// the official code does it), then encodes images in a fresh random order split into chunks,
// and returns the outputs in the batch's order. Each chunk gets its own BatchNorm statistics,
// so a query and its key never share them — what Shuffle BN achieves across GPUs.
func (mn *momentumNet) encode(images []float32, step int, m float64) ([][]float32, error) {
	if mn.res != nil {
		if err := mn.key.toDevice(mn.res.Engine()); err != nil {
			return nil, err
		}
		if err := mn.ema.updateOn(mn.res, m); err != nil {
			return nil, err
		}
	} else if err := mn.ema.Update(m); err != nil {
		return nil, err
	}
	n := len(images) / mn.key.per
	var perm []int
	if mn.chunks > 1 {
		perm = stepRand(mn.seed, step, randShuffle).Perm(n)
	}
	return mn.key.encode(images, perm)
}

// byolTau is BYOL's target momentum at step k of K: 1 − (1 − τ_base)·(cos(πk/K) + 1)/2
// (deepmind-research byol/utils/schedules.py, target_ema); τ_base throughout when K = 0.
func byolTau(base float64, k, total int) float64 {
	if total <= 0 {
		return base
	}
	return 1 - (1-base)*(math.Cos(math.Pi*float64(min(k, total))/float64(total))+1)/2
}
