//go:build unix

package bench

import "syscall"

// processCPU is the CPU time this process has used so far, user and system, all threads, in
// seconds: on a shared machine it grows with the work done, not with the waiting.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
