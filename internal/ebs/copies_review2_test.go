package ebs

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/rules"
)

// R1: a destination known only from the pair's memory (P_copy removed)
// that cannot be read holds nothing: the source of a copy still pending
// there is deleted. (Same setup as F1, plus a failing read of us-east-1.)
func TestUnreadableRememberedDestinationHoldsEverySource(t *testing.T) {
	sim := ec2sim.New()
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "1"}) // P_copy=us-east-1 removed
	vol := sim.AddVolume(reg, inst, nil)
	prev := runTime.Add(-24 * time.Hour)
	srcID := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: vol, Start: prev, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev)}})
	sim.AddSnapshot(east, ec2sim.SnapshotSpec{Volume: rules.CopyVolumePlaceholder, Start: prev.Add(time.Hour), State: "pending", Tags: map[string]string{
		"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev), "autosnap_copy_of": srcID, "autosnap_source": reg + "/" + vol}})
	sim.Fault = func(region, action string, _ any) error {
		if region == east && action == "DescribeSnapshots" {
			return &smithy.GenericAPIError{Code: "AuthFailure", Message: "region unreachable", Fault: smithy.FaultClient}
		}
		return nil
	}
	p := copyParams(sim, runTime)
	p.Elsewhere.Known = []string{east}
	plan := applyPair(t, sim, Worker{EC2: sim.Region(reg), Concurrency: 2, LookupFor: time.Millisecond}, p, &memJournal{})
	t.Logf("copy region errors: %v; memory written: %v; plan deletes %v", plan.Coverage.CopyRegionErrors, plan.CopyDestinations, plan.Volumes[0].Delete)
	assert.Contains(t, snapIDs(sim, reg), srcID, "source of a copy pending in an unreadable remembered destination was deleted")
}

// R2: every copy the run's executions started holds its source, from the
// merged journal (one record per destination, volume and source), even
// within the describe lag. (Since no copy starts while one is pending,
// execution 2 no longer copies this run's snapshot beside execution 1's.)
func TestEveryCopyOfTheRunHoldsItsSource(t *testing.T) {
	sim := ec2sim.New()
	sim.PendingFor = time.Hour
	sim.CopyPendingFor = 100 * time.Hour
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "1", "autosnap_copy_retain": "2", "autosnap_copy": east})
	vol := sim.AddVolume(reg, inst, nil)
	prev := runTime.Add(-24 * time.Hour)
	srcPrev := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: vol, Start: prev, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev)}})
	journal := &invocationJournal{}
	r1 := runWithCopies(t, sim, copyParams(sim, runTime), journal, func() { sim.DescribeLag = time.Hour })
	t.Logf("exec1 copies: %+v", r1.copied.Copies)
	sim.PendingFor = 0
	p2 := copyParams(sim, runTime)
	p2.Execution = "exec-2"
	runWithCopies(t, sim, p2, journal)
	cs := copiesIn(sim, east)[reg+"/"+vol]
	require.Len(t, cs, 1, "no second copy while the first is pending")
	require.Contains(t, snapIDs(sim, reg), srcPrev, "execution 2 held it (journal)")
	made, _ := journal.Load(context.Background())
	t.Logf("merged journal copies: %+v", made.Copies)
	p3 := copyParams(sim, runTime)
	p3.Execution = "exec-3"
	runWithCopies(t, sim, p3, journal)
	assert.Contains(t, snapIDs(sim, reg), srcPrev, "source of execution 1's pending copy deleted by execution 3")
}

// R3: the intent whose save failed stays in c.mine (no CopySnapshot was
// made); the phase's next save persists it. A later phase of the same run
// (retry, second execution) then polls for a copy that never existed.
func TestFailedIntentSaveLeavesNoIntent(t *testing.T) {
	sim := ec2sim.New()
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": east + "," + west})
	vol := sim.AddVolume(reg, inst, nil)
	prev := runTime.Add(-24 * time.Hour)
	sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: vol, Start: prev, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev)}})
	ctx := context.Background()
	p := copyParams(sim, runTime)
	plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, p)
	require.NoError(t, err)
	w := Worker{EC2: sim.Region(reg), Concurrency: 2, LookupFor: time.Millisecond}
	j := &flakyJournal{failing: func(n int) bool { return n == 1 }} // an S3 hiccup
	// Apply needs no save here (the pair's snapshot is made by Apply with
	// its own saves): count only the copy phase's saves.
	_, _, err = w.Apply(ctx, Job{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: &memJournal{}})
	require.NoError(t, err)
	out, err := w.Copy(ctx, CopyJob{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: j, Destination: simDestination(sim)})
	require.NoError(t, err, "the phase ended well: nothing retries it")
	t.Logf("first phase: %+v", out.Copies)
	require.Empty(t, copiesIn(sim, east)[reg+"/"+vol], "no CopySnapshot into us-east-1 was made")
	made, _ := j.Load(ctx)
	t.Logf("journal after the phase: %+v", made.Copies)
	for key := range made.Copies {
		assert.NotContains(t, key, east+"/"+vol+"/", "an intent for a copy never attempted is in the journal")
	}
	// A later phase of the same run polls for it.
	lookups := 0
	sim.Fault = func(region, action string, in any) error {
		if action == "DescribeSnapshots" && region == east {
			for _, f := range in.(*ec2.DescribeSnapshotsInput).Filters {
				if *f.Name == "tag:autosnap_copy_of" {
					lookups++
				}
			}
		}
		return nil
	}
	_, err = w.Copy(ctx, CopyJob{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: j, Destination: simDestination(sim)})
	require.NoError(t, err)
	assert.Zero(t, lookups, "P_copy_of look-ups (LookupFor each) for a copy never started")
}

