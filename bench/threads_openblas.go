//go:build !purego

package bench

/*
#cgo LDFLAGS: -lopenblas
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
*/
import "C"

// setBLASThreads sets OpenBLAS's thread count (internal/blas links OpenBLAS in this build)
// and returns the previous one.
func setBLASThreads(n int) (previous int) {
	previous = int(C.openblas_get_num_threads())
	C.openblas_set_num_threads(C.int(n))
	return previous
}

// blasThreads is OpenBLAS's current thread count.
func blasThreads() int { return int(C.openblas_get_num_threads()) }
