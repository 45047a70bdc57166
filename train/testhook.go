package train

import (
	"os"
	"strconv"
)

// testNaNStep reads SSL4DP_TEST_NAN_STEP, a hook for the tests that check how a run stops on
// a NaN loss from the outside (the CLI's exit code, the checkpoints left): at that 0-based
// step the engine treats the loss as NaN. Unset or unparsable: −1, never.
func testNaNStep() int {
	s := os.Getenv("SSL4DP_TEST_NAN_STEP")
	if s == "" {
		return -1
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return -1
	}
	return n
}
