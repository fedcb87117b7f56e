package ebs

// Regression tests from the adversarial review of DR copies (F1-F6).

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/rules"
)

func snapIDs(sim *ec2sim.Sim, region string) []string {
	var out []string
	for _, s := range sim.Snapshots(region) {
		out = append(out, s.ID)
	}
	return out
}

// F1: a volume whose P_copy changed (or was removed) since its copy was
// started: Discover does not list the old destination, so the source of
// the still-pending copy is deleted (SPEC 12: "A source is not deleted
// while a copy of it is pending").
func TestReviewSourceOfAPendingCopyStaysAfterPCopyChanged(t *testing.T) {
	for _, tc := range []struct{ name, copyTag string }{{"P_copy moved to another region", west}, {"P_copy removed", ""}} {
		t.Run(tc.name, func(t *testing.T) {
			sim := ec2sim.New()
			tags := map[string]string{"autosnap": "1", "autosnap_retain": "1"}
			if tc.copyTag != "" {
				tags["autosnap_copy"] = tc.copyTag
			}
			inst := sim.AddInstance(reg, tags)
			vol := sim.AddVolume(reg, inst, nil)
			prev := runTime.Add(-24 * time.Hour)
			srcID := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: vol, Start: prev, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev)}})
			// Last run (P_copy was us-east-1 then) started this copy; it is still pending.
			sim.AddSnapshot(east, ec2sim.SnapshotSpec{Volume: rules.CopyVolumePlaceholder, Start: prev.Add(time.Hour), State: "pending", Tags: map[string]string{
				"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev), "autosnap_copy_of": srcID, "autosnap_source": reg + "/" + vol}})

			p := copyParams(sim, runTime)
			p.Elsewhere.Known = []string{east} // the pair's memory of where its copies are
			applyPair(t, sim, Worker{EC2: sim.Region(reg), Concurrency: 2, LookupFor: time.Millisecond}, p, &memJournal{})
			assert.Contains(t, snapIDs(sim, reg), srcID, "source of a pending copy in us-east-1 was deleted")
		})
	}
}

// F2: orphaned copies are reported only in destinations that a current
// volume of the pair still names.
func TestReviewOrphanedCopiesInADestinationNoVolumeNamesAreReported(t *testing.T) {
	sim := ec2sim.New()
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": west})
	sim.AddVolume(reg, inst, nil)
	gone := runTime.Add(-48 * time.Hour)
	orphan := sim.AddSnapshot(east, ec2sim.SnapshotSpec{Volume: rules.CopyVolumePlaceholder, Start: gone, Tags: map[string]string{
		"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(gone), "autosnap_copy_of": "snap-gone", "autosnap_source": reg + "/vol-gone"}})
	p := copyParams(sim, runTime)
	p.Elsewhere.Known = []string{east}
	plan, err := Discover(context.Background(), sim.Region(reg), Limits{}, reg, p)
	require.NoError(t, err)
	assert.Equal(t, []string{east, west}, plan.CopyDestinations, "remembered while copies are there")
	var got []string
	for _, o := range plan.Coverage.OrphanedCopies {
		got = append(got, o.SnapshotID)
	}
	assert.Contains(t, got, orphan, "SPEC 12: copies whose source volume is gone are reported as orphaned copies")
}

// errorCopies makes every copy of the prefix read as state error: a copy
// EC2 failed (KMS key disabled or not granted, ...).
type errorCopies struct{ EC2 }

func (e errorCopies) DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	out, err := e.EC2.DescribeSnapshots(ctx, in, optFns...)
	if out != nil {
		for i, s := range out.Snapshots {
			for _, tag := range s.Tags {
				if *tag.Key == "autosnap_copy_of" {
					out.Snapshots[i].State = types.SnapshotStateError
				}
			}
		}
	}
	return out, err
}

type afterFirstRead struct {
	EC2
	reads *int
}

func (a *afterFirstRead) DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	*a.reads++
	if *a.reads == 1 {
		return a.EC2.DescribeSnapshots(ctx, in, optFns...)
	}
	return errorCopies{a.EC2}.DescribeSnapshots(ctx, in, optFns...)
}

// F3: a copy that ends in error is never "not made": the phase's one look
// at its new copies ignores error, and the next run silently deletes the
// error copy and starts another. A DR setup that always fails reports OK.
func TestReviewCopyInErrorIsReportedNotMade(t *testing.T) {
	t.Run("seen in error by the phase's look at its new copies", func(t *testing.T) {
		sim := ec2sim.New()
		inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": east, "autosnap_copy_retain": "1"})
		vol := sim.AddVolume(reg, inst, nil)
		prev := runTime.Add(-24 * time.Hour)
		srcPrev := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: vol, Start: prev, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev)}})
		sim.AddSnapshot(east, ec2sim.SnapshotSpec{Volume: rules.CopyVolumePlaceholder, Start: prev, Tags: map[string]string{
			"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev), "autosnap_copy_of": srcPrev, "autosnap_source": reg + "/" + vol}})
		p := copyParams(sim, runTime)
		ctx := context.Background()
		plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, p)
		require.NoError(t, err)
		journal := &memJournal{}
		w := Worker{EC2: sim.Region(reg), Concurrency: 2, LookupFor: time.Millisecond}
		_, _, err = w.Apply(ctx, Job{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: journal})
		require.NoError(t, err)
		// The phase's listing sees the old copy completed; every later read
		// sees the prefix's copies in error.
		reads := 0
		dc := &afterFirstRead{EC2: sim.Region(east), reads: &reads}
		out, err := w.Copy(ctx, CopyJob{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: journal, Destination: func(string) (EC2, Limits) { return dc, Limits{} }})
		require.NoError(t, err)
		t.Logf("copies: %+v", out.Copies)
		require.GreaterOrEqual(t, reads, 2, "the phase looked at its new copy after starting it")
		left := copiesIn(sim, east)[reg+"/"+vol]
		require.Len(t, left, 1, "the copy in error is deleted (SPEC 5)")
		assert.Equal(t, srcPrev, left[0].Tags["autosnap_copy_of"], "the completed copy it would displace stays")
		assert.Equal(t, 1, out.CopiesNotMade(), "a new copy seen in error counts as not made (SPEC 6, as for snapshots)")
	})
	t.Run("the next run deletes the error copy and copies again, nothing reported", func(t *testing.T) {
		sim := ec2sim.New()
		inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": east})
		vol := sim.AddVolume(reg, inst, nil)
		prev := runTime.Add(-24 * time.Hour)
		srcPrev := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: vol, Start: prev, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev)}})
		errCopy := sim.AddSnapshot(east, ec2sim.SnapshotSpec{Volume: rules.CopyVolumePlaceholder, Start: prev, State: "error", Tags: map[string]string{
			"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev), "autosnap_copy_of": srcPrev, "autosnap_source": reg + "/" + vol}})
		res := runWithCopies(t, sim, copyParams(sim, runTime), &memJournal{})
		assert.NotContains(t, snapIDs(sim, east), errCopy, "the error copy was deleted")
		t.Logf("copies: %+v deleted: %+v", res.copied.Copies, res.copied.Deleted)
		assert.Equal(t, 1, res.copied.CopiesNotMade(), "the last run's copy failed: nothing says so")
	})
}

