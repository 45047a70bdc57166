package blas

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// The thread count is DefaultThreads unless the environment sets one, which wins. The
// environment is read when the library starts, so each case runs in a child process.
func TestThreads(t *testing.T) {
	if os.Getenv("SSL4DP_BLAS_CHILD") == "1" {
		os.Stdout.WriteString(strconv.Itoa(Threads()) + "\n")
		return
	}
	if Name != "openblas" {
		if Threads() < 1 {
			t.Errorf("Threads() = %d, want ≥ 1", Threads())
		}
		return
	}
	for _, c := range []struct {
		env  []string
		want int
	}{
		{nil, DefaultThreads},
		{[]string{"OPENBLAS_NUM_THREADS=2"}, 2},
		{[]string{"OMP_NUM_THREADS=2"}, 2},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestThreads$")
		cmd.Env = append(cleanEnv(), "SSL4DP_BLAS_CHILD=1")
		cmd.Env = append(cmd.Env, c.env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("child with %v: %v", c.env, err)
		}
		got, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0]))
		if err != nil || got != c.want {
			t.Errorf("with %v: Threads() printed %q, want %d", c.env, out, c.want)
		}
	}
}

// cleanEnv is the environment without the thread count variables.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, v := range []string{"OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"} {
			keep = keep && name != v
		}
		if keep {
			env = append(env, kv)
		}
	}
	return env
}

func TestCore(t *testing.T) {
	if Name == "openblas" && Core() == "" {
		t.Error("OpenBLAS reports no kernel set")
	}
	t.Logf("BLAS %s, kernels %q, %d threads", Name, Core(), Threads())
}
