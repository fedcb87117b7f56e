package ebs

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ec2sim"
)

// r3Pair is one run of the pair (region, prefix): Discover, Apply, Copy.
func r3Pair(t *testing.T, sim *ec2sim.Sim, region string, p Params, journal Journal) (Plan, Outcomes) {
	t.Helper()
	ctx := context.Background()
	p.Elsewhere = &Elsewhere{Partition: []string{reg, east, west, "eu-central-1"},
		Region: func(r string) (Reader, Limits) { return sim.Region(r), Limits{} }}
	w := Worker{EC2: sim.Region(region), Concurrency: 2, LookupFor: time.Millisecond, Now: sim.Clock.Now, Sleep: sim.Clock.Sleep}
	plan, err := Discover(ctx, sim.Region(region), Limits{}, region, p)
	require.NoError(t, err)
	_, next, err := w.Apply(ctx, Job{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: journal})
	require.NoError(t, err)
	require.Equal(t, len(plan.Volumes), next)
	var out Outcomes
	if len(plan.CopyRegions()) > 0 {
		out, err = w.Copy(ctx, CopyJob{Params: p, Plan: plan, MaxDeletes: NoCeiling, Journal: journal, Destination: simDestination(sim)})
		require.NoError(t, err)
	}
	return plan, out
}

func r3Desc(sim *ec2sim.Sim, region string) []string {
	var out []string
	for _, s := range sim.Snapshots(region) {
		out = append(out, s.ID+"[vol="+s.Volume+" run="+s.Tags["autosnap_run"]+" copy_of="+s.Tags["autosnap_copy_of"]+" src="+s.Tags["autosnap_source"]+" "+s.State+"]")
	}
	sort.Strings(out)
	return out
}

// Two regions that copy into each other: no copy of a copy, no orphan, each
// region's own volume keeps its retain and each copy set its copy retain.
func TestReview3TwoWayCopies(t *testing.T) {
	sim := ec2sim.New()
	sim.Clock = ec2sim.NewVirtualClock(runTime)
	instA := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "2", "autosnap_copy_retain": "2", "autosnap_copy": east})
	volA := sim.AddVolume(reg, instA, nil)
	instB := sim.AddInstance(east, map[string]string{"autosnap": "1", "autosnap_retain": "2", "autosnap_copy_retain": "2", "autosnap_copy": reg})
	volB := sim.AddVolume(east, instB, nil)
	for day := range 4 {
		p := params()
		p.Run = runTime.AddDate(0, 0, day)
		planA, _ := r3Pair(t, sim, reg, p, &memJournal{})
		planB, _ := r3Pair(t, sim, east, p, &memJournal{})
		assert.Empty(t, planA.Coverage.Orphans)
		assert.Empty(t, planB.Coverage.Orphans)
		assert.Empty(t, planA.Coverage.OrphanedCopies)
		assert.Empty(t, planB.Coverage.OrphanedCopies)
		_ = sim.Clock.Sleep(context.Background(), 24*time.Hour)
	}
	ids := map[string]bool{}
	for _, r := range []string{reg, east} {
		for _, s := range sim.Snapshots(r) {
			if s.Tags["autosnap_copy_of"] != "" {
				ids[s.ID] = true
			}
		}
	}
	for _, r := range []string{reg, east} {
		t.Logf("%s: %v", r, r3Desc(sim, r))
		own, copies := 0, 0
		for _, s := range sim.Snapshots(r) {
			assert.False(t, ids[s.Tags["autosnap_copy_of"]], "a copy of a copy")
			if s.Tags["autosnap_copy_of"] != "" {
				copies++
			} else {
				own++
			}
		}
		assert.Equal(t, 2, own, r)
		assert.Equal(t, 2, copies, r)
	}
	_, _ = volA, volB
}

// A legacy aws-snapper source (no P_run, StartTime with a fraction): the
// copy's P_run matches its run time, and the next run does not copy it again.
func TestReview3LegacySourceCopiedOnce(t *testing.T) {
	sim := ec2sim.New()
	sim.Clock = ec2sim.NewVirtualClock(runTime)
	sim.PendingFor = 40 * time.Hour // this run's snapshots stay pending: the legacy one stays the newest completed
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": east})
	vol := sim.AddVolume(reg, inst, nil)
	legacy := sim.AddSnapshot(reg, ec2sim.SnapshotSpec{Volume: vol, Start: runTime.Add(-24*time.Hour + 1234*time.Millisecond), Tags: map[string]string{"snapshot_tool": "autosnap"}})
	for day := range 2 {
		p := params()
		p.Run = runTime.Add(time.Duration(day) * 24 * time.Hour)
		_, out := r3Pair(t, sim, reg, p, &memJournal{})
		t.Logf("day %d: copies %+v", day, out.Copies)
		_ = sim.Clock.Sleep(context.Background(), 24*time.Hour)
	}
	cs := copiesIn(sim, east)[reg+"/"+vol]
	t.Logf("east: %v", r3Desc(sim, east))
	require.Len(t, cs, 1)
	assert.Equal(t, legacy, cs[0].Tags["autosnap_copy_of"])
}

// copy_tags ["*"]: a volume's P_copy / P_copy_retain and another prefix's
// keys; the copy takes none of this prefix's keys.
func TestReview3StarCopyTagsKeepOwnKeysOffCopies(t *testing.T) {
	sim := ec2sim.New()
	sim.Clock = ec2sim.NewVirtualClock(runTime)
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "3", "cost": "c1"})
	vol := sim.AddVolume(reg, inst, map[string]string{"autosnap_copy": east, "autosnap_copy_retain": "2", "team": "t1", "dr_copy": west})
	p := params()
	p.CopyTags = []string{"*"}
	r3Pair(t, sim, reg, p, &memJournal{})
	cs := copiesIn(sim, east)[reg+"/"+vol]
	require.Len(t, cs, 1)
	t.Logf("copy tags: %v", cs[0].Tags)
	for k := range cs[0].Tags {
		if strings.HasPrefix(k, "autosnap") {
			assert.Contains(t, []string{"autosnap_run", "autosnap_execution", "autosnap_copy_of", "autosnap_source"}, k)
		}
	}
	assert.Equal(t, "t1", cs[0].Tags["team"])
	assert.Equal(t, "c1", cs[0].Tags["cost"])
}

// Two prefixes copy one volume into one destination: each keeps its own.
func TestReview3TwoPrefixesOneDestination(t *testing.T) {
	sim := ec2sim.New()
	sim.Clock = ec2sim.NewVirtualClock(runTime)
	inst := sim.AddInstance(reg, map[string]string{"autosnap": "1", "autosnap_retain": "1", "autosnap_copy": east,
		"dr": "1", "dr_retain": "1", "dr_copy": east, "dr_copy_retain": "3"})
	vol := sim.AddVolume(reg, inst, nil)
	for day := range 4 {
		for _, prefix := range []string{"autosnap", "dr"} {
			p := params()
			p.Prefix, p.Run = prefix, runTime.AddDate(0, 0, day)
			r3Pair(t, sim, reg, p, &memJournal{})
		}
		_ = sim.Clock.Sleep(context.Background(), 24*time.Hour)
	}
	count := map[string]int{}
	for _, s := range sim.Snapshots(east) {
		if s.Tags[s.Tags["snapshot_tool"]+"_source"] == reg+"/"+vol {
			count[s.Tags["snapshot_tool"]]++
		}
	}
	t.Logf("east copies per prefix: %v", count)
	assert.Equal(t, map[string]int{"autosnap": 1, "dr": 3}, count)
}