// F4: a second execution for the same scheduled time (SPEC 4, takes the
// pair over once the first ended) whose Discover falls in the copy's
// describe lag does not hold the source of the copy the first execution
// started, although the run's journal records that copy.
func TestReviewSecondExecutionKeepsTheSourceOfACopyInDescribeLag(t *testing.T) {
	sim := ec2sim.New()
	sim.PendingFor = time.Hour // this run's snapshot is pending at the first copy phase
	sim.CopyPendingFor = 100 * time.Hour
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "1", "autosnap_copy": east})
	vol := sim.AddVolume(reg, inst, nil)
	prev := runTime.Add(-24 * time.Hour)
	srcPrev := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: vol, Start: prev, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev)}})
	journal := &memJournal{} // the pair's journal is per run time: shared by both executions
	runWithCopies(t, sim, copyParams(sim, runTime), journal, func() { sim.DescribeLag = time.Hour })
	cs := copiesIn(sim, east)[reg+"/"+vol]
	require.Len(t, cs, 1)
	require.Equal(t, srcPrev, cs[0].Tags["autosnap_copy_of"], "the first execution copied the newest completed one")
	require.Equal(t, "pending", cs[0].State)

	sim.PendingFor = 0 // this run's snapshot is completed by now
	p2 := copyParams(sim, runTime)
	p2.Execution = "exec-2"
	runWithCopies(t, sim, p2, journal)
	assert.Contains(t, snapIDs(sim, reg), srcPrev, "the source of the pending copy was deleted")
}

// flakyJournal is the run bucket's journal (one record per invocation)
// whose saves fail as failing says, given the save's number (from 1).
type flakyJournal struct {
	invocationJournal
	saves   int
	failing func(n int) bool
}

func (j *flakyJournal) Save(ctx context.Context, m Made) error {
	j.saves++
	if j.failing != nil && j.failing(j.saves) {
		return errors.New("S3: 503 SlowDown")
	}
	return j.invocationJournal.Save(ctx, m)
}

