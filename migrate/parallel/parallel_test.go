package parallel

import (
	"sync/atomic"
	"testing"
)

func TestForCallsEachIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 1000} {
		calls := make([]atomic.Int32, n)
		For(n, nil, func(i int) { calls[i].Add(1) })
		for i := range calls {
			if c := calls[i].Load(); c != 1 {
				t.Fatalf("n=%d: index %d called %d times", n, i, c)
			}
		}
	}
}

func TestForStops(t *testing.T) {
	var done atomic.Int32
	For(1000, func() bool { return done.Load() >= 10 }, func(int) { done.Add(1) })
	// Each goroutine may have started one item past the tenth.
	if d := done.Load(); d < 10 || d > 10+int32(64) {
		t.Errorf("%d items ran after stop said true from the tenth on", d)
	}
}
