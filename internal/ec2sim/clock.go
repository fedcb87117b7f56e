package ec2sim

import (
	"context"
	"sync"
	"time"
)

// Clock is simulated time that runs Scale times faster than real time,
// from Base at the moment it was made. Sleeps take 1/Scale of the real time.
type Clock struct {
	mu    sync.Mutex
	base  time.Time
	real  time.Time
	scale float64
	// virtual clocks never wait: Sleep moves them on. Exact for a program
	// that makes one call at a time (the naive baseline).
	virtual bool
	offset  time.Duration
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
	if c.virtual {
		return c.base.Add(c.offset)
	}
	return c.base.Add(time.Duration(float64(time.Since(c.real)) * c.scale))
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
	t := time.NewTimer(c.Real(d))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
