package steps_test

import (
	"context"

	"testing"
	"time"

	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/report"
	"github.com/snapper/snapper/internal/rules"
	"github.com/snapper/snapper/internal/runstore"
	"github.com/snapper/snapper/internal/steps"
	"github.com/snapper/snapper/internal/testkit"
)

// A pair remembers where its copies are (the run bucket's copies/), so
// that after P_copy is removed the next run still reads that region: the
// source of a copy still pending there stays (SPEC 12).
func TestPairRemembersWhereItsCopiesAre(t *testing.T) {
	deps, w := newDeps(t)
	ctx := context.Background()
	const region, dest = "eu-central-1", "us-west-2"
	w.sim.CopyPendingFor = 100 * time.Hour
	// Fast, so that EC2's per-volume rate limit lets the second run's
	// snapshot through at once.
	w.sim.Clock = ec2sim.NewClock(time.Now(), 1000)
	now := w.sim.Clock.Now().UTC().Truncate(time.Second)
	tags := map[string]string{"autosnap": "1", "autosnap_retain": "1", "autosnap_copy": dest}
	inst := w.sim.AddInstance(region, tags)
	vol := w.sim.AddVolume(region, inst, nil)
	prev := now.AddDate(0, 0, -1)
	w.sim.AddSnapshot(region, ec2sim.SnapshotSpec{Volume: vol, Start: prev, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev)}})

	task, _ := runPair(t, deps, region, "first", now)
	var known struct {
		Regions map[string]time.Time `json:"regions"`
	}
	require.NoError(t, deps.Store.Get(ctx, runstore.CopyDestinationsKey(task.Account, "autosnap", region), &known))
	assert.Equal(t, map[string]time.Time{dest: now}, known.Regions)
	copies := w.sim.Snapshots(dest)
	require.Len(t, copies, 1)
	source := copies[0].Tags["autosnap_copy_of"]
	require.Equal(t, "pending", copies[0].State)

	// The tag is removed; the next day's run would displace the copied
	// source (retain 1), but its copy is still pending.
	w.sim.RemoveTag(region, inst, "autosnap_copy")
	_, secondSummary := runPair(t, deps, region, "second", now.AddDate(0, 0, 1))
	require.Equal(t, 1, secondSummary.Created, "the second run made its snapshot, which displaces the copied one")
	var left []string
	for _, s := range w.sim.Snapshots(region) {
		left = append(left, s.ID)
	}
	assert.Contains(t, left, source)
}

// runPair runs one pair of one execution to its end, as its child
// execution does, and returns its summary; the execution then counts as
// ended, so its lease does not hold a later run.
func runPair(t *testing.T, deps steps.Deps, region, execution string, at time.Time) (steps.RegionTask, report.Region) {
	t.Helper()
	ctx := context.Background()
	task := readEvent[steps.RegionTask](t, "discover.json")
	task.Region, task.Run.Execution, task.Run.SNSArn, task.Run.Time = region, execution, deps.SNSArn, at
	task.Run.ExecutionArn = "arn:aws:states:us-east-1:123456789012:execution:snapper-snapper:" + execution
	task, err := deps.Discover(ctx, task)
	require.NoError(t, err)
	for !task.Done {
		task, err = deps.Apply(ctx, task)
		require.NoError(t, err)
	}
	deps.SFN.(*testkit.SFN).Set(task.Run.ExecutionArn, sfntypes.ExecutionStatusSucceeded)
	var summary report.Region
	require.NoError(t, deps.Store.Get(ctx, runstore.SummaryKey(execution, task.Account, region), &summary))
	return task, summary
}
