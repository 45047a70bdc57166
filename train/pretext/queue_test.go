package pretext

import (
	"math"
	"slices"
	"testing"
)

func TestQueueStartsAsRandomUnitRows(t *testing.T) {
	q, err := NewQueue(5, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	for r := 0; r < 5; r++ {
		var s float64
		for _, v := range q.Data[r*3 : r*3+3] {
			s += float64(v) * float64(v)
		}
		if math.Abs(s-1) > 1e-6 {
			t.Errorf("row %d has squared norm %v, want 1", r, s)
		}
	}
	again, _ := NewQueue(5, 3, 1)
	other, _ := NewQueue(5, 3, 2)
	if !slices.Equal(q.Data, again.Data) || slices.Equal(q.Data, other.Data) {
		t.Error("the initial queue is not a function of the seed")
	}
}

// Rows go in oldest-first at Ptr and wrap around: after enqueuing keys 1–7 into K = 3
// (each key a row of D = 2 equal values), the queue holds 7, 5, 6 with Ptr at row 1.
func TestQueueEnqueueWrapsAround(t *testing.T) {
	q, _ := NewQueue(3, 2, 1)
	key := func(ks ...float32) []float32 {
		var out []float32
		for _, k := range ks {
			out = append(out, k, k)
		}
		return out
	}
	steps := []struct {
		in   []float32
		want []float32
		ptr  int
	}{
		{key(1, 2), nil, 2},
		{key(3, 4), key(4, 2, 3), 1},
		{key(5, 6, 7), key(7, 5, 6), 1},
	}
	for i, s := range steps {
		if err := q.Enqueue(s.in); err != nil {
			t.Fatal(err)
		}
		if q.Ptr != s.ptr {
			t.Errorf("step %d: Ptr %d, want %d", i, q.Ptr, s.ptr)
		}
		if s.want != nil && !slices.Equal(q.Data, s.want) {
			t.Errorf("step %d: queue %v, want %v", i, q.Data, s.want)
		}
	}
	if got := q.Data[:4]; !slices.Equal(key(7, 5), got) {
		t.Errorf("queue %v", q.Data)
	}
	if err := q.Enqueue([]float32{1, 2, 3}); err == nil || !contains(err.Error(), "multiple of D = 2") {
		t.Errorf("enqueue of 3 values into D = 2: %v", err)
	}
}

func TestQueueSaveRestore(t *testing.T) {
	q, _ := NewQueue(4, 3, 9)
	q.Enqueue([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9})
	b, err := q.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	r, _ := NewQueue(4, 3, 10)
	if err := r.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if r.Ptr != q.Ptr || !slices.Equal(r.Data, q.Data) {
		t.Errorf("restored queue %v ptr %d, want %v ptr %d", r.Data, r.Ptr, q.Data, q.Ptr)
	}
	for _, c := range []struct {
		name string
		into *Queue
		data []byte
		want string
	}{
		{"other size", &Queue{K: 5, D: 3, Data: make([]float32, 15)}, b, "saved queue is 4×3, this run's is 5×3"},
		{"truncated", r, b[:len(b)-1], "bytes of values"},
		{"not a queue", r, []byte("hello"), "not a saved queue"},
		{"bad pointer", r, func() []byte { c := slices.Clone(b); c[len(queueMagic)+8] = 9; return c }(), "pointer 9 outside [0, 4)"},
	} {
		if err := c.into.UnmarshalBinary(c.data); err == nil || !contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

func TestQueueSizes(t *testing.T) {
	if _, err := NewQueue(0, 3, 1); err == nil {
		t.Error("K = 0 accepted")
	}
}
