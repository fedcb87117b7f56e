package steps_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/report"
	"github.com/snapper/snapper/internal/rules"
	"github.com/snapper/snapper/internal/runstore"
	"github.com/snapper/snapper/internal/steps"
)

// The volumes' last Apply returned Copying=true but the answer was lost:
// Step Functions retries it with the old state; then the copy phase runs,
// and its answer is lost too and it is retried.
func TestReview3LostAnswersAroundTheCopyPhase(t *testing.T) {
	deps, w := newDeps(t)
	ctx := context.Background()
	const region, dest = "eu-central-1", "us-west-2"
	start := time.Date(2026, 1, 5, 3, 0, 0, 0, time.UTC)
	w.sim.Clock = ec2sim.NewVirtualClock(start)
	w.sim.CopyPendingFor = time.Hour
	inst := w.sim.AddInstance(region, map[string]string{"autosnap": "1", "autosnap_retain": "1", "autosnap_copy": dest})
	prev := start.AddDate(0, 0, -1)
	for range 3 {
		v := w.sim.AddVolume(region, inst, nil)
		w.sim.AddSnapshot(region, ec2sim.SnapshotSpec{Volume: v, Start: prev, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev)}})
	}
	task := readEvent[steps.RegionTask](t, "discover.json")
	task.Region, task.Run.Execution, task.Run.SNSArn, task.Run.Time = region, "e1", deps.SNSArn, start
	task.Run.ExecutionArn = "arn:aws:states:us-east-1:123456789012:execution:snapper-snapper:e1"
	task, err := deps.Discover(ctx, task)
	require.NoError(t, err)
	lost, err := deps.Apply(ctx, task) // answer lost
	require.NoError(t, err)
	require.True(t, lost.Copying)
	task, err = deps.Apply(ctx, task) // the retry
	require.NoError(t, err)
	require.True(t, task.Copying)
	_, err = deps.Apply(ctx, task) // copy phase, answer lost
	require.NoError(t, err)
	task, err = deps.Apply(ctx, task) // retried
	require.NoError(t, err)
	require.True(t, task.Done)
	var sum report.Region
	require.NoError(t, deps.Store.Get(ctx, runstore.SummaryKey("e1", task.Account, region), &sum))
	t.Logf("summary: created %d deleted %d waiting %d; copies started %d waiting %d not made %d; errors %v",
		sum.Created, sum.Deleted, sum.Waiting, sum.CopiesStarted, sum.CopiesWaiting, sum.CopiesNotMade, sum.Errors)
	assert.Len(t, w.sim.Snapshots(dest), 3)
	assert.Equal(t, 3, sum.Created)
	assert.Equal(t, 3, sum.CopiesStarted)
	assert.Len(t, w.sim.Snapshots(region), 3)
}
