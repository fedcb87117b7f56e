package ebs

import (
	"context"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/rules"
)

// Third review: a destination whose CopySnapshot answers 5xx (describes
// fine) costs 3 attempts per copy, each followed by a P_copy_of poll; the
// attempts and the polls stop at StopAt, so the phase does not outlive its
// Lambda (Apply's margin between StopAt and the deadline is 2 minutes).
func TestReview3CopyPhaseStopsAtStopAt(t *testing.T) {
	sim := ec2sim.New()
	clock := ec2sim.NewVirtualClock(runTime)
	sim.Clock = clock
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": east})
	prev := runTime.Add(-24 * time.Hour)
	for range 3 {
		v := sim.AddVolume(reg, inst, nil)
		sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: v, Start: prev, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev)}})
	}
	ctx := context.Background()
	p := copyParams(sim, runTime)
	w := Worker{EC2: sim.Region(reg), Concurrency: 2, Now: clock.Now, Sleep: clock.Sleep}
	plan := applyPair(t, sim, w, p, &memJournal{})
	sim.Fault = func(region, action string, _ any) error {
		if region == east && action == "CopySnapshot" {
			return &smithy.GenericAPIError{Code: "InternalError", Message: "We encountered an internal error", Fault: smithy.FaultServer}
		}
		return nil
	}
	begin := clock.Now()
	stopAt := begin.Add(30 * time.Second)
	out, err := w.Copy(ctx, CopyJob{Params: p, Plan: plan, StopAt: stopAt, MaxDeletes: NoCeiling, Journal: &memJournal{}, Destination: simDestination(sim)})
	require.NoError(t, err)
	over := clock.Now().Sub(stopAt)
	t.Logf("copy phase ran %v past StopAt (Lambda deadline = StopAt + 2m); outcomes %+v", over, out.Copies)
	assert.Less(t, over, 2*time.Minute, "the Lambda would have been killed before recording its part")
}
