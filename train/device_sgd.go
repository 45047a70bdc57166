package train

import (
	"math"

	"github.com/ssl4dp/ssl4dp/ops/device"
	"github.com/ssl4dp/ssl4dp/train/optim"
)

// normBlock is the width of the sum_partial/sum_final blocks of the gradient norm.
const normBlock = 256

// devSGD is the optimizer's device side: the momentum buffers, and the scratch of the
// gradient norm (one partial sum per block of each gradient, then their total). The norm is
// taken every step, clipping or not: its one float out is also the non-finite check that the
// CPU's bindGradients makes by reading every gradient.
type devSGD struct {
	vel     []device.Ptr // per parameter; 0 until its momentum starts
	grad    []device.Ptr // this step's gradients
	blocks  []int        // sum_partial blocks per parameter (fixed by its size: fixed bits)
	partial device.Ptr   // Σ blocks floats
	total   device.Ptr   // one float
	nparts  int
	norm    float64 // this step's global gradient L2 norm
}

// normBlocks is how many sum_partial blocks a gradient of n values gets: one per 4096 values,
// at most 64.
func normBlocks(n int) int { return min(max((n+4095)/4096, 1), 64) }

// gradNorm reads this pass's gradients, takes their global squared norm on the device and
// copies that one float out. A NaN or ±Inf total names the first parameter whose partial
// sums are not finite (copying the partials out: the failing step's price only).
func (s *devSGD) gradNorm(r *devRun) (bad string, err error) {
	if s.partial == 0 {
		for _, p := range r.params {
			b := normBlocks(len(p.p.Value))
			s.blocks = append(s.blocks, b)
			s.nparts += b
		}
		if s.partial, err = r.dev.Alloc(4 * s.nparts); err != nil {
			return "", err
		}
		if s.total, err = r.dev.Alloc(4); err != nil {
			return "", err
		}
		s.grad = make([]device.Ptr, len(r.params))
	}
	off := 0
	for i, p := range r.params {
		if s.grad[i], err = gradPtr(p); err != nil {
			return "", err
		}
		if err := r.dev.Launch("sum_partial", device.Dim3{s.blocks[i], 1, 1}, device.Dim3{normBlock, 1, 1}, 0,
			s.grad[i], s.partial.Add(4*off), int32(len(p.p.Value)), int32(1)); err != nil {
			return "", err
		}
		off += s.blocks[i]
	}
	if err := r.dev.Launch("sum_final", device.Dim3{1, 1, 1}, device.Dim3{normBlock, 1, 1}, 0,
		s.partial, s.total, int32(s.nparts), int32(1)); err != nil {
		return "", err
	}
	var sq [1]float32
	if err := r.dev.CopyOut(device.Bytes32(sq[:]), s.total); err != nil {
		return "", err
	}
	s.norm = math.Sqrt(float64(sq[0]))
	if finite(s.norm) {
		return "", nil
	}
	parts := make([]float32, s.nparts)
	if err := r.dev.CopyOut(device.Bytes32(parts), s.partial); err != nil {
		return "", err
	}
	off = 0
	for i, p := range r.params {
		for _, x := range parts[off : off+s.blocks[i]] {
			if !finite(float64(x)) {
				return p.p.Name, nil
			}
		}
		off += s.blocks[i]
	}
	// The squares overflowed float32 without a non-finite gradient: clipping reports it.
	return "", nil
}

// step is the SGD update on the device: opt decides it (optim.SGD.StepElsewhere), each
// parameter's gradient is scaled by the clipping factor (elementwise.cu's scale, the CPU's
// float32 product) and updated by sgd.cu's sgd_update, the CPU's loop element for element.
func (s *devSGD) step(r *devRun, opt *optim.SGD, lr float64) error {
	return opt.StepElsewhere(lr, s.norm, func(i int, coef float32, u optim.Update) error {
		n := len(r.params[i].p.Value)
		grid, block := device.Grid1D(n)
		g := s.grad[i]
		if coef < 1 {
			if err := r.dev.Launch("scale", grid, block, 0, g, coef, g, int32(n)); err != nil {
				return err
			}
		}
		v := g // sgd_update leaves v alone without momentum
		if u.Mu != 0 {
			if err := s.ensure(r, i); err != nil {
				return err
			}
			v = s.vel[i]
		}
		return r.dev.Launch("sgd_update", grid, block, 0, device.PtrOf(r.on[r.params[i].node]), g, v, int32(n),
			u.LR, u.WD, u.Mu, b2i(u.First), b2i(u.Nesterov))
	})
}

// ensure allocates parameter i's device momentum buffer.
func (s *devSGD) ensure(r *devRun, i int) error {
	if s.vel == nil {
		s.vel = make([]device.Ptr, len(r.params))
	}
	if s.vel[i] != 0 {
		return nil
	}
	p, err := r.dev.Alloc(4 * len(r.params[i].p.Value))
	s.vel[i] = p
	return err
}

// load copies the optimizer's host momentum buffers in (a resumed run's).
func (s *devSGD) load(r *devRun, opt momentumBuffers) error {
	for i := range r.params {
		if b := opt.Buffer(i); b != nil {
			if err := s.ensure(r, i); err != nil {
				return err
			}
			if err := r.dev.CopyIn(s.vel[i], device.Bytes32(b)); err != nil {
				return err
			}
		}
	}
	return nil
}

// store copies the device's momentum buffers into the optimizer's host ones (before
// SaveState).
func (s *devSGD) store(r *devRun, opt momentumBuffers) error {
	for i := range r.params {
		if b := opt.Buffer(i); b != nil && s.vel != nil && s.vel[i] != 0 {
			if err := r.dev.CopyOut(device.Bytes32(b), s.vel[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
