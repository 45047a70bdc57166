package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// Memory is the process's resident set as Linux reports it in /proc/self/status, in MiB.
type Memory struct {
	RSS float64 // VmRSS: resident now
	HWM float64 // VmHWM: the peak resident set since start or the last ResetPeak
}

const statusFile = "/proc/self/status"

// ReadMemory reads VmRSS and VmHWM of this process.
func ReadMemory() (Memory, error) {
	f, err := os.Open(statusFile)
	if err != nil {
		return Memory{}, fmt.Errorf("bench: memory: %w", err)
	}
	defer f.Close()
	return parseStatus(f)
}

// parseStatus reads the VmRSS and VmHWM lines ("VmHWM:\t  123456 kB") of a status file.
func parseStatus(r io.Reader) (Memory, error) {
	var m Memory
	found := 0
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return Memory{}, fmt.Errorf("bench: memory: %s line %q; want \"<n> kB\"", statusFile, sc.Text())
		}
		kb, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return Memory{}, fmt.Errorf("bench: memory: %s line %q: %v", statusFile, sc.Text(), err)
		}
		if key == "VmRSS" {
			m.RSS = kb / 1024
		} else {
			m.HWM = kb / 1024
		}
		found++
	}
	if err := sc.Err(); err != nil {
		return Memory{}, fmt.Errorf("bench: memory: %s: %w", statusFile, err)
	}
	if found != 2 {
		return Memory{}, fmt.Errorf("bench: memory: %s has no VmRSS and VmHWM lines", statusFile)
	}
	return m, nil
}

// ResetPeak sets VmHWM back to the current resident set (Linux ≥ 4.0: "5" written to
// /proc/PID/clear_refs), so that the next peak belongs to what runs after it.
func ResetPeak() error {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("bench: resetting the peak resident set: %w", err)
	}
	return nil
}

// baseline returns the resident set after handing the Go heap's free pages back to the
// system and resets the peak: the starting point of a memory delta. peakReset is false
// where the kernel refused the reset (the peak then covers the whole process's life).
func baseline() (m Memory, peakReset bool, err error) {
	runtime.GC()
	debug.FreeOSMemory()
	peakReset = ResetPeak() == nil
	m, err = ReadMemory()
	return m, peakReset, err
}
