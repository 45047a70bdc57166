package pretext

import (
	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/ops"
)

// InfoNCE is MoCo's contrastive loss (arXiv:1911.05722 eq. 1; facebookresearch/moco
// moco/builder.py): for each query q_i its positive key k_i and the K negatives n_j,
//
//	ℓ_i = −log exp(q_i·k_i/T) / (exp(q_i·k_i/T) + Σ_j exp(q_i·n_j/T)),   loss = mean_i ℓ_i
//
// which is cross-entropy over the logits [q_i·k_i, q_i·n_1, …, q_i·n_K]/T with target 0.
// q and k are [N, D], negatives [K, D], all L2-normalised rows (MoCo normalises in the
// encoder; the keys and the queue come in as values). Only q needs a gradient.
func InfoNCE(q, k, negatives *G.Node, temperature float64) (*G.Node, error) {
	loss, _, err := infoNCEWithLogits(q, k, negatives, temperature)
	return loss, err
}

// infoNCEWithLogits is InfoNCE that also returns its logits [N, 1+K] (positive first), for the
// monitors.
func infoNCEWithLogits(q, k, negatives *G.Node, temperature float64) (loss, logits *G.Node, err error) {
	if err := checkEmbeddings("InfoNCE", q, k, negatives); err != nil {
		return nil, nil, err
	}
	if err := checkSameShape("InfoNCE", q, k); err != nil {
		return nil, nil, err
	}
	if err := checkTemperature("InfoNCE", temperature); err != nil {
		return nil, nil, err
	}
	g, dt, n := q.Graph(), q.Dtype(), q.Shape()[0]
	qt, err := ops.Mul(q, scalar(g, dt, "infonce/inv_t", 1/temperature))
	if err != nil {
		return nil, nil, err
	}
	qk, err := ops.Mul(qt, k)
	if err != nil {
		return nil, nil, err
	}
	pos, err := ops.ReduceSum(qk, []int{1}, true) // [N, 1]
	if err != nil {
		return nil, nil, err
	}
	nt, err := ops.Transpose(negatives, nil)
	if err != nil {
		return nil, nil, err
	}
	neg, err := ops.MatMul(qt, nt) // [N, K]
	if err != nil {
		return nil, nil, err
	}
	if logits, err = ops.Concat(1, pos, neg); err != nil {
		return nil, nil, err
	}
	loss, err = ops.SoftmaxCrossEntropy(logits, constant(g, dt, "infonce/labels", []int{n}, make([]float64, n)), ignoreLabel)
	return loss, logits, err
}

// DenseInfoNCE is the patch-level contrastive loss of PLMoCo: every query cell q_i [M, D]
// against every key row [R, D] (the batch's key cells, then the dense queue), with the
// positive at column labels_i and every other row a negative:
//
//	ℓ_i = −log exp(q_i·k_{labels_i}/T) / Σ_r exp(q_i·k_r/T),   loss = mean over cells with labels_i ≥ 0
//
// labels [M] holds each query cell's matched key row, or −1 for a cell that lies outside
// the other view (it contributes nothing; when no cell matches, the loss is 0). q and keys
// are L2-normalised rows.
func DenseInfoNCE(q, keys, labels *G.Node, temperature float64) (*G.Node, error) {
	loss, _, err := denseInfoNCEWithLogits(q, keys, labels, temperature)
	return loss, err
}

// denseInfoNCEWithLogits is DenseInfoNCE that also returns its logits [M, R], for the monitors.
func denseInfoNCEWithLogits(q, keys, labels *G.Node, temperature float64) (loss, logits *G.Node, err error) {
	if err := checkEmbeddings("DenseInfoNCE", q, keys); err != nil {
		return nil, nil, err
	}
	if err := checkTemperature("DenseInfoNCE", temperature); err != nil {
		return nil, nil, err
	}
	if labels == nil || labels.Dims() != 1 || labels.Shape()[0] != q.Shape()[0] {
		return nil, nil, errorf("DenseInfoNCE: labels must be [%d] (one per query cell), got %v", q.Shape()[0], shapeOf(labels))
	}
	g, dt := q.Graph(), q.Dtype()
	qt, err := ops.Mul(q, scalar(g, dt, "dense/inv_t", 1/temperature))
	if err != nil {
		return nil, nil, err
	}
	kt, err := ops.Transpose(keys, nil)
	if err != nil {
		return nil, nil, err
	}
	if logits, err = ops.MatMul(qt, kt); err != nil { // [M, R]
		return nil, nil, err
	}
	loss, err = ops.SoftmaxCrossEntropy(logits, labels, ignoreLabel)
	return loss, logits, err
}

// ignoreLabel marks query cells without a positive (DenseInfoNCE) and is never a column.
const ignoreLabel = -1
