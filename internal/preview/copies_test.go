package preview

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/rules"
)

// The preview reads the copy destinations as a run does (SPEC 12): a
// source whose copy is still pending is not shown deleted, and a P_copy
// naming a region the partition does not have is a problem volume.
func TestPlanKeepsSourcesOfPendingCopies(t *testing.T) {
	sim := ec2sim.New()
	const r, dest = "eu-west-1", "us-east-1"
	vol := sim.AddVolume(r, sim.AddInstance(r, map[string]string{"autosnap": "1", "autosnap_retain": "1", "autosnap_copy": dest}), nil)
	typo := sim.AddVolume(r, sim.AddInstance(r, map[string]string{"autosnap": "1", "autosnap_retain": "1", "autosnap_copy": "us-east-9"}), nil)
	run := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	prev := run.Add(-24 * time.Hour)
	src := sim.AddSnapshot(r, ec2sim.SnapshotSpec{Volume: vol, Start: prev, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev)}})
	sim.AddSnapshot(dest, ec2sim.SnapshotSpec{Volume: rules.CopyVolumePlaceholder, Start: prev, State: "pending", Tags: map[string]string{
		"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev), "autosnap_copy_of": src, "autosnap_source": r + "/" + vol}})
	params := ebs.Params{Prefix: "autosnap", Interval: 86400, Run: run, DryRun: true}
	params.Elsewhere = elsewhere(context.Background(), func(region string) EC2 { return sim.Region(region) }, r)
	reg, err := regionPlan(context.Background(), sim.Region(r), r, params)
	require.NoError(t, err)
	assert.Empty(t, reg.Delete, "retain 1 would displace it, but its copy is pending")
	require.Len(t, reg.Problems, 1)
	assert.Equal(t, typo, reg.Problems[0].VolumeID)
	assert.Contains(t, reg.Problems[0].Reason, "not a region of this partition")
}
