package ebs

import (
	"context"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/rules"
)

// Regression (review R1): a non-due member gets a set snapshot but no copy_tags.
func TestSetRegressionNonDueMemberLosesCopyTags(t *testing.T) {
	sim := ec2sim.New()
	inst := sim.AddInstance(reg, map[string]string{"Name": "db", "autosnap": "1", "autosnap_retain": "3", "autosnap_consistent": "", "Team": "pay"})
	due := sim.AddVolume(reg, inst, nil)
	notDue := sim.AddVolume(reg, inst, nil)
	sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: notDue, Start: runTime.Add(-time.Hour),
		Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(runTime.Add(-time.Hour))}})
	p := params()
	p.CopyTags = []string{"Team"}
	runRegion(t, sim, p, 10)
	made := thisRun(sim)
	require.Len(t, made[due], 1)
	require.Len(t, made[notDue], 1)
	assert.Equal(t, "pay", made[due][0].Tags["Team"])
	assert.Equal(t, "pay", made[notDue][0].Tags["Team"], "non-due member's snapshot lacks copy_tags")
}

// Regression (review R2): a non-due member with a pending snapshot gets a second one.
func TestSetRegressionNonDuePendingMemberGetsSecond(t *testing.T) {
	sim := ec2sim.New()
	inst := sim.AddInstance(reg, map[string]string{"Name": "db", "autosnap": "1", "autosnap_retain": "3", "autosnap_consistent": ""})
	due := sim.AddVolume(reg, inst, nil)
	notDue := sim.AddVolume(reg, inst, nil)
	sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: notDue, Start: runTime.Add(-time.Hour), State: "pending",
		Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(runTime.Add(-time.Hour))}})
	runRegion(t, sim, params(), 10)
	made := thisRun(sim)
	require.Len(t, made[due], 1)
	pending := 0
	for _, s := range sim.Snapshots(reg) {
		if s.Volume == notDue && s.State == "pending" {
			pending++
		}
	}
	assert.Empty(t, made[notDue], "SPEC 4: a volume with a pending tool snapshot gets no new one (pending now: %d)", pending)
}

// Regression (review R3): a member whose set snapshot an earlier attempt made (journal) but
// did not name stays unnamed forever.
func TestSetRegressionEarlierMemberNeverNamed(t *testing.T) {
	sim := ec2sim.New()
	f := newSetFleet(sim)
	ctx := context.Background()
	plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, params())
	require.NoError(t, err)
	// the lost attempt: the set call went through (tags in the call), crash before CreateTags.
	ids := map[string]string{}
	for _, v := range f.members() {
		ids[v] = sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: v, Start: runTime, State: "pending",
			Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(runTime), "autosnap_execution": "exec-1"}})
	}
	journal := &memJournal{made: Made{Snapshots: ids}}
	out, _, err := Worker{EC2: sim.Region(reg), Concurrency: 1, LookupFor: time.Millisecond}.Apply(ctx, Job{Params: params(), Plan: plan, MaxDeletes: NoCeiling, Journal: journal})
	require.NoError(t, err)
	assert.Zero(t, out.NotMade())
	for _, v := range f.members() {
		assert.NotEmpty(t, thisRun(sim)[v][0].Tags["Name"], "member %s never named", v)
	}
}

// Regression (review R4): CreateTags fails: the made snapshot is reported as a failure (NotMade).
func TestSetRegressionNamingFailureIsNotMade(t *testing.T) {
	sim := ec2sim.New()
	f := newSetFleet(sim)
	sim.Fault = func(_, action string, _ any) error {
		if action == "CreateTags" {
			return &smithy.GenericAPIError{Code: "UnauthorizedOperation", Fault: smithy.FaultClient}
		}
		return nil
	}
	ctx := context.Background()
	plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, params())
	require.NoError(t, err)
	out, _, err := Worker{EC2: sim.Region(reg), Concurrency: 1}.Apply(ctx, Job{Params: params(), Plan: plan, MaxDeletes: NoCeiling, Journal: &memJournal{}})
	require.NoError(t, err)
	made := thisRun(sim)
	for _, v := range f.members() {
		require.Len(t, made[v], 1)
	}
	t.Logf("NotMade=%d though every member has its snapshot", out.NotMade())
	for _, c := range out.Created {
		t.Logf("%+v", c)
	}
}

