package pretext

import (
	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/ops"
)

// cp2Loss is CP2's loss (Wang et al., ECCV 2022; wangf3014/CP2 builder.py and main.py) and
// the nodes its monitors read.
type cp2Loss struct {
	loss, ins, dense       *G.Node // L = L_ins + w·L_dense, and its two parts
	insLogits, denseLogits *G.Node // [N, 1+K] (positive first); [N, hw, hw] (query cell, key cell)
	kpos                   *G.Node // [N, D] the pooled keys, which join the queue
}

// CP2Loss builds CP2's two losses over the query cells q [N, D, hw] and the key cells k
// [N, D, hw] (each cell an L2-normalised D-vector), the foreground masks maskQ and maskK
// [N, 1, hw] (1 where the pasted foreground covers a cell's centre, else 0), the pair
// weights of the dense loss (cp2PairWeights: [N, hw, hw]) and the queue of negatives [K, D]:
//
//	q⁺_n = normalise(Σ_x maskQ_nx q_nx),  k⁺_n likewise,
//	L_ins   = InfoNCE(q⁺, k⁺, queue, T)                 (MoCo's, at temperature T)
//	L_dense = mean_n mean_{x∈fg(q_n), y∈fg(k_n)} −log softmax_x(q_nx·k_ny)   (no temperature;
//	          the softmax runs over the query cells x, as CP2's LogSoftmax(dim=1))
//	L       = L_ins + w·L_dense
//
// Images whose views have no foreground cell on either side add nothing to L_dense (CP2's
// division by zero); their weights are 0. Only q needs a gradient.
func CP2Loss(q, k, maskQ, maskK, pairW, negatives *G.Node, temperature, denseWeight float64) (*cp2Loss, error) {
	if q == nil || k == nil || q.Dims() != 3 || !q.Shape().Eq(k.Shape()) {
		return nil, errorf("CP2Loss: q and k must both be [N, D, hw], got %v and %v", shapeOf(q), shapeOf(k))
	}
	s := q.Shape()
	n, hw := s[0], s[2]
	for _, m := range []*G.Node{maskQ, maskK} {
		if m == nil || m.Dims() != 3 || m.Shape()[0] != n || m.Shape()[1] != 1 || m.Shape()[2] != hw {
			return nil, errorf("CP2Loss: masks must be [%d, 1, %d], got %v", n, hw, shapeOf(m))
		}
	}
	if pairW == nil || pairW.Dims() != 3 || pairW.Shape()[0] != n || pairW.Shape()[1] != hw || pairW.Shape()[2] != hw {
		return nil, errorf("CP2Loss: pair weights must be [%d, %d, %d], got %v", n, hw, hw, shapeOf(pairW))
	}
	qpos, err := maskedMean(q, maskQ)
	if err != nil {
		return nil, err
	}
	kpos, err := maskedMean(k, maskK)
	if err != nil {
		return nil, err
	}
	c := cp2Loss{kpos: kpos}
	if c.ins, c.insLogits, err = infoNCEWithLogits(qpos, kpos, negatives, temperature); err != nil {
		return nil, err
	}
	qt, err := ops.Transpose(q, []int{0, 2, 1})
	if err != nil {
		return nil, err
	}
	if c.denseLogits, err = ops.MatMul(qt, k); err != nil { // [N, hw(x), hw(y)]
		return nil, err
	}
	lsm, err := ops.LogSoftmax(c.denseLogits, 1)
	if err != nil {
		return nil, err
	}
	wl, err := ops.Mul(lsm, pairW)
	if err != nil {
		return nil, err
	}
	sum, err := ops.ReduceSum(wl, nil, false)
	if err != nil {
		return nil, err
	}
	g, dt := q.Graph(), q.Dtype()
	if c.dense, err = ops.Mul(sum, scalar(g, dt, "cp2/minus_one", -1)); err != nil {
		return nil, err
	}
	weighted, err := ops.Mul(c.dense, scalar(g, dt, "cp2/dense_weight", denseWeight))
	if err != nil {
		return nil, err
	}
	if c.loss, err = ops.Add(c.ins, weighted); err != nil {
		return nil, err
	}
	return &c, nil
}

// maskedMean is CP2's pooled embedding of the cells x [N, D, hw] under mask [N, 1, hw]: the
// L2-normalised sum of the masked cells, [N, D].
func maskedMean(x, mask *G.Node) (*G.Node, error) {
	m, err := ops.Mul(x, mask)
	if err != nil {
		return nil, err
	}
	if m, err = ops.ReduceSum(m, []int{2}, false); err != nil {
		return nil, err
	}
	return ops.L2Normalize(m, 1, normEps)
}

// cp2PairWeights are the weights of L_dense's pairs for masks mq, mk [n, hw]:
// w[i, x, y] = mq[i,x]·mk[i,y] / (|fg(q_i)|·|fg(k_i)|·V), V the number of images with
// foreground on both sides (images without get 0), so Σ w·(−log p) is CP2's mean over images
// of each image's mean over its foreground pairs. It also returns V.
func cp2PairWeights(mq, mk []float32, n, hw int) ([]float64, int) {
	w := make([]float64, n*hw*hw)
	valid := 0
	sums := make([][2]float64, n)
	for i := 0; i < n; i++ {
		for x := 0; x < hw; x++ {
			sums[i][0] += float64(mq[i*hw+x])
			sums[i][1] += float64(mk[i*hw+x])
		}
		if sums[i][0] > 0 && sums[i][1] > 0 {
			valid++
		}
	}
	for i := 0; i < n; i++ {
		pairs := sums[i][0] * sums[i][1]
		if pairs == 0 {
			continue
		}
		scale := 1 / (pairs * float64(valid))
		for x := 0; x < hw; x++ {
			for y := 0; y < hw; y++ {
				w[(i*hw+x)*hw+y] = float64(mq[i*hw+x]) * float64(mk[i*hw+y]) * scale
			}
		}
	}
	return w, valid
}
