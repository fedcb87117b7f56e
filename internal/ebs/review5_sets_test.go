package ebs

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ec2sim"
)

// Fifth review: a set member whose new snapshots all end in error (from
// day 1 on, or from day 0): the members' newest common completed run stays
// behind for ever, so Discover uses it only while it is fresh (at most two
// intervals older than the member's newest); the healthy member copies its
// own newest, and the DR region does not freeze at day 0.
func TestReview5FailingSetMemberDoesNotFreezeItsSiblings(t *testing.T) {
	for _, tc := range []struct {
		name        string
		brokenTags  map[string]string
		failsFromD0 bool
	}{
		{"same destination, fails from day 1", nil, false},
		{"broken member copies to another region, fails from day 1", map[string]string{"autosnap_copy": west}, false},
		{"same destination, fails from day 0 (never completed)", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) { memberInError(t, tc.brokenTags, tc.failsFromD0) })
	}
}

func memberInError(t *testing.T, brokenTags map[string]string, fromD0 bool) {
	sim := ec2sim.New()
	sim.Clock = ec2sim.NewVirtualClock(runTime)
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "2", "autosnap_copy": east, "autosnap_consistent": "yes"})
	healthy := sim.AddVolume(reg, inst, nil)
	broken := sim.AddVolume(reg, inst, brokenTags)
	sim.FailNew = func(_, vol string) bool { return vol == broken && (fromD0 || sim.Clock.Now().After(runTime)) }
	ctx := context.Background()
	var lastCopies Outcomes
	for day := range 10 {
		p := copyParams(sim, runTime.AddDate(0, 0, day))
		w := Worker{EC2: sim.Region(reg), Concurrency: 2, LookupFor: time.Millisecond, Now: sim.Clock.Now, Sleep: sim.Clock.Sleep}
		plan, err := Discover(ctx, sim.Region(reg), Limits{}, reg, p)
		require.NoError(t, err)
		j := &memJournal{}
		_, _, err = w.Apply(ctx, Job{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: j})
		require.NoError(t, err)
		out, err := w.Copy(ctx, CopyJob{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: j, Destination: simDestination(sim)})
		require.NoError(t, err)
		lastCopies = out
		t.Logf("day %d: healthy %v broken %v | copy records %d | east healthy %v | west broken %v", day, runsOf(sim, healthy), runsOf(sim, broken),
			len(out.Copies), copyRuns(sim, east, healthy), copyRuns(sim, west, broken))
		_ = sim.Clock.Sleep(ctx, 24*time.Hour)
	}
	assert.LessOrEqual(t, len(runsOf(sim, healthy)), 3, "retain 2 (+1 being made)")
	assert.Contains(t, copyRuns(sim, east, healthy), "2026-12-04T03:00:00Z", "the healthy member's newest completed restore point is copied (SPEC 12)")
	assert.NotEmpty(t, lastCopies.Copies, "a DR region 9 days behind with nothing in the copy phase's outcome")
}

func runsOf(sim *ec2sim.Sim, vol string) []string {
	var out []string
	for _, s := range sim.Snapshots(reg) {
		if s.Volume == vol {
			out = append(out, s.Tags["autosnap_run"][8:10]+":"+s.State[:1])
		}
	}
	return out
}
