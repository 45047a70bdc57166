// Package kernels holds ssl4dp's CUDA C kernels, one .cu source per op family, and their PTX
// (ptx/<family>.ptx), which scripts/ptx.sh (`just ptx`) makes with Debian's clang-15 and no
// CUDA toolkit. The PTX is committed and embedded here for the device layer to load; a test
// regenerates it and fails when it differs from the sources. ops/cuda/emu runs the same
// sources on the CPU.
//
// Every kernel is `extern "C" __global__`, takes float32 data, and documents its launch
// shape above it. None uses atomics unless its name ends in _atomic: the default kernels
// reduce in a fixed order, so the same inputs give the same bits.
package kernels

import (
	"embed"
	"strings"
)

// Sources are the kernel sources (*.cu) and the headers they share.
//
//go:embed *.cu *.cuh *.h
var Sources embed.FS

// PTX holds ptx/<family>.ptx for every <family>.cu.
//
//go:embed ptx/*.ptx
var PTX embed.FS

// Entries are the kernel names a PTX module defines (its ".visible .entry name(" lines), as
// the device layer and the GPU check look kernels up.
func Entries(ptx string) []string {
	var names []string
	for _, line := range strings.Split(ptx, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), ".visible .entry "); ok {
			if name, _, ok := strings.Cut(rest, "("); ok {
				names = append(names, name)
			}
		}
	}
	return names
}
