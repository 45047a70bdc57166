package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Env is where and when a benchmark ran: enough to tell two reports' machines, builds and
// conditions apart.
type Env struct {
	Date      string     `json:"date"`             // start, RFC 3339 UTC
	Commit    string     `json:"commit,omitempty"` // the binary's vcs.revision ("+dirty" for uncommitted changes); empty in tests
	Go        string     `json:"go"`
	Platform  string     `json:"platform"` // GOOS/GOARCH
	CPU       string     `json:"cpu"`      // /proc/cpuinfo "model name"
	CPUs      int        `json:"cpus"`     // logical CPUs this process may use
	GPU       string     `json:"gpu,omitempty"`
	LoadStart [3]float64 `json:"load_start"` // /proc/loadavg (1, 5, 15 minutes) at the start
	LoadEnd   [3]float64 `json:"load_end"`   // and at the end
}

// startEnv records everything but LoadEnd; gpu asks nvidia-smi for the name of GPU device.
func startEnv(gpu bool, device int) Env {
	e := Env{
		Date:     time.Now().UTC().Format(time.RFC3339),
		Commit:   commit(),
		Go:       runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH,
		CPU:      cpuModel(),
		CPUs:     runtime.NumCPU(),
	}
	if gpu {
		e.GPU = gpuName(device)
	}
	e.LoadStart = loadAvg()
	return e
}

func (e *Env) finish() { e.LoadEnd = loadAvg() }

// commit is the VCS revision `go build` stamped into the binary.
func commit() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" && dirty {
		rev += "+dirty"
	}
	return rev
}

// cpuModel is the first "model name" in /proc/cpuinfo, or "unknown".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadAvg reads the 1, 5 and 15 minute load averages (zeros where /proc is absent).
func loadAvg() [3]float64 {
	var l [3]float64
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return l
	}
	f := strings.Fields(string(b))
	for i := 0; i < 3 && i < len(f); i++ {
		l[i], _ = strconv.ParseFloat(f[i], 64)
	}
	return l
}

// gpuName asks nvidia-smi for the name of CUDA device; without nvidia-smi it says so rather
// than failing the benchmark.
func gpuName(device int) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader", "-i", strconv.Itoa(device)).Output()
	if err != nil {
		return fmt.Sprintf("unknown (nvidia-smi: %v)", err)
	}
	return strings.TrimSpace(string(out))
}