// R4: an error copy of a volume whose new copy waits (copy_concurrency
// reached) is neither deleted (SPEC 5) nor reported once: every run
// reports it as not made again, and the run is FAILED each time.
func TestErrorCopyOfAWaitingVolumeIsDeleted(t *testing.T) {
	sim := ec2sim.New()
	sim.Clock = ec2sim.NewVirtualClock(runTime)
	sim.CopyPendingFor = 1000 * time.Hour
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": east})
	vol := sim.AddVolume(reg, inst, nil)
	prev := runTime.Add(-24 * time.Hour)
	srcPrev := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: vol, Start: prev, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev)}})
	errCopy := sim.AddSnapshot(east, ec2sim.SnapshotSpec{Volume: rules.CopyVolumePlaceholder, Start: prev, State: "error", Tags: map[string]string{
		"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev), "autosnap_copy_of": srcPrev, "autosnap_source": reg + "/" + vol}})
	// Another pair's copy in flight fills copy_concurrency=1.
	sim.AddSnapshot(east, ec2sim.SnapshotSpec{Volume: rules.CopyVolumePlaceholder, Start: prev, State: "pending", Tags: map[string]string{
		"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev), "autosnap_copy_of": "snap-other", "autosnap_source": "eu-north-1/vol-other"}})
	for day := range 3 {
		at := runTime.AddDate(0, 0, day)
		p := copyParams(sim, at)
		p.CopyConcurrency = 1
		res := runWithCopies(t, sim, p, &memJournal{})
		_ = sim.Clock.Sleep(context.Background(), 24*time.Hour)
		t.Logf("run %d: not made %d (failed %v), waiting %v", day+1, res.copied.CopiesNotMade(), res.copied.CopiesFailed, res.copied.Copies[0].Waiting)
	}
	assert.NotContains(t, snapIDs(sim, east), errCopy, "SPEC 5: a snapshot in state error is deleted")
}

// R5: a copy that takes longer than the schedule's interval (a first,
// full cross-region copy of a large volume) is deleted, still pending,
// by the next run's copy retention when that run starts the next copy
// (copy_retain 1: the pending older copy is kept by neither evaluation).
// Each new copy is again a full one: the destination never gets a
// completed copy.
func TestSlowCopyIsNeverCancelled(t *testing.T) {
	sim := ec2sim.New()
	sim.Clock = ec2sim.NewVirtualClock(runTime)
	sim.PendingFor = time.Minute
	sim.CopyPendingFor = 30 * time.Hour
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "1", "autosnap_copy": east})
	vol := sim.AddVolume(reg, inst, nil)
	prev := runTime.Add(-24 * time.Hour)
	sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: vol, Start: prev, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev)}})
	completed := 0
	for day := range 5 {
		at := runTime.AddDate(0, 0, day)
		res := runWithCopies(t, sim, copyParams(sim, at), &memJournal{}, func() { _ = sim.Clock.Sleep(context.Background(), 2*time.Minute) })
		var del []string
		for _, d := range res.copied.Deleted {
			del = append(del, d.SnapshotID)
		}
		var states []string
		for _, c := range copiesIn(sim, east)[reg+"/"+vol] {
			states = append(states, c.ID+"="+c.State)
			if c.State == "completed" {
				completed++
			}
		}
		started := "none (a copy is pending)"
		if len(res.copied.Copies) > 0 {
			started = res.copied.Copies[0].CopyID
		}
		t.Logf("day %d: started %s, deleted copies %v, copies now %v", day+1, started, del, states)
		_ = sim.Clock.Sleep(context.Background(), 24*time.Hour-2*time.Minute)
	}
	assert.NotZero(t, completed, "no copy ever completed in us-east-1")
}

// Third review (7): a copy in error in a region only remembered (the
// volume's P_copy changed) is deleted by the copy phase; a completed one
// there is kept.
func TestErrorCopyInARememberedRegionIsDeleted(t *testing.T) {
	sim := ec2sim.New()
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": west})
	vol := sim.AddVolume(reg, inst, nil)
	prev := runTime.Add(-24 * time.Hour)
	copyTags := func(src string) map[string]string {
		return map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev), "autosnap_copy_of": src, "autosnap_source": reg + "/" + vol}
	}
	broken := sim.AddSnapshot(east, ec2sim.SnapshotSpec{Volume: rules.CopyVolumePlaceholder, Start: prev, State: "error", Tags: copyTags("snap-a")})
	kept := sim.AddSnapshot(east, ec2sim.SnapshotSpec{Volume: rules.CopyVolumePlaceholder, Start: prev, Tags: copyTags("snap-b")})
	p := copyParams(sim, runTime)
	p.Elsewhere.Known = []string{east}
	runWithCopies(t, sim, p, &memJournal{})
	assert.NotContains(t, snapIDs(sim, east), broken)
	assert.Contains(t, snapIDs(sim, east), kept)
}
