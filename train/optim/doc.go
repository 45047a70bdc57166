// Package optim is ssl4dp's optimizer: SGD with momentum, exactly as torch.optim.SGD
// (PyTorch 1.13) computes it, over parameter groups chosen by name prefix.
//
// It works on plain float32 slices, so the training loop can bind it to whatever holds the
// values (Gorgonia tensors' backing arrays) without this package knowing about graphs:
//
//	params := []*optim.Param{{Name: "conv1.weight", Shape: []int{64, 3, 7, 7}, Value: w, Grad: gw}, …}
//	opt, err := optim.New(params, optim.Config{Momentum: 0.9, WeightDecay: 5e-4},
//		optim.HeadEncoderRules([]string{"head."}, 0.01)) // encoder at lr×0.01
//	for step := 0; step < total; step++ {
//		… forward, backward: gradients land in the Grad slices …
//		if _, err := opt.Step(sched.LR(step)); err != nil { … }
//	}
//
// # The update
//
// For every parameter p with gradient g, at learning rate lr (the schedule's value times the
// group's LRMult), weight decay wd (0 when the parameter is excluded from decay), momentum μ:
//
//	d = g + wd·p                 weight decay joins the gradient *before* momentum
//	v = d        (first step)    the buffer starts as the first gradient, as in PyTorch
//	v = μ·v + d  (later steps)   dampening 0
//	d = d + μ·v  (Nesterov)  or  d = v
//	p = p − lr·d
//
// Weight decay therefore acts on the weights at every step and the velocity only carries what
// it was given; it is never decayed on its own (Gorgonia's WithL2Reg solver decays the
// velocity, which is a different optimizer). All arithmetic is float32, in PyTorch's order.
// Step spreads the element-wise work over all CPUs (runtime.GOMAXPROCS) in chunks fixed by
// the parameter sizes; the result is the same, bit for bit, for any number of CPUs.
//
// # Parameter groups
//
// Rules (see Rule) match parameter names by prefix; the first rule that matches decides the
// parameter's LR multiplier and whether its group is decayed at all. Parameters no rule
// matches go to the group "default" (LR×1, decayed). Inside a decayed group, parameters with
// at most one dimension, and any whose name ends in ".bias", get no weight decay: in a CNN
// these are exactly the BatchNorm scales and shifts and the biases (the rule of timm's
// param_groups_weight_decay). Config.DecayAll turns the exclusion off (plain torch SGD with
// one weight_decay for everything).
//
// # Gradient clipping
//
// Config.MaxGradNorm > 0 scales all gradients together so that their global L2 norm is at
// most MaxGradNorm before the update, as torch.nn.utils.clip_grad_norm_ does (coefficient
// max/(norm+1e-6), clamped to 1). ClipGradNorm is also usable on its own.
//
// # State
//
// SaveState/LoadState write and read the momentum buffers (by parameter name) and the step
// count in a small versioned binary format (see state.go); loading checks every name and size
// against the optimizer's parameters and changes nothing unless all of them match.
//
// Errors start with "optim:" and name the parameter; bad input is an error, never a panic.
package optim
