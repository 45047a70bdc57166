package schedule_test

import (
	"fmt"

	"github.com/ssl4dp/ssl4dp/train/schedule"
)

// "lr from 1e-2 to 1e-4, poly, p=0.9" over a 20k-step run.
func Example() {
	s := schedule.Schedule{Kind: schedule.Poly, BaseLR: 1e-2, FinalLR: 1e-4, Power: 0.9, Total: 20000}
	if err := s.Validate(); err != nil {
		panic(err)
	}
	fmt.Println(s)
	for _, step := range []int{0, 10000, 20000} {
		fmt.Printf("step %5d: lr %.6f\n", step, s.LR(step))
	}
	// Output:
	// poly (p=0.9) from 0.01 to 0.0001 over 20000 steps
	// step     0: lr 0.010000
	// step 10000: lr 0.005405
	// step 20000: lr 0.000100
}