// F5: the copy phase retried after its journal saves were lost (S3), the
// copies in EC2's describe lag: a second copy of the same restore point.
func TestReviewRetriedCopyPhaseAfterLostSaveMakesNoDuplicate(t *testing.T) {
	sim := ec2sim.New()
	sim.CopyPendingFor = time.Hour
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": east})
	vol := sim.AddVolume(reg, inst, nil)
	ctx := context.Background()
	p := copyParams(sim, runTime)
	journal := &flakyJournal{}
	w := Worker{EC2: sim.Region(reg), Concurrency: 2, LookupFor: time.Millisecond}
	plan := applyPair(t, sim, w, p, journal)
	sim.DescribeLag = time.Hour
	journal.failing = func(int) bool { return true }
	_, err := w.Copy(ctx, CopyJob{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: journal, Destination: simDestination(sim)})
	require.Error(t, err, "the phase fails (its record could not be saved) and the state machine retries it")
	journal.failing = nil
	_, err = w.Copy(ctx, CopyJob{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: journal, Destination: simDestination(sim)})
	require.NoError(t, err)
	assert.Len(t, copiesIn(sim, east)[reg+"/"+vol], 1, "one copy per restore point")
}

// F6: a dry run reports every due copy as would-start, beyond
// copy_concurrency, where a real run would leave the rest waiting.
func TestReviewDryRunHonoursCopyConcurrency(t *testing.T) {
	sim := ec2sim.New()
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": east})
	prev := runTime.Add(-24 * time.Hour)
	for range 5 {
		v := sim.AddVolume(reg, inst, nil)
		sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: v, Start: prev, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev)}})
	}
	p := copyParams(sim, runTime)
	p.CopyConcurrency, p.DryRun = 2, true
	res := runWithCopies(t, sim, p, &memJournal{})
	would, waiting := 0, 0
	for _, c := range res.copied.Copies {
		if c.DryRun && !c.Waiting && c.Error == "" {
			would++
		}
		if c.Waiting {
			waiting++
		}
	}
	assert.Equal(t, 2, would, "a real run would start 2")
	assert.Equal(t, 3, waiting)
}

// The copy's intent was saved, the copy started, and its id was lost
// (the save after it failed): the retried phase finds the copy by
// P_copy_of, through the describe lag, instead of copying again.
func TestRetriedCopyPhaseFindsTheCopyItsIntentNames(t *testing.T) {
	sim := ec2sim.New()
	sim.Clock = ec2sim.NewClock(time.Now(), 1000) // a minute of look-up is 60 ms
	sim.CopyPendingFor = 100 * time.Hour
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": east})
	vol := sim.AddVolume(reg, inst, nil)
	ctx := context.Background()
	p := copyParams(sim, runTime)
	journal := &flakyJournal{}
	w := Worker{EC2: sim.Region(reg), Concurrency: 2, Now: sim.Clock.Now, Sleep: sim.Clock.Sleep}
	plan := applyPair(t, sim, w, p, journal)
	sim.DescribeLag = 20 * time.Second
	first := journal.saves + 1 // the intent is saved, nothing after it
	journal.failing = func(n int) bool { return n > first }
	_, err := w.Copy(ctx, CopyJob{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: journal, Destination: simDestination(sim)})
	require.Error(t, err)
	require.Len(t, copiesIn(sim, east)[reg+"/"+vol], 1)
	journal.failing = nil
	out, err := w.Copy(ctx, CopyJob{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: journal, Destination: simDestination(sim)})
	require.NoError(t, err)
	assert.Len(t, copiesIn(sim, east)[reg+"/"+vol], 1, "found by P_copy_of: no second copy")
	require.Len(t, out.Copies, 1)
	assert.True(t, out.Copies[0].Recovered)
	made, err := journal.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, out.Copies[0].CopyID, made.Copies[CopyKey(east, vol, out.Copies[0].SourceID)].ID,
		"the found copy's id is journaled: a later phase need not look for it again")
}

// A copy refused outright leaves no intent behind: a retried phase (or a
// later execution of the run) does not spend a minute looking for it.
func TestRefusedCopyLeavesNoIntent(t *testing.T) {
	sim := ec2sim.New()
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": east})
	vol := sim.AddVolume(reg, inst, nil)
	sim.Fault = func(_, action string, _ any) error {
		if action == "CopySnapshot" {
			return &smithy.GenericAPIError{Code: "UnauthorizedOperation", Fault: smithy.FaultClient}
		}
		return nil
	}
	journal := &invocationJournal{}
	runWithCopies(t, sim, copyParams(sim, runTime), journal)
	made, err := journal.Load(context.Background())
	require.NoError(t, err)
	for key := range made.Copies {
		assert.NotContains(t, key, east+"/"+vol+"/", "no intent left for the refused copy")
	}
}

// invocationJournal keeps one record per invocation, each save replacing
// that invocation's earlier one, as the run bucket's journal does (an
// invocation here is one Worker call: Apply, then Copy).
type invocationJournal struct {
	records []Made
	open    bool // the last record is the current invocation's
}

func (j *invocationJournal) Load(context.Context) (Made, error) {
	var all Made
	all.Merge(Made{})
	for _, r := range j.records {
		all.Merge(r)
	}
	j.open = false // a Load starts an invocation
	return all, nil
}

func (j *invocationJournal) Save(_ context.Context, m Made) error {
	if !j.open {
		j.records, j.open = append(j.records, Made{}), true
	}
	j.records[len(j.records)-1] = m.clone()
	return nil
}
