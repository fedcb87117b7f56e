package localaws

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/snapper/snapper/internal/ec2sim"
)

// With the simulator's region clocks (ec2sim.Sim.RegionClocks), a region's
// invocations run on its clock: their deadline is the function's timeout
// on that clock, not in real time, so that the time the clock jumps over
// (EC2's waits) counts toward it as it would in Lambda.

type deadlineKey struct{}

// ClockDeadline is the invocation's deadline on its region's clock, for
// steps.Deps.Deadline.
func ClockDeadline(ctx context.Context) (time.Time, bool) {
	dl, ok := ctx.Value(deadlineKey{}).(time.Time)
	return dl, ok
}

// withClockDeadline gives ctx a deadline of timeout on clock: the context
// ends soon after the clock passes it. The watch only reads the clock: a
// sleeper would be the one the clock jumps to while the handler works.
func withClockDeadline(ctx context.Context, clock *ec2sim.Clock, timeout time.Duration) (context.Context, context.CancelFunc) {
	deadline := clock.Now().Add(timeout)
	ctx, cancel := context.WithCancel(context.WithValue(ctx, deadlineKey{}, deadline))
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if !clock.Peek().Before(deadline) {
					cancel()
					return
				}
			}
		}
	}()
	return ctx, cancel
}

// pairOfPayload reads the account and region a step's state names.
func pairOfPayload(payload []byte) (account, region string) {
	var v struct {
		Account string `json:"account"`
		Region  string `json:"region"`
	}
	_ = json.Unmarshal(payload, &v)
	return v.Account, v.Region
}

// Invocation is one function invocation as the timeline records it, its
// times on the clock it ran on (its region's, or real time).
type Invocation struct {
	Function string
	// Execution, Account and Region are what the step's state names: a
	// pair's steps run in child executions, whose states the parent's
	// history does not show, so tests and `local run` follow them here.
	Execution, Account, Region string
	Start, End                 time.Time
	// Real is how long it took on this machine, RealEnd when it ended.
	Real    time.Duration
	RealEnd time.Time
	// Error is the error type the invocation ended with, if any; the
	// sizes are the state that went in and came out.
	Error                   string
	InputBytes, OutputBytes int
}

// invocationOf reads what a step's payload names.
func invocationOf(function string, payload []byte) Invocation {
	var v struct {
		Run struct {
			Execution string `json:"execution"`
		} `json:"run"`
		Account string `json:"account"`
		Region  string `json:"region"`
	}
	_ = json.Unmarshal(payload, &v)
	return Invocation{Function: function, Execution: v.Run.Execution, Account: v.Account, Region: v.Region, InputBytes: len(payload)}
}

// Of is the invocations of one execution's pairs (and its run-wide steps
// once Plan has named it).
func (t *Timeline) Of(execution string) []Invocation {
	var out []Invocation
	for _, inv := range t.Invocations() {
		if inv.Execution == execution {
			out = append(out, inv)
		}
	}
	return out
}

// Timeline records every invocation, for the benchmark's phases and cost.
type Timeline struct {
	mu   sync.Mutex
	list []Invocation
}

func (t *Timeline) add(inv Invocation) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.list = append(t.list, inv)
}

// Invocations returns what was recorded so far.
func (t *Timeline) Invocations() []Invocation {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Invocation(nil), t.list...)
}
