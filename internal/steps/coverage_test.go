package steps_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/report"
	"github.com/snapper/snapper/internal/runstore"
	"github.com/snapper/snapper/internal/steps"
)

// TestCoverageIsJudgedWhenThePairsWorkEnds runs a pair's steps on the
// simulator: two volumes overdue at discovery get a new snapshot, one of
// which ends in error; an orphan in error is deleted, a completed one kept.
// Whether the new snapshot clears its volume depends on its state when the
// pair's work ends (SPEC 6): the report looks it up then, since nothing
// else watches a new snapshot that displaces nothing.
func TestCoverageIsJudgedWhenThePairsWorkEnds(t *testing.T) {
	tests := []struct {
		name        string
		pendingFor  time.Duration
		wantOverdue []string
	}{
		{"new snapshots complete at once: only the one in error stays overdue", 0, []string{"failing"}},
		{"new snapshots still pending when the work ends do not clear their volume", time.Hour, []string{"failing", "stale"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			deps, w := newDeps(t)
			ctx := context.Background()
			region := "eu-central-1"
			now := w.sim.Clock.Now().UTC().Truncate(time.Second)
			w.sim.PendingFor = tc.pendingFor
			tool := map[string]string{"snapshot_tool": "autosnap"}
			volume := func(daysAgo int) string {
				v := w.sim.AddVolume(region, w.sim.AddInstance(region, map[string]string{"autosnap": "1", "autosnap_retain": "3"}), nil)
				w.sim.AddSnapshot(region, ec2sim.SnapshotSpec{Volume: v, Start: now.AddDate(0, 0, -daysAgo), Tags: tool})
				return v
			}
			names := map[string]string{volume(5): "stale", volume(1): "fresh"}
			failing := volume(5)
			names[failing] = "failing"
			w.sim.FailNew = func(_, vol string) bool { return vol == failing }
			keptOrphan := w.sim.AddSnapshot(region, ec2sim.SnapshotSpec{Volume: "vol-gone", Start: now.AddDate(0, 0, -60), Tags: tool})
			brokenOrphan := w.sim.AddSnapshot(region, ec2sim.SnapshotSpec{Volume: "vol-gone", Start: now.AddDate(0, 0, -60), State: "error", Tags: tool})

			task := readEvent[steps.RegionTask](t, "discover.json")
			task.Region, task.Run.Execution, task.Run.SNSArn, task.Run.Time = region, "coverage-pending-"+tc.pendingFor.String(), deps.SNSArn, now
			task, err := deps.Discover(ctx, task)
			require.NoError(t, err)
			for !task.Done {
				task, err = deps.Apply(ctx, task)
				require.NoError(t, err)
			}
			var summary report.Region
			require.NoError(t, deps.Store.Get(ctx, runstore.SummaryKey(task.Run.Execution, task.Account, region), &summary))

			var overdue []string
			for _, o := range summary.Overdue {
				overdue = append(overdue, names[o.VolumeID])
				assert.Equal(t, report.OverdueVolume{VolumeID: o.VolumeID, AgeUnits: 5, Every: 1}, o)
			}
			assert.ElementsMatch(t, tc.wantOverdue, overdue)
			require.NotNil(t, summary.Coverage)
			assert.Equal(t, len(tc.wantOverdue), summary.Coverage.OverdueVolumes)
			assert.Equal(t, 1, summary.Coverage.OrphanedSnapshots)
			require.Len(t, summary.Orphans, 1)
			assert.Equal(t, keptOrphan, summary.Orphans[0].SnapshotID)
			assert.Equal(t, 1, summary.Deleted, "the orphan in error is deleted, and counted")
			left := map[string]bool{}
			for _, s := range w.sim.Snapshots(region) {
				left[s.ID] = true
			}
			assert.True(t, left[keptOrphan], "an orphan is never pruned")
			assert.False(t, left[brokenOrphan], "an orphan in error is deleted")
		})
	}
}
