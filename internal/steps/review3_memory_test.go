package steps_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/rules"
	"github.com/snapper/snapper/internal/runstore"
)

// Third review: a region only remembered (P_copy removed) that cannot be
// read any more (opted out, an SCP) holds every snapshot of the pair while
// remembered; a run that cannot read it does not refresh its entry, so it
// is forgotten a month after its last copy and retention resumes.
func TestReview3UnreadableRememberedRegionIsForgotten(t *testing.T) {
	deps, w := newDeps(t)
	ctx := context.Background()
	const region, dest = "eu-central-1", "us-west-2"
	start := time.Date(2026, 1, 5, 3, 0, 0, 0, time.UTC)
	w.sim.Clock = ec2sim.NewVirtualClock(start)
	inst := w.sim.AddInstance(region, map[string]string{"autosnap": "1", "autosnap_retain": "1", "autosnap_copy": dest})
	vol := w.sim.AddVolume(region, inst, nil)
	prev := start.AddDate(0, 0, -1)
	w.sim.AddSnapshot(region, ec2sim.SnapshotSpec{Volume: vol, Start: prev, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev)}})
	runPair(t, deps, region, "day0", start)
	require.NotEmpty(t, w.sim.Snapshots(dest))
	w.sim.RemoveTag(region, inst, "autosnap_copy")
	w.sim.Fault = func(r, action string, _ any) error {
		if r == dest && action == "DescribeSnapshots" {
			return &smithy.GenericAPIError{Code: "OptInRequired", Message: "region disabled", Fault: smithy.FaultClient}
		}
		return nil
	}
	for day := 1; day <= 45; day++ {
		_ = w.sim.Clock.Sleep(ctx, 24*time.Hour)
		runPair(t, deps, region, fmt.Sprintf("day%d", day), start.AddDate(0, 0, day))
	}
	var memory struct {
		Regions map[string]time.Time `json:"regions"`
	}
	require.NoError(t, deps.Store.Get(ctx, runstore.CopyDestinationsKey("123456789012", "autosnap", region), &memory))
	known := memory.Regions
	n := 0
	for _, s := range w.sim.Snapshots(region) {
		if s.Tags["snapshot_tool"] == "autosnap" {
			n++
		}
	}
	t.Logf("after 45 days without a readable copy: memory %v; autosnap snapshots of the retain-1 volume: %d", known, n)
	assert.NotContains(t, known, dest, "README: a region is forgotten a month after its last copy")
	assert.LessOrEqual(t, n, 2, "retain 1")
}
