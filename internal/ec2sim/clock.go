package ec2sim

import (
	"context"
	"sync"
	"time"
)

// Clock is the simulator's time, of one of three kinds: scaled (NewClock:
// Scale times real time, sleeps take 1/Scale of the real time), virtual
// (NewVirtualClock: moves only when slept on) or event (Fork: real time
// plus jumps over the waits, events.go).
type Clock struct {
	mu    sync.Mutex
	base  time.Time
	real  time.Time
	scale float64
	// virtual clocks never wait: Sleep moves them on. Exact for a program
	// that makes one call at a time (the naive baseline).
	virtual bool
	// offset is what a virtual clock was slept on, or what an event clock
	// jumped.
	offset time.Duration
	ev     *events
}

// NewVirtualClock starts a clock at base that moves only when slept on.
func NewVirtualClock(base time.Time) *Clock {
	return &Clock{base: base, scale: 1, virtual: true}
}

// NewClock starts a clock at base running scale times real time.
func NewClock(base time.Time, scale float64) *Clock {
	if scale <= 0 {
		scale = 1
	}
	return &Clock{base: base, real: time.Now(), scale: scale}
}

// Scale is how many simulated seconds pass per real second.
func (c *Clock) Scale() float64 { return c.scale }

// Now is the simulated time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ev != nil {
		c.ev.active = time.Now() // a reader is running: no jump now
	}
	return c.nowLocked()
}

// Peek reads the clock without counting as activity: an event clock may
// jump while only watchers read it.
func (c *Clock) Peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Clock) nowLocked() time.Time {
	if c.virtual {
		return c.base.Add(c.offset)
	}
	return c.base.Add(time.Duration(float64(time.Since(c.real))*c.scale) + c.offset)
}

// Real converts a simulated duration into real time.
func (c *Clock) Real(d time.Duration) time.Duration { return time.Duration(float64(d) / c.scale) }

// Sleep waits d of simulated time.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if c.virtual {
		c.mu.Lock()
		c.offset += d
		c.mu.Unlock()
		return ctx.Err()
	}
	if c.ev != nil {
		return c.sleepEvent(ctx, d)
	}
	t := time.NewTimer(c.Real(d))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
