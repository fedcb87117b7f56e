package ebs

import (
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/rules"
)

// Fourth review: the first run of a new DR setup, copy_concurrency 1, two
// volumes. The second waits for its first copy: marked as such (one line
// per destination in the report), never as "more than two intervals behind".
func TestReview4FirstCopyIsNotBehind(t *testing.T) {
	sim := ec2sim.New()
	sim.CopyPendingFor = time.Hour
	for range 2 {
		sim.AddVolume(reg, sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": east}), nil)
	}
	p := copyParams(sim, runTime)
	p.CopyConcurrency = 1
	res := runWithCopies(t, sim, p, &memJournal{}, func() { sim.PendingFor = 0 })
	for _, c := range res.copied.Copies {
		t.Logf("%s: copy=%q waiting=%v first=%v behind=%d", c.VolumeID, c.CopyID, c.Waiting, c.FirstCopy, c.Behind)
	}
	for _, c := range res.copied.Copies {
		if c.Waiting {
			assert.Zero(t, c.Behind, "day 0 of DR: not two intervals behind anything")
			assert.True(t, c.FirstCopy)
		}
	}
}

// Fourth review: EC2's own copy limit (other copies fill it): the volume
// furthest behind goes first (byCopyAge), meets ResourceLimitExceeded, and
// waits; it is marked behind like every waiting copy that lags.
func TestReview4MostBehindIsMarkedAtEC2Limit(t *testing.T) {
	sim := ec2sim.New()
	sim.Fault = func(region, action string, _ any) error {
		if region == east && action == "CopySnapshot" {
			return &smithy.GenericAPIError{Code: "ResourceLimitExceeded", Message: "too many copies in progress", Fault: smithy.FaultClient}
		}
		return nil
	}
	age := map[string]int{}
	for _, days := range []int{10, 5} {
		vol := sim.AddVolume(reg, sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": east}), nil)
		age[vol] = days
		run := runTime.AddDate(0, 0, -days)
		src := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: vol, Start: run, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(run)}})
		sim.AddSnapshot(east, ec2sim.SnapshotSpec{Volume: rules.CopyVolumePlaceholder, Start: run.Add(time.Hour), Tags: map[string]string{"snapshot_tool": "autosnap",
			"autosnap_run": rules.RunTag(run), "autosnap_copy_of": src, "autosnap_source": reg + "/" + vol}})
	}
	res := runWithCopies(t, sim, copyParams(sim, runTime), &memJournal{})
	require.Len(t, res.copied.Copies, 2)
	for _, c := range res.copied.Copies {
		t.Logf("%s (newest copy %d days old): waiting=%v behind=%d", c.VolumeID, age[c.VolumeID], c.Waiting, c.Behind)
	}
	for _, c := range res.copied.Copies {
		assert.EqualValues(t, age[c.VolumeID], c.Behind, "%s: newest copy %d days old, daily schedule, waiting", c.VolumeID, age[c.VolumeID])
	}
}
