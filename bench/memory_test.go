package bench

import (
	"runtime"
	"strings"
	"testing"
)

func TestParseStatus(t *testing.T) {
	m, err := parseStatus(strings.NewReader("Name:\tssl4dp\nVmPeak:\t  900000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t4\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.HWM != 200 || m.RSS != 100 {
		t.Errorf("got %+v; want HWM 200 MiB, RSS 100 MiB", m)
	}
	for _, bad := range []string{"VmRSS:\t1 kB\n", "VmRSS:\t1 MB\nVmHWM:\t2 kB\n", "VmRSS:\tx kB\nVmHWM:\t2 kB\n"} {
		if _, err := parseStatus(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// The peak follows an allocation and a reset brings it back down.
func TestPeakFollowsAllocation(t *testing.T) {
	before, reset, err := baseline()
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	if !reset {
		t.Skip("the kernel refuses to reset VmHWM")
	}
	after := touch(t, 64<<20)
	if after.HWM-before.RSS < 60 {
		t.Errorf("peak rose %.1f MiB after touching 64 MiB", after.HWM-before.RSS)
	}
	again, _, err := baseline()
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := ReadMemory(); m.HWM > again.RSS+32 {
		t.Errorf("after a reset the peak is %.1f MiB over the resident set %.1f MiB", m.HWM-again.RSS, again.RSS)
	}
}

// touch allocates and writes n bytes and returns the memory while they are live.
func touch(t *testing.T, n int) Memory {
	b := make([]byte, n)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	m, err := ReadMemory()
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(b)
	return m
}
