package pretext

import (
	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/ops"
)

// selfMask is added to a sample's similarity with itself so that softmax gives it weight 0
// (SimCLR's LARGE_NUM, google-research/simclr tf2/objective.py).
const selfMask = -1e9

// NTXent is SimCLR's normalised temperature-scaled cross-entropy (arXiv:2002.05709 eq. 1
// and Algorithm 1): the 2N embeddings z = [a; b] are L2-normalised, and for each of them the
// other view of the same image is the positive and the other 2N−2 are negatives:
//
//	ℓ(i, j) = −log exp(sim(z_i, z_j)/τ) / Σ_{k≠i} exp(sim(z_i, z_k)/τ),
//	loss = 1/(2N) Σ_k [ℓ(k, k+N) + ℓ(k+N, k)]
//
// a and b are the projections [N, D] of the two views, row i of a paired with row i of b.
// The paper's mean over 2N terms is used; google-research/simclr's tf2 code adds the two
// directions' means, which is twice this.
func NTXent(a, b *G.Node, temperature float64) (*G.Node, error) {
	loss, _, err := ntXentWithLogits(a, b, temperature)
	return loss, err
}

// ntXentWithLogits is NTXent that also returns its logits [2N, 2N] (self masked; row i's positive at
// column (i+N) mod 2N), for the monitors.
func ntXentWithLogits(a, b *G.Node, temperature float64) (loss, logits *G.Node, err error) {
	if err := checkEmbeddings("NTXent", a, b); err != nil {
		return nil, nil, err
	}
	if err := checkSameShape("NTXent", a, b); err != nil {
		return nil, nil, err
	}
	if err := checkTemperature("NTXent", temperature); err != nil {
		return nil, nil, err
	}
	g, dt, n := a.Graph(), a.Dtype(), a.Shape()[0]
	z, err := ops.Concat(0, a, b)
	if err != nil {
		return nil, nil, err
	}
	if z, err = ops.L2Normalize(z, 1, normEps); err != nil {
		return nil, nil, err
	}
	zt, err := ops.Transpose(z, nil)
	if err != nil {
		return nil, nil, err
	}
	sim, err := ops.MatMul(z, zt) // [2N, 2N]
	if err != nil {
		return nil, nil, err
	}
	mask := make([]float64, 4*n*n)
	labels := make([]float64, 2*n)
	for i := 0; i < 2*n; i++ {
		mask[i*2*n+i] = selfMask
		labels[i] = float64((i + n) % (2 * n))
	}
	if sim, err = ops.Mul(sim, scalar(g, dt, "ntxent/inv_t", 1/temperature)); err != nil {
		return nil, nil, err
	}
	if logits, err = ops.Add(sim, constant(g, dt, "ntxent/self_mask", []int{2 * n, 2 * n}, mask)); err != nil {
		return nil, nil, err
	}
	loss, err = ops.SoftmaxCrossEntropy(logits, constant(g, dt, "ntxent/labels", []int{2 * n}, labels), ignoreLabel)
	return loss, logits, err
}

// normEps is the clamp of every L2 normalisation, torch.nn.functional.normalize's default.
const normEps = 1e-12
