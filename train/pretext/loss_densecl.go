package pretext

import (
	"math"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/ops"
)

// DenseCLMatch is DenseCL's correspondence (WXinlong/DenseCL densecl.py): for every cell of
// every query image, the key cell of the same image whose backbone feature has the highest
// cosine with it. q and k are backbone maps [n, c, h·w] (NCHW as the network gives them);
// the result is [n·h·w] indices into the image's h·w key cells. A tie goes to the first cell,
// a zero feature has cosine 0 with everything.
func DenseCLMatch(q, k []float32, n, c, hw int) []int {
	out := make([]int, n*hw)
	qn, kn := make([]float64, hw*c), make([]float64, hw*c)
	for i := 0; i < n; i++ {
		cellRows(qn, q[i*c*hw:(i+1)*c*hw], c, hw)
		cellRows(kn, k[i*c*hw:(i+1)*c*hw], c, hw)
		for a := 0; a < hw; a++ {
			best, arg := math.Inf(-1), 0
			for b := 0; b < hw; b++ {
				var s float64
				for j := 0; j < c; j++ {
					s += qn[a*c+j] * kn[b*c+j]
				}
				if s > best {
					best, arg = s, b
				}
			}
			out[i*hw+a] = arg
		}
	}
	return out
}

// cellRows writes one image's map [c, hw] as L2-normalised rows [hw, c] in float64 (the
// argmax is then the same for any GOMAXPROCS and any order of the batch).
func cellRows(dst []float64, src []float32, c, hw int) {
	for a := 0; a < hw; a++ {
		var s float64
		for j := 0; j < c; j++ {
			v := float64(src[j*hw+a])
			dst[a*c+j] = v
			s += v * v
		}
		if s = math.Sqrt(s); s > normEps {
			for j := 0; j < c; j++ {
				dst[a*c+j] /= s
			}
		}
	}
}

// DenseCLDenseLoss is DenseCL's dense InfoNCE: one row per query cell q_i [M, D] with its
// matched key cell k_i [M, D] as the positive and the dense queue's K keys n_j [K, D] as the
// negatives (not the batch's other cells, unlike PLMoCo's DenseInfoNCE):
//
//	ℓ_i = −log exp(q_i·k_i/T) / (exp(q_i·k_i/T) + Σ_j exp(q_i·n_j/T)),  loss = mean over rows with labels_i = 0
//
// labels [M] is 0 for a row that counts and −1 for one that has no positive (geometry
// matching: a cell outside the other view). All rows L2-normalised; only q needs a gradient.
func DenseCLDenseLoss(q, k, queue, labels *G.Node, temperature float64) (*G.Node, error) {
	loss, _, err := denseCLWithLogits(q, k, queue, labels, temperature)
	return loss, err
}

// denseCLWithLogits is DenseCLDenseLoss that also returns its logits [M, 1+K] (positive
// first), for the monitors.
func denseCLWithLogits(q, k, queue, labels *G.Node, temperature float64) (loss, logits *G.Node, err error) {
	if err := checkEmbeddings("DenseCL", q, k, queue); err != nil {
		return nil, nil, err
	}
	if err := checkSameShape("DenseCL", q, k); err != nil {
		return nil, nil, err
	}
	if err := checkTemperature("DenseCL", temperature); err != nil {
		return nil, nil, err
	}
	if labels == nil || labels.Dims() != 1 || labels.Shape()[0] != q.Shape()[0] {
		return nil, nil, errorf("DenseCL: labels must be [%d] (0 or −1 per query cell), got %v", q.Shape()[0], shapeOf(labels))
	}
	g, dt := q.Graph(), q.Dtype()
	qt, err := ops.Mul(q, scalar(g, dt, "densecl/inv_t", 1/temperature))
	if err != nil {
		return nil, nil, err
	}
	qk, err := ops.Mul(qt, k)
	if err != nil {
		return nil, nil, err
	}
	pos, err := ops.ReduceSum(qk, []int{1}, true) // [M, 1]
	if err != nil {
		return nil, nil, err
	}
	nt, err := ops.Transpose(queue, nil)
	if err != nil {
		return nil, nil, err
	}
	neg, err := ops.MatMul(qt, nt) // [M, K]
	if err != nil {
		return nil, nil, err
	}
	if logits, err = ops.Concat(1, pos, neg); err != nil {
		return nil, nil, err
	}
	loss, err = ops.SoftmaxCrossEntropy(logits, labels, ignoreLabel)
	return loss, logits, err
}
