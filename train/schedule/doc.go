// Package schedule computes learning-rate schedules: the LR for step t of a run of T steps,
// from a base LR to a final LR, exactly as the papers' recipes and mmseg/PyTorch write them.
//
//	s := schedule.Schedule{Kind: schedule.Poly, BaseLR: 1e-2, FinalLR: 1e-4, Power: 0.9, Total: 20000}
//	if err := s.Validate(); err != nil { … }
//	lr := s.LR(step) // for step = 0 … Total−1 (Total gives the final LR)
//
// From the command line, embed Flags in a command and call Flags.Build(total):
//
//	--lr 0.01 --schedule poly --power 0.9 --final-lr 1e-4 --warmup 100
//
// # The schedules (t = step, T = Total, b = BaseLR, f = FinalLR)
//
//	constant  b
//	linear    b·(1 − t/T) + f·t/T              torch LinearLR(start_factor=1, end_factor=f/b)
//	poly      (b − f)·(1 − t/T)^p + f          mmseg PolyLR with eta_min (mmcv PolyLrUpdaterHook
//	                                           min_lr); with f = 0, torch PolynomialLR
//	cosine    f + (b − f)·(1 + cos(π·t/T))/2   torch CosineAnnealingLR(T_max=T, eta_min=f)
//	step      b·γ^k, k = milestones ≤ t        torch MultiStepLR; milestones are fractions of
//	                                           the run (0.7, 0.9 → steps round(0.7T), round(0.9T))
//
// Past T the LR stays at its value for T (no cosine restarts).
//
// Linear warm-up over the first W steps multiplies the schedule by
// s + (1 − s)·t/W (s = WarmupStart), as mmcv's warm-up and torch's
// ChainedScheduler(LinearLR(start_factor=s, total_iters=W), …) do: the main schedule keeps
// counting from step 0, it is not delayed by W.
//
// The tests compare every kind with PyTorch 1.13's schedulers or the mmseg closed form
// (testdata/schedules_golden.json, written by scripts/gen_train_golden.py).
package schedule
