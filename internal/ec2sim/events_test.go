package ec2sim

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// When everything on an event clock waits on it, it jumps: an hour of
// waits by three sleepers costs no real time, and each wakes at its own
// time.
func TestEventClockJumpsOverWaits(t *testing.T) {
	c := NewClock(time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC), 1).Fork()
	start, realStart := c.Now(), time.Now()
	woke := make([]time.Duration, 3)
	var wg sync.WaitGroup
	for i, d := range []time.Duration{time.Hour, 20 * time.Minute, 40 * time.Minute} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, c.Sleep(context.Background(), d))
			woke[i] = c.Now().Sub(start)
		}()
	}
	wg.Wait()
	assert.Less(t, time.Since(realStart), 2*time.Second)
	for i, d := range []time.Duration{time.Hour, 20 * time.Minute, 40 * time.Minute} {
		assert.InDelta(t, d.Seconds(), woke[i].Seconds(), 1, "sleeper %d", i)
	}
	assert.Equal(t, int64(3), c.Jumps())
}

// A woken sleeper that works, reading the clock, before its next wait
// holds the clock: the next sleeper is not woken before the work (real
// time, counted once) is done, and real time passes at real speed when
// nobody waits.
func TestEventClockWaitsForAWokenSleeper(t *testing.T) {
	c := NewClock(time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC), 1).Fork()
	c.ev.quiet = 25 * time.Millisecond // the work below sleeps between reads; a busy test machine stretches its sleeps
	start := c.Now()
	var workDone, otherWoke time.Time
	var work time.Duration
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		require.NoError(t, c.Sleep(context.Background(), time.Minute))
		began := time.Now()
		for range 60 { // work that reads the clock, not waiting
			time.Sleep(500 * time.Microsecond)
			c.Now()
		}
		workDone, work = c.Now(), time.Since(began)
		require.NoError(t, c.Sleep(context.Background(), time.Second))
	}()
	go func() {
		defer wg.Done()
		require.NoError(t, c.Sleep(context.Background(), time.Minute+100*time.Millisecond))
		otherWoke = c.Now()
	}()
	wg.Wait()
	assert.False(t, otherWoke.Before(workDone), "woke at %v, before the work ended at %v", otherWoke.Sub(start), workDone.Sub(start))
	assert.InDelta(t, (time.Minute + work).Seconds(), workDone.Sub(start).Seconds(), 0.01, "the minute jumped, the work at real speed")

	before := c.Now()
	time.Sleep(20 * time.Millisecond)
	assert.InDelta(t, 0.02, c.Now().Sub(before).Seconds(), 0.01, "nobody waits: real time")
}

// A sleeper whose context ends leaves the clock; the clock does not jump
// to its time.
func TestEventClockForgetsACancelledSleeper(t *testing.T) {
	c := NewClock(time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC), 1).Fork()
	start := c.Now()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, c.Sleep(ctx, time.Hour), context.Canceled)
	time.Sleep(5 * time.Millisecond)
	assert.Less(t, c.Now().Sub(start), time.Second)
}

// Asking the deployment region which regions are enabled gives that
// region a clock (its bucket is read on it), not a fleet: DescribeRegions
// lists the seeded regions only.
func TestRegionClocksEnableNoRegion(t *testing.T) {
	sim := New()
	sim.RegionClocks = true
	sim.Requests.Factor = 1
	sim.AddVolume("eu-west-1", "", nil)
	_, err := sim.Region("us-east-1").DescribeRegions(context.Background(), &ec2.DescribeRegionsInput{})
	require.NoError(t, err)
	out, err := sim.Region("us-east-1").DescribeRegions(context.Background(), &ec2.DescribeRegionsInput{})
	require.NoError(t, err)
	require.Len(t, out.Regions, 1)
	assert.Equal(t, "eu-west-1", aws.ToString(out.Regions[0].RegionName))
	assert.NotSame(t, sim.ClockOf("eu-west-1"), sim.ClockOf("us-east-1"), "each region its own clock")
}
