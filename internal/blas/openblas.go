//go:build !purego

package blas

/*
#cgo LDFLAGS: -lopenblas

char *openblas_get_corename(void);
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
*/
import "C"

import (
	"os"

	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// Name says which BLAS this build uses; bench and train print it.
const Name = "openblas"

// threadVars are the variables OpenBLAS reads its thread count from.
var threadVars = []string{"OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"}

func init() {
	if !threadsFromEnv() {
		C.openblas_set_num_threads(DefaultThreads)
	}
	impl := netlib.Implementation{}
	G.Use(impl)
	blas32.Use(impl)
	blas64.Use(impl)
}

// threadsFromEnv reports whether the environment sets OpenBLAS's thread count.
func threadsFromEnv() bool {
	for _, v := range threadVars {
		if os.Getenv(v) != "" {
			return true
		}
	}
	return false
}

// Core names the kernel set OpenBLAS chose for this CPU ("Cooperlake", "Haswell", …).
func Core() string {
	if p := C.openblas_get_corename(); p != nil {
		return C.GoString(p)
	}
	return ""
}

// Threads is OpenBLAS's thread count.
func Threads() int { return int(C.openblas_get_num_threads()) }
