package ebs

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/rules"
	"github.com/snapper/snapper/internal/testkit"
)

// The faults of issue 10, one region at a time on the simulator. Each test
// names the fault it injects; where the fault needs the fix to be harmless,
// the test also shows the damage without it.

// EC2 treats ? in a filter value as a wildcard: prefix "auto?nap" lists
// autosnap's snapshots. The input refuses such a prefix; below it, the
// listing's exact snapshot_tool comparison must keep them out.
func TestWildcardPrefixNeverTouchesAnotherPrefix(t *testing.T) {
	sim := ec2sim.New()
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "7", "auto?nap": "1", "auto?nap_retain": "1"})
	v := sim.AddVolume(reg, inst, nil)
	var theirs []string
	for d := 1; d <= 3; d++ {
		theirs = append(theirs, sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: v, Start: runTime.AddDate(0, 0, -d), Tags: toolTags("autosnap")}))
	}
	p := params()
	p.Prefix = "auto?nap"

	_, deleted, _ := runRegion(t, sim, p, 10)

	assert.Empty(t, deleted)
	left := map[string]bool{}
	for _, s := range sim.Snapshots(reg) {
		left[s.ID] = true
	}
	for _, id := range theirs {
		assert.True(t, left[id], "autosnap's %s survives the auto?nap run", id)
	}
}

// io2 Multi-Attach: the volume is attached to an unmanaged instance whose
// id sorts first and to a managed one. It is managed (SPEC 3).
func TestMultiAttachVolumeOfAManagedInstanceIsSnapshotted(t *testing.T) {
	sim := ec2sim.New()
	unmanaged := sim.AddInstance(reg, map[string]string{"Name": "scratch"})
	managed := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "2", "Name": "db"})
	require.Less(t, unmanaged, managed)
	v := sim.AddVolume(reg, unmanaged, nil)
	sim.Attach(reg, v, managed)

	created, _, _ := runRegion(t, sim, params(), 10)

	require.Len(t, created, 1)
	assert.Equal(t, v, created[0].VolumeID)
	assert.Equal(t, 1, testkit.RunTagged(sim, reg, runTime)[v])
}

// A lost attempt handles all ten volumes; its retry at the same cursor
// gets less far (its clock runs out after four); the continuation from
// there must make nothing twice, though EC2's describes do not show the
// lost attempt's snapshots yet. Without the journal the same faults make
// duplicates (on the old main, with its per-cursor marker: six).
func TestRetryThatGetsLessFarMakesNoDuplicate(t *testing.T) {
	for _, withJournal := range []bool{true, false} {
		sim := ec2sim.New()
		sim.Clock = ec2sim.NewVirtualClock(runTime)
		sim.DescribeLag = time.Hour // the describe never catches up in this test
		for range 10 {
			sim.AddVolume(reg, sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3"}), nil)
		}
		ctx := context.Background()
		plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, params())
		require.NoError(t, err)
		var journal Journal
		if withJournal {
			journal = &memJournal{}
		}
		job := func(from int, stopAt time.Time) Job {
			return Job{Params: params(), Plan: plan, From: from, StopAt: stopAt, MaxDeletes: NoCeiling, Journal: journal}
		}
		w := Worker{EC2: sim.Region(reg), Concurrency: 1, Window: 1, Sleep: sim.Clock.Sleep}
		_, next, err := w.Apply(ctx, job(0, time.Time{})) // its answer is lost
		require.NoError(t, err)
		require.Equal(t, 10, next)
		short := Worker{EC2: sim.Region(reg), Concurrency: 1, Window: 1, Now: stepClock(), Sleep: sim.Clock.Sleep}
		_, next, err = short.Apply(ctx, job(0, runTime.Add(3*time.Second)))
		require.NoError(t, err)
		require.Equal(t, 4, next, "the retry got less far")
		_, next, err = w.Apply(ctx, job(next, time.Time{}))
		require.NoError(t, err)
		require.Equal(t, 10, next)

		dups := 0
		for _, n := range testkit.RunTagged(sim, reg, runTime) {
			dups += n - 1
		}
		if withJournal {
			assert.Zero(t, dups, "one snapshot per volume")
		} else {
			assert.Positive(t, dups, "the fault is real: without the journal the lagging describe lets volumes get a second snapshot")
		}
	}
}

