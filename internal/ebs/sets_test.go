package ebs

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/rules"
)

// setFleet is an instance with P_consistent and three managed volumes
// (the boot volume first), one of them not due, plus an ignored and a
// problem volume; another instance's volume sits between them in id
// order, so the set's members are not adjacent in the plan.
type setFleet struct {
	inst, other             string
	boot, data, notDue      string
	ignored, problem, plain string
}

func newSetFleet(sim *ec2sim.Sim) setFleet {
	var f setFleet
	f.inst = sim.AddInstance(reg, map[string]string{"Name": "db", "autosnap": "1", "autosnap_retain": "3", "autosnap_consistent": ""})
	f.other = sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3"})
	f.boot = sim.AddVolume(reg, f.inst, map[string]string{"Name": "root"})
	f.plain = sim.AddVolume(reg, f.other, nil)
	f.data = sim.AddVolume(reg, f.inst, map[string]string{"Name": "data"})
	f.ignored = sim.AddVolume(reg, f.inst, map[string]string{"autosnap_ignore": ""})
	f.problem = sim.AddVolume(reg, f.inst, map[string]string{"autosnap": "never"})
	f.notDue = sim.AddVolume(reg, f.inst, nil)
	// Snapshotted an hour before this run, the same day: not due alone.
	sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: f.notDue, Start: runTime.Add(-time.Hour),
		Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(runTime.Add(-time.Hour))}})
	return f
}

func (f setFleet) members() []string { return []string{f.boot, f.data, f.notDue} }

// thisRun maps each volume to its snapshots of this run.
func thisRun(sim *ec2sim.Sim) map[string][]ec2sim.SnapshotInfo {
	out := map[string][]ec2sim.SnapshotInfo{}
	for _, s := range sim.Snapshots(reg) {
		if s.Tags["autosnap_run"] == rules.RunTag(runTime) {
			out[s.Volume] = append(out[s.Volume], s)
		}
	}
	return out
}

func TestSetIsOneCallWithEveryMember(t *testing.T) {
	sim := ec2sim.New()
	f := newSetFleet(sim)
	// One volume per invocation: the set still goes out whole, once.
	created, _, _ := runRegion(t, sim, params(), 1)
	reported := map[string]int{}
	for _, c := range created {
		assert.Empty(t, c.Error, c.VolumeID)
		reported[c.VolumeID]++
	}
	assert.Equal(t, map[string]int{f.boot: 1, f.data: 1, f.notDue: 1, f.plain: 1}, reported, "each made snapshot reported once")
	calls := sim.Requests.Calls()
	assert.EqualValues(t, 1, calls[reg+"/CreateSnapshots"], "one call for the set")
	assert.EqualValues(t, 1, calls[reg+"/CreateSnapshot"], "the other instance's volume alone")
	assert.EqualValues(t, 3, calls[reg+"/CreateTags"], "each member named right after the call")
	made := thisRun(sim)
	for _, v := range f.members() {
		require.Len(t, made[v], 1, v)
		s := made[v][0]
		assert.Equal(t, "autosnap: set of db ("+f.inst+") from 2026-11-25", s.Description)
		assert.Equal(t, "exec-1", s.Tags["autosnap_execution"])
		assert.Equal(t, made[f.boot][0].Start, s.Start, "the set starts at one moment")
	}
	assert.Equal(t, "2026-11-25-root-db", made[f.boot][0].Tags["Name"])
	assert.Equal(t, "2026-11-25-data-db", made[f.data][0].Tags["Name"])
	assert.Equal(t, "2026-11-25-"+f.notDue+"-db", made[f.notDue][0].Tags["Name"])
	assert.Empty(t, made[f.ignored], "an ignored volume is excluded")
	assert.Empty(t, made[f.problem], "a problem volume is excluded")
	assert.Len(t, made[f.plain], 1)
}

