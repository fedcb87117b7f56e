package preview

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ebs"
	"github.com/snapper/snapper/internal/ec2sim"
)

// A run deletes the tool's orphaned snapshots in state error (SPEC 6):
// the preview lists them with the other deletions, and leaves a completed
// orphan alone.
func TestPlanListsTheErrorOrphansARunDeletes(t *testing.T) {
	sim := ec2sim.New()
	const r = "eu-west-1"
	sim.AddVolume(r, sim.AddInstance(r, map[string]string{"autosnap": "1", "autosnap_retain": "2"}), nil)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	broken := sim.AddSnapshot(r, ec2sim.SnapshotSpec{Volume: "vol-gone", Start: start, State: "error", Tags: map[string]string{"snapshot_tool": "autosnap"}})
	kept := sim.AddSnapshot(r, ec2sim.SnapshotSpec{Volume: "vol-gone", Start: start, Tags: map[string]string{"snapshot_tool": "autosnap"}})
	run := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	reg, err := regionPlan(context.Background(), sim.Region(r), r, ebs.Params{Prefix: "autosnap", Interval: 86400, Run: run, DryRun: true})
	require.NoError(t, err)
	var deleted []string
	for _, d := range reg.Delete {
		deleted = append(deleted, d.SnapshotID)
	}
	assert.Contains(t, deleted, broken)
	assert.NotContains(t, deleted, kept, "a completed orphan is never deleted")
}