// CreateSnapshot's answer is lost after EC2 made the snapshot (a 5xx on
// the way back), and EC2's describes lag by 20 s. The create is not
// retried blindly: the snapshot is looked up by its run tag, polling
// through the lag, and found.
func TestLostCreateAnswerIsFoundThroughDescribeLag(t *testing.T) {
	sim := ec2sim.New()
	sim.Clock = ec2sim.NewVirtualClock(runTime)
	sim.DescribeLag = 20 * time.Second
	var mu sync.Mutex
	lost := map[string]bool{}
	sim.LoseAnswer = func(_, action string, in any) error {
		mu.Lock()
		defer mu.Unlock()
		if action != "CreateSnapshot" || len(lost) >= 3 {
			return nil
		}
		lost[time.Now().String()] = true
		return &smithy.GenericAPIError{Code: "InternalError", Message: "lost on the way back", Fault: smithy.FaultServer}
	}
	for range 5 {
		sim.AddVolume(reg, sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3"}), nil)
	}
	ctx := context.Background()
	plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, params())
	require.NoError(t, err)
	w := Worker{EC2: sim.Region(reg), Concurrency: 1, Now: sim.Clock.Now, Sleep: sim.Clock.Sleep}
	out, _, err := w.Apply(ctx, Job{Params: params(), Plan: plan, MaxDeletes: NoCeiling, Journal: &memJournal{}})
	require.NoError(t, err)

	for v, n := range testkit.RunTagged(sim, reg, runTime) {
		assert.Equal(t, 1, n, "one snapshot of %s", v)
	}
	assert.Len(t, testkit.RunTagged(sim, reg, runTime), 5)
	recovered := 0
	for _, c := range out.Created {
		assert.Empty(t, c.Error)
		if c.Recovered {
			recovered++
		}
	}
	assert.Equal(t, 3, recovered, "the three lost answers were looked up, not re-created")
	assert.Zero(t, out.NotMade())
}

// K=1: the new snapshot is accepted, then ends in error. The old one is
// the volume's only good snapshot and must stay; the failure is reported
// as a snapshot not made. The healthy volume's old snapshot goes only once
// its new one is completed, which may be a later invocation.
func TestNewSnapshotInErrorDisplacesNothing(t *testing.T) {
	sim := ec2sim.New()
	sim.Clock = ec2sim.NewVirtualClock(runTime)
	sim.PendingFor = 10 * time.Minute
	bad := sim.AddVolume(reg, sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "1"}), nil)
	good := sim.AddVolume(reg, sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "1"}), nil)
	badOld := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: bad, Start: runTime.AddDate(0, 0, -1), Tags: toolTags("autosnap")})
	goodOld := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: good, Start: runTime.AddDate(0, 0, -1), Tags: toolTags("autosnap")})
	badBroken := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: bad, Start: runTime.AddDate(0, 0, -2), State: "error", Tags: toolTags("autosnap")})
	sim.FailNew = func(_, vol string) bool { return vol == bad }
	ctx := context.Background()
	plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, params())
	require.NoError(t, err)
	journal := &memJournal{}
	w := Worker{EC2: sim.Region(reg), Concurrency: 2, Now: sim.Clock.Now, Sleep: sim.Clock.Sleep}
	left := func() map[string]bool {
		out := map[string]bool{}
		for _, s := range sim.Snapshots(reg) {
			out[s.ID] = true
		}
		return out
	}

	out, next, err := w.Apply(ctx, Job{Params: params(), Plan: plan, MaxDeletes: NoCeiling, Journal: journal})
	require.NoError(t, err)
	require.Equal(t, 2, next)
	assert.False(t, out.Unfinished, "nothing is completed yet: the pair's work is done, the next run decides")
	assert.True(t, left()[badOld] && left()[goodOld], "nothing goes while the new snapshots are pending")

	require.NoError(t, sim.Clock.Sleep(ctx, 10*time.Minute))
	out, _, err = w.Apply(ctx, Job{Params: params(), Plan: plan, From: next, MaxDeletes: NoCeiling, Journal: journal})
	require.NoError(t, err)
	assert.True(t, left()[badOld], "the only good snapshot of the failed volume stays")
	assert.True(t, left()[badBroken], "a volume whose snapshot failed in this run has nothing deleted, error snapshots included")
	assert.False(t, left()[goodOld], "displaced once its new snapshot completed")
	assert.Equal(t, 1, out.NotMade(), "the snapshot in error is not made")
}

