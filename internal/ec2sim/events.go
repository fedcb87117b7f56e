package ec2sim

import (
	"container/heap"
	"context"
	"time"
)

// An event clock is real time plus jumps: while anything that runs on it
// works (or the state machine moves between states), it runs at real
// speed; once everything waits on it, it jumps to the earliest wake-up.
// So the simulated EC2's waits cost no real time and the rest (S3, moto's
// Step Functions, the process's CPU) counts once, never multiplied. One
// per region (Fork), since a region's work never waits on another's.
type events struct {
	sleepers sleeperHeap
	// active is the real time anything last touched the clock: a
	// goroutine woken touches it again (Now, Sleep) within quiet, so the
	// clock does not jump past one that is still working.
	active    time.Time
	advancing bool
	jumps     int64
	// quiet is how long nothing may touch the clock before it jumps:
	// more than a woken goroutine needs to reach its next read or wait.
	quiet time.Duration
}

// defaultQuiet suits the simulator's goroutines, which touch the clock
// every few microseconds of work.
const defaultQuiet = 2 * time.Millisecond

type sleeper struct {
	at    time.Time
	wake  chan struct{}
	index int
}

type sleeperHeap []*sleeper

func (h sleeperHeap) Len() int           { return len(h) }
func (h sleeperHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h sleeperHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *sleeperHeap) Push(x any)        { s := x.(*sleeper); s.index = len(*h); *h = append(*h, s) }
func (h *sleeperHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h, s.index = old[:len(old)-1], -1
	return s
}

// Fork makes an event clock that reads the same as c now and then runs
// as real time plus its own jumps.
func (c *Clock) Fork() *Clock {
	return &Clock{base: c.Now(), real: time.Now(), scale: 1, ev: &events{active: time.Now(), quiet: defaultQuiet}}
}

// Jumps reports how many times an event clock jumped.
func (c *Clock) Jumps() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ev == nil {
		return 0
	}
	return c.ev.jumps
}

func (c *Clock) sleepEvent(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	c.mu.Lock()
	s := &sleeper{at: c.nowLocked().Add(d), wake: make(chan struct{})}
	heap.Push(&c.ev.sleepers, s)
	c.ev.active = time.Now()
	if !c.ev.advancing {
		c.ev.advancing = true
		go c.advance()
	}
	c.mu.Unlock()
	select {
	case <-s.wake:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		if s.index >= 0 {
			heap.Remove(&c.ev.sleepers, s.index)
		}
		c.mu.Unlock()
		return ctx.Err()
	}
}

// advance wakes the sleepers whose time has come, and jumps when nothing
// has touched the clock for quiet.
func (c *Clock) advance() {
	for {
		c.mu.Lock()
		wait, done := c.step()
		c.mu.Unlock()
		if done {
			return
		}
		if wait > 0 {
			time.Sleep(wait)
		}
	}
}

// step is one look of advance, under the lock: it wakes or jumps, or says
// how long to wait before looking again.
func (c *Clock) step() (wait time.Duration, done bool) {
	ev := c.ev
	if len(ev.sleepers) == 0 {
		ev.advancing = false
		return 0, true
	}
	now, next := c.nowLocked(), ev.sleepers[0].at
	idle := time.Since(ev.active)
	switch {
	case !next.After(now):
		c.wakeDue(now)
		return 0, false
	case idle >= ev.quiet:
		c.offset += next.Sub(now)
		ev.jumps++
		c.wakeDue(next)
		return 0, false
	}
	return min(ev.quiet-idle, next.Sub(now)), false
}

// wakeDue wakes the sleepers due by now; waking counts as activity.
func (c *Clock) wakeDue(now time.Time) {
	ev := c.ev
	for len(ev.sleepers) > 0 && !ev.sleepers[0].at.After(now) {
		close(heap.Pop(&ev.sleepers).(*sleeper).wake)
	}
	ev.active = time.Now()
}
