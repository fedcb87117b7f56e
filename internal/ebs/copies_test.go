package ebs

import (
	"context"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/awsconf"
	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/rules"
)

const (
	east = "us-east-1"
	west = "us-west-2"
)

// copyParams are params() with the account's other regions in the simulator.
func copyParams(sim *ec2sim.Sim, run time.Time) Params {
	p := params()
	p.Run = run
	p.Elsewhere = &Elsewhere{Partition: []string{reg, east, west, "eu-central-1"},
		Region: func(region string) (Reader, Limits) { return sim.Region(region), Limits{} }}
	return p
}

func simDestination(sim *ec2sim.Sim) func(string) (EC2, Limits) {
	return func(region string) (EC2, Limits) { return sim.Region(region), Limits{} }
}

// copyRunResult is what one run of a pair did, its copy phase included.
type copyRunResult struct {
	plan   Plan
	copied Outcomes
}

// runWithCopies does one run of the pair: Discover, every Apply
// invocation, then the copy phase, sharing one journal.
func runWithCopies(t *testing.T, sim *ec2sim.Sim, p Params, journal Journal, beforeCopies ...func()) copyRunResult {
	t.Helper()
	ctx := context.Background()
	w := Worker{EC2: sim.Region(reg), Concurrency: 2, LookupFor: time.Millisecond}
	plan := applyPair(t, sim, w, p, journal)
	for _, f := range beforeCopies {
		f()
	}
	out, err := w.Copy(ctx, CopyJob{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: journal, Destination: simDestination(sim)})
	require.NoError(t, err)
	return copyRunResult{plan: plan, copied: out}
}

// applyPair does one run of the pair up to its copy phase: Discover and
// every volume's Apply.
func applyPair(t *testing.T, sim *ec2sim.Sim, w Worker, p Params, journal Journal) Plan {
	t.Helper()
	ctx := context.Background()
	plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, p)
	require.NoError(t, err)
	_, next, err := w.Apply(ctx, Job{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: journal})
	require.NoError(t, err)
	require.Equal(t, len(plan.Volumes), next)
	return plan
}

// copiesIn are the prefix's copies in a region, by P_source.
func copiesIn(sim *ec2sim.Sim, region string) map[string][]ec2sim.SnapshotInfo {
	out := map[string][]ec2sim.SnapshotInfo{}
	for _, s := range sim.Snapshots(region) {
		if s.Tags["autosnap_copy_of"] != "" {
			out[s.Tags["autosnap_source"]] = append(out[s.Tags["autosnap_source"]], s)
		}
	}
	return out
}