// Regression (review R5): members are journalled one CreateTags at a time: a crash while naming
// the first leaves the others out of the journal (then only a lagging describe).
func TestSetRegressionJournalPartialDuringNaming(t *testing.T) {
	sim := ec2sim.New()
	f := newSetFleet(sim)
	journal := &memJournal{}
	seen := journalAtFirstNaming(sim, journal)
	ctx := context.Background()
	plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, params())
	require.NoError(t, err)
	_, _, err = Worker{EC2: sim.Region(reg), Concurrency: 1}.Apply(ctx, Job{Params: params(), Plan: plan, MaxDeletes: NoCeiling, Journal: journal})
	require.NoError(t, err)
	t.Logf("journal while the first member was being named: %v (members %v)", *seen, f.members())
	assert.Len(t, *seen, 3, "every member of the call journalled before naming")
}

func TestSetRegressionRetriedStepAfterCrashWhileNaming(t *testing.T) {
	sim := ec2sim.New()
	sim.DescribeLag = time.Hour
	f := newSetFleet(sim)
	ctx := context.Background()
	plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, params())
	require.NoError(t, err)
	journal := &memJournal{}
	seen := journalAtFirstNaming(sim, journal)
	_, _, err = Worker{EC2: sim.Region(reg), Concurrency: 1}.Apply(ctx, Job{Params: params(), Plan: plan, MaxDeletes: NoCeiling, Journal: journal})
	require.NoError(t, err)
	sim.Fault = nil
	// the lost attempt crashed right there: the retried step sees the journal as it was.
	_, _, err = Worker{EC2: sim.Region(reg), Concurrency: 1, LookupFor: time.Millisecond}.Apply(ctx, Job{Params: params(), Plan: plan, MaxDeletes: NoCeiling, Journal: &memJournal{made: Made{Snapshots: *seen}}})
	require.NoError(t, err)
	got := map[string]int{}
	for _, s := range sim.Snapshots(reg) {
		if s.Tags["autosnap_run"] == rules.RunTag(runTime) {
			got[s.Volume]++
		}
	}
	t.Logf("CreateSnapshots calls %d; this run's snapshots per volume %v (members %v)", sim.Requests.Calls()[reg+"/CreateSnapshots"], got, f.members())
	for _, v := range f.members() {
		assert.Equal(t, 1, got[v], v)
	}
}

// Regression (review R6): a non-due member at EC2's concurrent-snapshot limit (another tool's
// pending snapshots) fails the whole set: the due member gets nothing.
func TestSetRegressionNonDueMemberAtLimitFailsDueOne(t *testing.T) {
	sim := ec2sim.New()
	inst := sim.AddInstance(reg, map[string]string{"Name": "db", "autosnap": "1", "autosnap_retain": "3", "autosnap_consistent": ""})
	due := sim.AddVolume(reg, inst, nil)
	notDue := sim.AddVolume(reg, inst, nil)
	sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: notDue, Start: runTime.Add(-time.Hour),
		Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(runTime.Add(-time.Hour))}})
	for i := 0; i < ec2sim.ConcurrentPerVolume; i++ {
		sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: notDue, Start: runTime.Add(-time.Minute), State: "pending"}) // AWS Backup's
	}
	created, _, _ := runRegion(t, sim, params(), 10)
	for _, c := range created {
		t.Logf("%+v", c)
	}
	assert.Len(t, thisRun(sim)[due], 1, "the due volume misses its snapshot because of a member that was not due")
}

// journalAtFirstNaming copies the journal as it stands while the set's
// first snapshot is being named, after the journal's once-a-second save
// has had its chance: what a crash right then would leave.
func journalAtFirstNaming(sim *ec2sim.Sim, journal *memJournal) *map[string]string {
	seen := map[string]string{}
	n := 0
	sim.Fault = func(_, action string, _ any) error {
		if action != "CreateTags" {
			return nil
		}
		if n++; n == 1 {
			time.Sleep(1500 * time.Millisecond)
			journal.mu.Lock()
			for k, v := range journal.made.Snapshots {
				seen[k] = v
			}
			journal.mu.Unlock()
		}
		return nil
	}
	return &seen
}
