// Package emu runs the CUDA kernels of ops/cuda/kernels on the CPU, under an emulation of
// CUDA's execution model, so that tests can prove them against the CPU ops without a GPU.
//
// The same .cu sources that scripts/ptx.sh compiles to PTX are compiled here as C++ for the
// host (one .cc file per kernel family includes its source after prelude_host.h). A launch
// runs the grid's blocks one after another; each block's threads are fibers (ucontext) on one
// OS thread, switched at every __syncthreads, which is a real barrier: it releases only when
// all the block's threads wait at the same one, and a thread that returns while others wait
// is an error. Static __shared__ variables are NaN-filled before every block; dynamic shared
// memory is sized at launch, NaN-filled and guarded; every slice argument is copied into C
// memory between NaN guard bands that are checked after the launch, and output slices are
// filled with NaN by the parity tests, so a kernel that writes out of bounds or leaves an
// output unwritten fails. Launching the threads in reverse order (LaunchReverse) changes the
// interleaving between barriers: a kernel whose result depends on it has a race.
//
// The kernels use only IEEE-rounded arithmetic (the PTX test rejects .approx and .ftz, and
// both sides compile without fused multiply-adds beyond explicit k_fma), so the emulator's
// results should be the device's bits.
//
// It needs cgo (g++); without cgo the package is empty.
package emu
