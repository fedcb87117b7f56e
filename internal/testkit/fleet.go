package testkit

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/rules"
)

// SeedRetainTwo gives every region volumes, each on its own instance
// tagged autosnap=1, retain 2, with two tool snapshots of the two days
// before now: a run makes one snapshot and deletes one per volume.
func SeedRetainTwo(sim *ec2sim.Sim, regions []string, volumes int) {
	now := sim.Clock.Now()
	for _, r := range regions {
		for range volumes {
			v := sim.AddVolume(r, sim.AddInstance(r, map[string]string{"autosnap": "1", "autosnap_retain": "2"}), nil)
			for d := 1; d <= 2; d++ {
				sim.AddSnapshot(r, ec2sim.SnapshotSpec{Volume: v, Start: now.Add(-time.Duration(d) * 24 * time.Hour), Tags: map[string]string{"snapshot_tool": "autosnap"}})
			}
		}
	}
}

// RunTagged counts each volume's snapshots of one run of prefix autosnap.
func RunTagged(sim *ec2sim.Sim, region string, run time.Time) map[string]int {
	out := map[string]int{}
	for _, s := range sim.Snapshots(region) {
		if s.Tags["autosnap_run"] == rules.RunTag(run) {
			out[s.Volume]++
		}
	}
	return out
}

// ToolByVolume lists each volume's snapshots of prefix.
func ToolByVolume(sim *ec2sim.Sim, region, prefix string) map[string][]ec2sim.SnapshotInfo {
	out := map[string][]ec2sim.SnapshotInfo{}
	for _, s := range sim.Snapshots(region) {
		if s.Tags["snapshot_tool"] == prefix {
			out[s.Volume] = append(out[s.Volume], s)
		}
	}
	return out
}

// ExactlyOnce checks a run over a SeedRetainTwo fleet: every volume has
// one snapshot of the run and two snapshots in all (retain 2), counting
// any snapshot of the volume, tagged or not.
func ExactlyOnce(t *testing.T, sim *ec2sim.Sim, regions []string, run time.Time, volumes int) {
	t.Helper()
	for _, r := range regions {
		byVol := map[string]int{}
		for _, s := range sim.Snapshots(r) {
			byVol[s.Volume]++
		}
		require.Len(t, byVol, volumes)
		tagged := RunTagged(sim, r, run)
		for _, v := range slices.Sorted(maps.Keys(byVol)) {
			assert.Equal(t, 1, tagged[v], "%s %s: one snapshot of this run", r, v)
			assert.Equal(t, 2, byVol[v], "%s %s: retain 2", r, v)
		}
	}
}
