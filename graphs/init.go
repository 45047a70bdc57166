package graphs

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// Filler says how a parameter's initial values are drawn. The schemes are PyTorch's; the
// random streams are not (they cannot be: PyTorch's generator is not reproduced here), so
// equal seeds give equal models in ssl4dp, not the same numbers as torch.manual_seed.
type Filler struct {
	kind fillKind
	a    float64
}

type fillKind int

const (
	fillConst fillKind = iota
	fillNormal
	fillUniform
)

// Constant fills every value with v (BatchNorm γ=1, β=0, running mean 0, running var 1).
func Constant(v float64) Filler { return Filler{fillConst, v} }

// Normal draws from N(0, std²).
func Normal(std float64) Filler { return Filler{fillNormal, std} }

// Uniform draws from U(−bound, bound).
func Uniform(bound float64) Filler { return Filler{fillUniform, bound} }

// KaimingNormalFanOut is nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"),
// which torchvision's ResNet and mmcv's ConvModule use for convolutions: N(0, 2/fan_out)
// with fan_out = shape[0]·∏shape[2:] (PyTorch does not divide by groups).
func KaimingNormalFanOut(shape []int) Filler {
	fanOut := 1
	for i, d := range shape {
		if i != 1 {
			fanOut *= d
		}
	}
	return Normal(math.Sqrt(2 / float64(fanOut)))
}

// TorchDefault is the default initialisation of nn.Linear and nn.Conv2d, for the weight and
// the bias alike: kaiming_uniform_(a=√5) reduces to U(±1/√fan_in), fan_in = ∏shape[1:] of
// the weight.
func TorchDefault(weightShape []int) Filler {
	fanIn := 1
	for _, d := range weightShape[1:] {
		fanIn *= d
	}
	return Uniform(1 / math.Sqrt(float64(fanIn)))
}

// fill draws n values from a stream seeded by (seed, name): a parameter's initial values
// do not depend on which other parameters the graph has, or on their order.
func (f Filler) fill(seed int64, name string, n int) []float32 {
	out := make([]float32, n)
	if f.kind == fillConst {
		for i := range out {
			out[i] = float32(f.a)
		}
		return out
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	r := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
	for i := range out {
		if f.kind == fillNormal {
			out[i] = float32(r.NormFloat64() * f.a)
		} else {
			out[i] = float32((2*r.Float64() - 1) * f.a)
		}
	}
	return out
}
