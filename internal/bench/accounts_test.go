package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/snapper/snapper/internal/ec2limits"
	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/localaws"
)

const acctA, acctB = "100000000001", "100000000002"

// Two accounts in one region are two pairs, each on its own clock: the
// wall and the phases are the slower account's alone, not the region's
// invocations of both run together.
func TestEventWallGroupsByAccountAndRegion(t *testing.T) {
	invs := []localaws.Invocation{
		{Function: "PlanFunction", Start: at(0), End: at(1)},
		{Function: "DiscoverFunction", Account: acctA, Region: "eu-west-1", Start: at(2), End: at(5), RealEnd: at(3)},
		{Function: "ApplyFunction", Account: acctA, Region: "eu-west-1", Start: at(6), End: at(800), RealEnd: at(75)},
		{Function: "DiscoverFunction", Account: acctB, Region: "eu-west-1", Start: at(2), End: at(12), RealEnd: at(3)},
		{Function: "ApplyFunction", Account: acctB, Region: "eu-west-1", Start: at(13), End: at(913), RealEnd: at(40)},
		{Function: "ApplyFunction", Account: acctB, Region: "eu-west-1", Start: at(914), End: at(1500), RealEnd: at(70)},
		{Function: "DiscoverFunction", Account: acctA, Region: "us-east-1", Start: at(2), End: at(4), RealEnd: at(3)},
		{Function: "ApplyFunction", Account: acctA, Region: "us-east-1", Start: at(5), End: at(600), RealEnd: at(50)},
		{Function: "ReportFunction", Start: at(76), End: at(77)},
	}
	wall, p := eventWall(invs, t0, at(78))
	assert.InDelta(t, 1500+3, wall, 1e-9, "account B's eu-west-1 end, then 3 real seconds after the last pair's last")
	assert.Equal(t, Phases{Account: acctB, Region: "eu-west-1", Before: 2, Discover: 10, Applies: 2, Apply: 1486, Boundaries: 2, After: 3}, p,
		"account A's eu-west-1 invocations are not B's")
	assert.Equal(t, acctB+":eu-west-1: before 2, discover 10, 2 applies 1486, boundaries 2, after 3", p.String())
}

// Each account has its own buckets: the bound is the slowest
// account-region pair, not the region's calls summed over accounts.
func TestBoundIsTheSlowestAccountRegion(t *testing.T) {
	b := &benchRun{spec: Spec{Limits: 1, Accounts: 2}}
	got, rule := b.bound(map[string]int64{ // CreateSnapshot: burst 100, refill 5 a second
		acctA + ":eu-west-1/CreateSnapshot": 300, // (300 - 100) / 5 = 40 s
		acctB + ":eu-west-1/CreateSnapshot": 200, // 20 s
		acctA + ":us-east-1/CreateSnapshot": 250, // 30 s
	})
	assert.InDelta(t, 40, got, 1e-9, "account A's eu-west-1, not eu-west-1's 500 calls as one bucket (80 s)")
	assert.Contains(t, rule, "slowest account-region")

	_, one := (&benchRun{spec: Spec{Limits: 1}}).bound(map[string]int64{"eu-west-1/CreateSnapshot": 300})
	assert.True(t, strings.HasPrefix(one, "slowest region:"), "one account: as before")
}

// The calls of every account are counted, each under its own pair, and
// summed by action for the table.
func TestCallsOverAccounts(t *testing.T) {
	now := func(string) time.Time { return t0 }
	a, c := ec2limits.NewAccount(0, now), ec2limits.NewAccount(0, now)
	a.Count("eu-west-1", "CreateSnapshot")
	a.Count("eu-west-1", "CreateSnapshot")
	c.Count("eu-west-1", "CreateSnapshot")
	b := &benchRun{requests: map[string]*ec2limits.Account{acctA: a, acctB: c}}
	calls := b.calls()
	assert.Equal(t, map[string]int64{acctA + ":eu-west-1/CreateSnapshot": 2, acctB + ":eu-west-1/CreateSnapshot": 1}, calls)
	assert.Equal(t, map[string]int64{"CreateSnapshot": 3}, byAction(calls))

	single := &benchRun{requests: map[string]*ec2limits.Account{"": a}}
	assert.Equal(t, map[string]int64{"eu-west-1/CreateSnapshot": 2}, single.calls(), "one account: as before")
}

// A check over several accounts' fleets keeps their volumes apart, though
// each simulator numbers its volumes alike.
func TestCheckSimOverAccounts(t *testing.T) {
	spec := Spec{Regions: 1, VolumesPerRegion: 3, VolumesPerInstance: 1, OldSnapshots: 2, Scale: 1}
	regions := AllRegions[:1]
	fleets := map[string]*ec2sim.Sim{}
	for _, id := range MemberAccounts(2) {
		fleets[id] = NewSim(spec, t0)
		SeedSim(fleets[id], spec, regions)
	}
	dup, missing, wrong, waiting := checkSim(fleets, regions, t0, 2)
	assert.Equal(t, [4]int{0, 6, 0, 0}, [4]int{dup, missing, wrong, waiting}, "6 volumes, none snapshotted, each with its 2 old snapshots")
}

func TestAccountsFleet(t *testing.T) {
	assert.Equal(t, []string{"100000000001", "100000000002", "100000000003"}, MemberAccounts(3))
	r := newResult(Spec{EC2: "sim", Accounts: 50, Regions: 4, VolumesPerRegion: 2000})
	assert.Equal(t, "50 x 4 x 2,000", r.Fleet)
	assert.Equal(t, 400000, r.Volumes)
	assert.Equal(t, "1,000 x 20 x 10,000", newResult(Spec{Accounts: 1000, Regions: 20, VolumesPerRegion: 10000}).Fleet)
	one := newResult(Spec{EC2: "sim", Regions: 20, VolumesPerRegion: 10000})
	assert.Equal(t, Result{Fleet: "20 x 10000", EC2: "sim", Regions: 20, Volumes: 200000}, one, "one account: as before")
}

// A pair's child execution bills Discover, Apply (retries too), a choice
// after each answered task, and its last state; Plan and Report are the
// parent's and are counted from its history.
func TestChildTransitions(t *testing.T) {
	invs := []localaws.Invocation{
		{Function: "PlanFunction"},
		{Function: "DiscoverFunction", Account: "a", Region: "r"},
		{Function: "ApplyFunction", Account: "a", Region: "r", Error: "Sandbox.Timedout"},
		{Function: "ApplyFunction", Account: "a", Region: "r"},
		{Function: "DiscoverFunction", Account: "b", Region: "r"},
		{Function: "ReportFunction"},
	}
	// a: 3 invocations + 2 choices + 1 end; b: 1 + 1 + 1.
	assert.Equal(t, 9, childTransitions(invs))
}