func TestCopiesGoToEachDestinationOnce(t *testing.T) {
	sim := ec2sim.New()
	sim.CopyPendingFor = time.Hour // copies stay pending through the test
	inst := sim.AddInstance(reg, map[string]string{"Name": "db", "autosnap": "1", "autosnap_retain": "3", "autosnap_copy": "us-west-2, us-east-1", "CostCenter": "42"})
	vol := sim.AddVolume(reg, inst, map[string]string{"Name": "data"})
	plain := sim.AddVolume(reg, sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3"}), nil)
	p := copyParams(sim, runTime)
	p.CopyTags = []string{"CostCenter"}
	p.CopyKMSKeys = map[string]string{west: "alias/dr"}
	journal := &memJournal{}
	// The copies stay invisible to describes for a while (EC2's describe
	// lag); the sources were made before, and are seen.
	res := runWithCopies(t, sim, p, journal, func() { sim.DescribeLag = time.Hour })

	src := thisRun(sim)[vol]
	require.Len(t, src, 1)
	for _, dest := range []string{east, west} {
		copies := copiesIn(sim, dest)[reg+"/"+vol]
		require.Len(t, copies, 1, dest)
		c := copies[0]
		assert.Equal(t, "pending", c.State)
		assert.Equal(t, rules.CopyVolumePlaceholder, c.Volume, "EC2 gives a copy a placeholder volume")
		assert.Equal(t, map[string]string{"snapshot_tool": "autosnap", "Name": "2026-11-25-data-db", "autosnap_run": rules.RunTag(runTime),
			"autosnap_execution": "exec-1", "autosnap_copy_of": src[0].ID, "autosnap_source": reg + "/" + vol, "CostCenter": "42"}, c.Tags, dest)
		assert.Equal(t, dest == west, c.Encrypted, "copy_kms_keys re-encrypts the copies to us-west-2 only")
	}
	assert.Empty(t, copiesIn(sim, east)[reg+"/"+plain], "a volume without P_copy is not copied")
	assert.Len(t, res.copied.Copies, 2)
	assert.Zero(t, res.copied.CopiesNotMade())

	// The copy phase retried, with its record lost and the copies
	// invisible to describes: the journal still finds them.
	again, err := Worker{EC2: sim.Region(reg), LookupFor: time.Millisecond}.Copy(context.Background(),
		CopyJob{Params: p, Plan: res.plan, MaxDeletes: NoCeiling, Journal: journal, Destination: simDestination(sim)})
	require.NoError(t, err)
	assert.Empty(t, again.Copies, "nothing left to copy")
	assert.EqualValues(t, 1, sim.Requests.Calls()[west+"/CopySnapshot"])
	assert.EqualValues(t, 1, sim.Requests.Calls()[east+"/CopySnapshot"])
}

func TestCopiesArePrunedPerSourceVolumeAndNeverMixed(t *testing.T) {
	sim := ec2sim.New()
	// Fast, so that EC2's per-volume rate limit lets the second run's
	// snapshot through at once.
	sim.Clock = ec2sim.NewClock(time.Now(), 1000)
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "5", "autosnap_copy": east, "autosnap_copy_retain": "2"})
	vol := sim.AddVolume(reg, inst, nil)
	// The destination's own managed volume, with its own snapshots.
	local := sim.AddVolume(east, sim.AddInstance(east, map[string]string{"autosnap": "1", "autosnap_retain": "1"}), nil)
	sim.AddSnapshot(east, ec2sim.SnapshotSpec{Volume: local, Start: runTime.Add(-24 * time.Hour), Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(runTime.Add(-24 * time.Hour))}})
	// Three earlier copies of vol, the oldest of a volume long gone too.
	for d := 3; d >= 1; d-- {
		run := runTime.Add(-time.Duration(d) * 24 * time.Hour)
		srcID := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: vol, Start: run, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(run)}})
		sim.AddSnapshot(east, ec2sim.SnapshotSpec{Volume: rules.CopyVolumePlaceholder, Start: run.Add(time.Hour), Tags: map[string]string{"snapshot_tool": "autosnap",
			"autosnap_run": rules.RunTag(run), "autosnap_copy_of": srcID, "autosnap_source": reg + "/" + vol}})
	}
	orphan := sim.AddSnapshot(east, ec2sim.SnapshotSpec{Volume: rules.CopyVolumePlaceholder, Start: runTime.Add(-9 * 24 * time.Hour), Tags: map[string]string{
		"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(runTime.Add(-9 * 24 * time.Hour)), "autosnap_copy_of": "snap-gone", "autosnap_source": reg + "/vol-gone"}})

	res := runWithCopies(t, sim, copyParams(sim, runTime), &memJournal{})
	// The run's own copy is completed at once here (as on moto): retain 2
	// keeps it and the newest earlier one, the rest goes in this run.
	assert.ElementsMatch(t, []string{rules.RunTag(runTime), rules.RunTag(runTime.Add(-24 * time.Hour))}, copyRuns(sim, east, vol))
	assert.Len(t, copiesIn(sim, east)[reg+"/vol-gone"], 1, "a copy whose volume is gone is kept")
	require.Len(t, res.plan.Coverage.OrphanedCopies, 1)
	assert.Equal(t, orphan, res.plan.Coverage.OrphanedCopies[0].SnapshotID)
	assert.Equal(t, east, res.plan.Coverage.OrphanedCopies[0].Region)

	// The destination's own pair: the copies are neither its volumes'
	// snapshots nor orphans.
	destPlan, err := Discover(context.Background(), sim.Region(east), Limits{}, east, copyParams(sim, runTime))
	require.NoError(t, err)
	assert.Empty(t, destPlan.Coverage.Orphans)
	require.Len(t, destPlan.Volumes, 1)
	assert.Empty(t, destPlan.Volumes[0].Delete, "the local volume's one snapshot is not counted with the copies")

	// The next run, with copies that stay pending: the copy the new one
	// displaces stays until a run sees the new one completed.
	sim.CopyPendingFor = 100 * time.Hour
	runWithCopies(t, sim, copyParams(sim, runTime.Add(24*time.Hour)), &memJournal{})
	assert.ElementsMatch(t, []string{rules.RunTag(runTime.Add(24 * time.Hour)), rules.RunTag(runTime), rules.RunTag(runTime.Add(-24 * time.Hour))}, copyRuns(sim, east, vol))
}

// copyRuns are the run times of a volume's copies in a region.
func copyRuns(sim *ec2sim.Sim, region, vol string) []string {
	var runs []string
	for _, c := range copiesIn(sim, region)[reg+"/"+vol] {
		runs = append(runs, c.Tags["autosnap_run"])
	}
	return runs
}

func TestSourceOfAPendingCopyIsNotDeleted(t *testing.T) {
	sim := ec2sim.New()
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "1", "autosnap_copy": east})
	vol := sim.AddVolume(reg, inst, nil)
	prev := runTime.Add(-24 * time.Hour)
	srcID := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: vol, Start: prev, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev)}})
	sim.AddSnapshot(east, ec2sim.SnapshotSpec{Volume: rules.CopyVolumePlaceholder, Start: prev.Add(time.Hour), State: "pending", Tags: map[string]string{
		"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev), "autosnap_copy_of": srcID, "autosnap_source": reg + "/" + vol}})

	runWithCopies(t, sim, copyParams(sim, runTime), &memJournal{})
	var left []string
	for _, s := range sim.Snapshots(reg) {
		left = append(left, s.ID)
	}
	assert.Contains(t, left, srcID, "retain 1 displaces it, but its copy is still pending")
}

func TestCopyLimitLeavesTheRestForTheNextRun(t *testing.T) {
	sim := ec2sim.New()
	sim.CopyPendingFor = time.Hour
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": east})
	for range 5 {
		sim.AddVolume(reg, inst, nil)
	}
	// Another region's pair already has two copies in flight to east.
	for range 2 {
		sim.AddSnapshot(east, ec2sim.SnapshotSpec{Volume: rules.CopyVolumePlaceholder, Start: runTime, State: "pending", Tags: map[string]string{
			"snapshot_tool": "autosnap", "autosnap_copy_of": "snap-x", "autosnap_source": "eu-central-1/vol-x"}})
	}
	p := copyParams(sim, runTime)
	p.CopyConcurrency = 3
	res := runWithCopies(t, sim, p, &memJournal{})
	started, waiting := 0, 0
	for _, c := range res.copied.Copies {
		if c.CopyID != "" {
			started++
		}
		if c.Waiting {
			waiting++
		}
	}
	assert.Equal(t, 1, started, "copy_concurrency 3 with 2 in flight")
	assert.Equal(t, 4, waiting)
	assert.Zero(t, res.copied.CopiesNotMade(), "waiting is not a failure")

	// EC2's own limit: the first refusal holds the rest back, not failed.
	sim2 := ec2sim.New()
	sim2.CopyPendingFor, sim2.CopyLimit = time.Hour, 2
	inst2 := sim2.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": east})
	for range 4 {
		sim2.AddVolume(reg, inst2, nil)
	}
	res2 := runWithCopies(t, sim2, copyParams(sim2, runTime), &memJournal{})
	assert.Zero(t, res2.copied.CopiesNotMade(), "ResourceLimitExceeded waits")
	assert.Len(t, copiesIn(sim2, east), 2)
	assert.EqualValues(t, 3, sim2.Requests.Calls()[east+"/CopySnapshot"], "no call after the first refusal")
}

func TestLostCopyAnswerMakesNoSecondCopy(t *testing.T) {
	sim := ec2sim.New()
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": east})
	vol := sim.AddVolume(reg, inst, nil)
	lost := false
	sim.LoseAnswer = func(_, action string, _ any) error {
		if action == "CopySnapshot" && !lost {
			lost = true
			return &smithy.GenericAPIError{Code: "InternalError", Fault: smithy.FaultServer}
		}
		return nil
	}
	res := runWithCopies(t, sim, copyParams(sim, runTime), &memJournal{})
	require.Len(t, res.copied.Copies, 1)
	assert.True(t, res.copied.Copies[0].Recovered)
	assert.Zero(t, res.copied.CopiesNotMade())
	assert.Len(t, copiesIn(sim, east)[reg+"/"+vol], 1, "found by P_copy_of: no second copy")
}

func TestCopyRefusedOrDestinationDown(t *testing.T) {
	for _, tc := range []struct {
		name, action, code string
	}{
		{"copy refused", "CopySnapshot", "UnauthorizedOperation"},
		{"destination region down", "DescribeSnapshots", "Unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := ec2sim.New()
			inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "1", "autosnap_copy": east})
			vol := sim.AddVolume(reg, inst, nil)
			prev := runTime.Add(-24 * time.Hour)
			old := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: vol, Start: prev, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev)}})
			sim.Fault = func(region, action string, _ any) error {
				if region == east && action == tc.action {
					return &smithy.GenericAPIError{Code: tc.code, Fault: smithy.FaultClient}
				}
				return nil
			}
			sim.Retryer = awsconf.NewRetryer() // the SDK's retries, as deployed
			res := runWithCopies(t, sim, copyParams(sim, runTime), &memJournal{})
			assert.Equal(t, 1, res.copied.CopiesNotMade(), "a due copy not started fails the run")
			// A destination that is down costs the source pair a few tries
			// per listing, not the minutes of the usual 30 attempts.
			assert.LessOrEqual(t, sim.Requests.Calls()[east+"/DescribeSnapshots"], int64(2*destinationReadAttempts))
			assert.Len(t, thisRun(sim)[vol], 1, "the source's snapshot is made all the same")
			assert.Empty(t, copiesIn(sim, east))
			if tc.action == "DescribeSnapshots" {
				var left []string
				for _, s := range sim.Snapshots(reg) {
					left = append(left, s.ID)
				}
				assert.Contains(t, left, old, "copies that cannot be read may be pending: their sources are held")
			}
		})
	}
}
