package runstore

import (
	"context"
	"fmt"

	"github.com/snapper/snapper/internal/errkind"
)

// Lease says which execution handles a pair (SPEC 4): EventBridge
// Scheduler delivers at least once, so two executions for one scheduled
// time may run at once, and both would find no snapshot of the run yet.
type Lease struct {
	Execution    string `json:"execution"`
	ExecutionArn string `json:"execution_arn"`
	Run          string `json:"run"`
}

// Running tells whether the execution with this ARN is still RUNNING.
type Running func(ctx context.Context, executionArn string) (bool, error)

// leaseRounds bounds how often TakeLease looks again after losing a race.
const leaseRounds = 5

// TakeLease takes the pair's lease for me, or returns the name of the
// execution that holds it and is still running. A holder that has ended
// is taken over by a conditional write on the version read, so that of
// several late executions only one takes over; the others look again and
// find it running.
func (s Store) TakeLease(ctx context.Context, key string, me Lease, running Running) (holder string, err error) {
	for range leaseRounds {
		created, err := s.Create(ctx, key, me)
		if err != nil || created {
			return "", err
		}
		var current Lease
		etag, err := s.GetETag(ctx, key, &current)
		switch {
		case errkind.Is(err, errkind.NoSuchKey, errkind.NotFound):
			continue // gone between the two calls: try to create it again
		case err != nil:
			return "", err
		case current.Execution == me.Execution:
			return "", nil // this execution's first step, retried
		}
		alive, err := running(ctx, current.ExecutionArn)
		if err != nil || alive {
			return current.Execution, err
		}
		replaced, err := s.Replace(ctx, key, me, etag)
		if err != nil || replaced {
			return "", err
		}
	}
	return "", fmt.Errorf("lease %s: still contended after %d rounds", key, leaseRounds)
}