func TestLostSetAnswerMakesNoSecondSet(t *testing.T) {
	sim := ec2sim.New()
	f := newSetFleet(sim)
	lost := false
	sim.LoseAnswer = func(_, action string, _ any) error {
		if action == "CreateSnapshots" && !lost {
			lost = true
			return &smithy.GenericAPIError{Code: "InternalError", Fault: smithy.FaultServer}
		}
		return nil
	}
	ctx := context.Background()
	plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, params())
	require.NoError(t, err)
	out, _, err := Worker{EC2: sim.Region(reg), Concurrency: 2, LookupFor: time.Millisecond}.Apply(ctx, Job{Params: params(), Plan: plan, MaxDeletes: NoCeiling, Journal: &memJournal{}})
	require.NoError(t, err)
	assert.Zero(t, out.NotMade())
	assert.EqualValues(t, 1, sim.Requests.Calls()[reg+"/CreateSnapshots"], "found by P_run: no second call")
	made := thisRun(sim)
	for _, v := range f.members() {
		require.Len(t, made[v], 1, v)
		assert.True(t, strings.HasPrefix(made[v][0].Tags["Name"], "2026-11-25-"), "the recovered snapshots are named too")
	}
	recovered := 0
	for _, c := range out.Created {
		if c.Recovered {
			recovered++
		}
	}
	assert.Equal(t, 3, recovered)
}

func TestSetRetryLeavesOutMembersThatHaveOne(t *testing.T) {
	sim := ec2sim.New()
	f := newSetFleet(sim)
	ctx := context.Background()
	plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, params())
	require.NoError(t, err)
	// An earlier invocation made the data volume's snapshot, which only
	// the journal knows of (EC2's describe lags); the first call of this
	// one fails before EC2 takes it, with an answer that says nothing.
	earlier := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: f.data, Start: runTime, State: "pending"})
	journal := &memJournal{made: Made{Snapshots: map[string]string{f.data: earlier}}}
	failed := false
	sim.Fault = func(_, action string, _ any) error {
		if action == "CreateSnapshots" && !failed {
			failed = true
			return &smithy.GenericAPIError{Code: "InternalError", Fault: smithy.FaultServer}
		}
		return nil
	}
	out, _, err := Worker{EC2: sim.Region(reg), Concurrency: 1, LookupFor: time.Millisecond}.Apply(ctx, Job{Params: params(), Plan: plan, MaxDeletes: NoCeiling, Journal: journal})
	require.NoError(t, err)
	assert.Zero(t, out.NotMade())
	assert.EqualValues(t, 2, sim.Requests.Calls()[reg+"/CreateSnapshots"], "nothing found: one more call")
	made := thisRun(sim)
	assert.Len(t, made[f.boot], 1)
	assert.Len(t, made[f.notDue], 1)
	assert.Empty(t, made[f.data], "the journal's member stays out of the call")
	for _, c := range out.Created {
		if c.VolumeID == f.data {
			assert.Equal(t, earlier, c.SnapshotID)
			assert.True(t, c.Earlier)
		}
	}
}

// The set's call waits on CreateSnapshots' bucket, not CreateSnapshot's:
// with a create bucket that never gives a token, the set is still made.
func TestSetUsesItsOwnBucket(t *testing.T) {
	sim := ec2sim.New()
	f := newSetFleet(sim)
	ctx := context.Background()
	plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, params())
	require.NoError(t, err)
	limits := Limits{Create: rate.NewLimiter(0, 0), CreateSet: rate.NewLimiter(rate.Inf, 1), Tags: rate.NewLimiter(rate.Inf, 1)}
	out, _, err := Worker{EC2: sim.Region(reg), Limits: limits, Concurrency: 2}.Apply(ctx, Job{Params: params(), Plan: plan, MaxDeletes: NoCeiling})
	require.NoError(t, err)
	made := thisRun(sim)
	for _, v := range f.members() {
		assert.Len(t, made[v], 1, v)
	}
	assert.Empty(t, made[f.plain], "the create bucket gave no token")
	assert.Equal(t, 1, out.NotMade())
}
