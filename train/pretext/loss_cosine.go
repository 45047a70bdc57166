package pretext

import (
	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/ops"
)

// BYOLLoss is BYOL's symmetric normalised mean squared error (arXiv:2006.07733 eq. 2;
// google-deepmind/deepmind-research byol/byol_experiment.py, regression_loss): the online
// predictions p1, p2 [N, D] of the two views regress the target projections of the other
// view, t2 and t1 (values from the EMA target network, so they carry no gradient):
//
//	loss = mean_i ‖p̂1_i − t̂2_i‖² + mean_i ‖p̂2_i − t̂1_i‖² = 4 − 2·mean_i cos(p1_i, t2_i) − 2·mean_i cos(p2_i, t1_i)
//
// where x̂ = x/‖x‖. Each direction lies in [0, 4].
func BYOLLoss(p1, t2, p2, t1 *G.Node) (*G.Node, error) {
	c, err := meanCosines("BYOLLoss", [][2]*G.Node{{p1, t2}, {p2, t1}})
	if err != nil {
		return nil, err
	}
	g, dt := p1.Graph(), p1.Dtype()
	s, err := ops.Mul(c, scalar(g, dt, "byol/minus_two", -2))
	if err != nil {
		return nil, err
	}
	return ops.Add(s, scalar(g, dt, "byol/four", 4))
}

// SimSiamLoss is SimSiam's symmetric negative cosine with stop-gradient (arXiv:2011.10566
// eq. 4; facebookresearch/simsiam main_simsiam.py):
//
//	loss = −½·mean_i cos(p1_i, sg(z2_i)) − ½·mean_i cos(p2_i, sg(z1_i))
//
// p1, p2 are the predictor outputs and z1, z2 the projector outputs [N, D] of the two views
// from one network; the stop-gradient sg is applied here. The loss lies in [−1, 1].
func SimSiamLoss(p1, z1, p2, z2 *G.Node) (*G.Node, error) {
	if err := checkEmbeddings("SimSiamLoss", p1, z1, p2, z2); err != nil {
		return nil, err
	}
	sz1, err := ops.StopGradient(z1)
	if err != nil {
		return nil, err
	}
	sz2, err := ops.StopGradient(z2)
	if err != nil {
		return nil, err
	}
	c, err := meanCosines("SimSiamLoss", [][2]*G.Node{{p1, sz2}, {p2, sz1}})
	if err != nil {
		return nil, err
	}
	return ops.Mul(c, scalar(p1.Graph(), p1.Dtype(), "simsiam/minus_half", -0.5))
}

// meanCosines is Σ over pairs of mean_i cos(a_i, b_i), as a scalar node.
func meanCosines(what string, pairs [][2]*G.Node) (*G.Node, error) {
	var sum *G.Node
	for _, p := range pairs {
		if err := checkEmbeddings(what, p[0], p[1]); err != nil {
			return nil, err
		}
		if err := checkSameShape(what, p[0], p[1]); err != nil {
			return nil, err
		}
		a, err := ops.L2Normalize(p[0], 1, normEps)
		if err != nil {
			return nil, err
		}
		b, err := ops.L2Normalize(p[1], 1, normEps)
		if err != nil {
			return nil, err
		}
		ab, err := ops.Mul(a, b)
		if err != nil {
			return nil, err
		}
		cos, err := ops.ReduceSum(ab, []int{1}, false) // [N]
		if err != nil {
			return nil, err
		}
		m, err := ops.ReduceMean(cos, nil, false) // scalar
		if err != nil {
			return nil, err
		}
		if sum == nil {
			sum = m
		} else if sum, err = ops.Add(sum, m); err != nil {
			return nil, err
		}
	}
	return sum, nil
}
