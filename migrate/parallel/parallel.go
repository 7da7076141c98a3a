// Package parallel runs independent items of work on every core.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// For calls f(i) for every i in [0, n) on at most GOMAXPROCS goroutines,
// each taking the next index no other has taken, and returns once all
// calls have returned. f puts its result at index i, so the output's order
// does not depend on the order the items finish in. When stop is not nil
// it is asked before each item; once it says true, no item starts.
func For(n int, stop func() bool, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || stop != nil && stop() {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}
