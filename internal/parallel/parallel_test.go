package parallel

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Every index is called once, and never more than width at once.
func TestEachIsBounded(t *testing.T) {
	var running, most atomic.Int32
	seen := make([]int, 40)
	Each(len(seen), 3, func(i int) {
		now := running.Add(1)
		for {
			m := most.Load()
			if now <= m || most.CompareAndSwap(m, now) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		seen[i]++
		running.Add(-1)
	})
	for i, n := range seen {
		assert.Equal(t, 1, n, "index %d", i)
	}
	assert.LessOrEqual(t, most.Load(), int32(3))
	assert.Positive(t, most.Load())
}
