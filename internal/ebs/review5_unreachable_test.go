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

// Fifth review: a volume whose newest copy in east is 10 days old, and the
// copy phase runs out of time before east or finds it throttled: the copy
// waits, marked behind from Discover's listing, so the report warns.
func TestReview5UnreachableWaitsAreMarkedBehind(t *testing.T) {
	for _, tc := range []string{"stop time passed", "destination throttled"} {
		t.Run(tc, func(t *testing.T) {
			sim := ec2sim.New()
			sim.Clock = ec2sim.NewVirtualClock(runTime)
			vol := sim.AddVolume(reg, sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": east}), nil)
			old := runTime.AddDate(0, 0, -10)
			src := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: vol, Start: old, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(old)}})
			sim.AddSnapshot(east, ec2sim.SnapshotSpec{Volume: rules.CopyVolumePlaceholder, Start: old.Add(time.Hour), Tags: map[string]string{"snapshot_tool": "autosnap",
				"autosnap_run": rules.RunTag(old), "autosnap_copy_of": src, "autosnap_source": reg + "/" + vol}})
			p := copyParams(sim, runTime)
			w := Worker{EC2: sim.Region(reg), Concurrency: 2, LookupFor: time.Millisecond, Now: sim.Clock.Now, Sleep: sim.Clock.Sleep}
			j := &memJournal{}
			plan := applyPair(t, sim, w, p, j)
			stop := time.Time{}
			if tc == "stop time passed" {
				stop = sim.Clock.Now().Add(-time.Second)
			} else {
				sim.Fault = func(region, action string, _ any) error {
					if region == east && action == "DescribeSnapshots" {
						return &smithy.GenericAPIError{Code: "RequestLimitExceeded", Message: "slow down", Fault: smithy.FaultClient}
					}
					return nil
				}
			}
			out, err := w.Copy(context.Background(), CopyJob{Params: p, Plan: plan, StopAt: stop, MaxDeletes: NoCeiling, Journal: j, Destination: simDestination(sim)})
			require.NoError(t, err)
			require.Len(t, out.Copies, 1)
			c := out.Copies[0]
			t.Logf("%s: waiting=%v first=%v behind=%d error=%q", c.VolumeID, c.Waiting, c.FirstCopy, c.Behind, c.Error)
			assert.True(t, c.Waiting)
			assert.NotZero(t, c.Behind, "newest copy 10 intervals old, and the copy waits: the report should warn")
		})
	}
}
