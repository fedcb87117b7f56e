package ebs

import (
	"context"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/awsconf"
	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/rules"
)

// Third review: the destination's DescribeSnapshots is throttled for a few
// seconds (a burst of 4 RequestLimitExceeded: other pairs list it too).
// The 4-attempt cap is for a region that is down, not a busy one:
// throttling is retried as everywhere, and no copy is "not made".
func TestReview3ThrottledDestinationOnlyWaits(t *testing.T) {
	sim := ec2sim.New()
	clock := ec2sim.NewVirtualClock(runTime)
	sim.Clock = clock
	sim.Retryer = awsconf.NewRetryer()
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": east})
	prev := runTime.Add(-24 * time.Hour)
	for range 3 {
		v := sim.AddVolume(reg, inst, nil)
		sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: v, Start: prev, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev)}})
	}
	ctx := context.Background()
	p := copyParams(sim, runTime)
	w := Worker{EC2: sim.Region(reg), Concurrency: 2, Now: clock.Now, Sleep: clock.Sleep, LookupFor: time.Millisecond}
	j := &memJournal{}
	plan := applyPair(t, sim, w, p, j)
	throttled := 0
	var began time.Time
	sim.Fault = func(region, action string, _ any) error {
		if region == east && action == "DescribeSnapshots" && throttled < 4 {
			if throttled == 0 {
				began = clock.Now()
			}
			throttled++
			return &smithy.GenericAPIError{Code: "RequestLimitExceeded", Message: "Request limit exceeded.", Fault: smithy.FaultClient}
		}
		return nil
	}
	out, err := w.Copy(ctx, CopyJob{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: j, Destination: simDestination(sim)})
	require.NoError(t, err)
	t.Logf("throttled answers %d over %v; copies not made %d: %+v", throttled, clock.Now().Sub(began), out.CopiesNotMade(), out.Copies)
	assert.Zero(t, out.CopiesNotMade(), "a few seconds of throttling fail the run")
}