// A first execution's snapshot of this run ended in error; a second
// execution for the same run time (a late delivery taking the lease over,
// or a re-run) must make the volume's snapshot, not count the broken one
// as made (found by review).
func TestRerunAfterASnapshotInErrorMakesOne(t *testing.T) {
	sim := ec2sim.New()
	v := sim.AddVolume(reg, sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "1"}), nil)
	old := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: v, Start: runTime.AddDate(0, 0, -1), Tags: toolTags("autosnap")})
	broken := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: v, Start: runTime, State: "error",
		Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(runTime)}})
	journal := &memJournal{made: Made{Snapshots: map[string]string{v: broken}, Settled: map[string]string{broken: rules.StateError}}}
	ctx := context.Background()
	p := params()
	p.Execution = "exec-2"
	plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, p)
	require.NoError(t, err)
	require.True(t, plan.Volumes[0].Create)

	out, _, err := Worker{EC2: sim.Region(reg), Concurrency: 1}.Apply(ctx, Job{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: journal})
	require.NoError(t, err)

	good := 0
	for _, s := range sim.Snapshots(reg) {
		if s.Volume == v && s.Tags["autosnap_run"] == rules.RunTag(runTime) && s.State != "error" {
			good++
		}
	}
	assert.Equal(t, 1, good, "the run time has its snapshot")
	require.Len(t, out.Created, 1)
	assert.False(t, out.Created[0].Earlier)
	left := map[string]bool{}
	for _, s := range sim.Snapshots(reg) {
		left[s.ID] = true
	}
	assert.False(t, left[old], "K=1: the new completed snapshot displaces the old one")
}

// The lost attempt deleted what its completed snapshots displaced; its
// outcome record is lost with it. The retry at the same cursor reports
// those deletions again (EC2 answers NotFound: success), so the region's
// report does not under-count, and deletes nothing more.
func TestRetryReportsTheLostAttemptsDeletions(t *testing.T) {
	sim := ec2sim.New()
	var displaced []string
	for range 3 {
		v := sim.AddVolume(reg, sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "1"}), nil)
		displaced = append(displaced, sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: v, Start: runTime.AddDate(0, 0, -1), Tags: toolTags("autosnap")}))
	}
	ctx := context.Background()
	plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, params())
	require.NoError(t, err)
	journal := &memJournal{}
	w := Worker{EC2: sim.Region(reg), Concurrency: 1}
	lost, _, err := w.Apply(ctx, Job{Params: params(), Plan: plan, MaxDeletes: NoCeiling, Journal: journal})
	require.NoError(t, err)
	require.Len(t, lost.Deleted, 3)
	left := len(sim.Snapshots(reg))

	retry, _, err := w.Apply(ctx, Job{Params: params(), Plan: plan, MaxDeletes: NoCeiling, Journal: journal})
	require.NoError(t, err)

	var reported []string
	for _, d := range retry.Deleted {
		assert.Empty(t, d.Error)
		reported = append(reported, d.SnapshotID)
	}
	assert.ElementsMatch(t, displaced, reported)
	assert.Len(t, sim.Snapshots(reg), left, "nothing more deleted, nothing more made")
}

// The re-run's create answer is lost, and this run time already has an
// error snapshot of the volume: the lookup must find the new snapshot, not
// take the broken one for it.
func TestLostAnswerLookupSkipsThisRunsErrorSnapshot(t *testing.T) {
	sim := ec2sim.New()
	v := sim.AddVolume(reg, sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "2"}), nil)
	broken := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: v, Start: runTime, State: "error",
		Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(runTime)}})
	lost := false
	sim.LoseAnswer = func(_, action string, _ any) error {
		if action == "CreateSnapshot" && !lost {
			lost = true
			return &smithy.GenericAPIError{Code: "InternalError", Fault: smithy.FaultServer}
		}
		return nil
	}
	ctx := context.Background()
	p := params()
	p.Execution = "exec-2"
	plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, p)
	require.NoError(t, err)
	out, _, err := Worker{EC2: sim.Region(reg), Concurrency: 1, LookupFor: time.Millisecond}.Apply(ctx, Job{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: &memJournal{}})
	require.NoError(t, err)
	require.Len(t, out.Created, 1)
	assert.True(t, out.Created[0].Recovered)
	assert.NotEqual(t, broken, out.Created[0].SnapshotID, "the broken snapshot is not this create's")
	assert.Zero(t, out.NotMade())
}
