package steps_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapper/snapper/internal/ec2sim"
	"github.com/snapper/snapper/internal/rules"
)

// copy_concurrency caps the copies a copy phase starts per destination
// (the phase is one invocation). 100 volumes, daily, copies taking 5
// minutes: the slots must go round the fleet (before the fix the same 20
// volumes won every run and 80 never got a copy, with a green report).
func TestReview3CopyConcurrencySlotsGoRoundTheFleet(t *testing.T) {
	deps, w := newDeps(t)
	ctx := context.Background()
	const region, dest = "eu-central-1", "us-west-2"
	start := time.Date(2026, 1, 5, 3, 0, 0, 0, time.UTC)
	w.sim.Clock = ec2sim.NewVirtualClock(start)
	w.sim.PendingFor = time.Minute
	w.sim.CopyPendingFor = 5 * time.Minute
	inst := w.sim.AddInstance(region, map[string]string{"autosnap": "1", "autosnap_retain": "3", "autosnap_copy": dest})
	prev := start.AddDate(0, 0, -1)
	vols := map[string]bool{}
	for range 100 {
		v := w.sim.AddVolume(region, inst, nil)
		vols[v] = true
		w.sim.AddSnapshot(region, ec2sim.SnapshotSpec{Volume: v, Start: prev, Tags: map[string]string{"snapshot_tool": "autosnap", "autosnap_run": rules.RunTag(prev)}})
	}
	for day := range 6 {
		at := start.AddDate(0, 0, day)
		_, sum := runPair(t, deps, region, fmt.Sprintf("day%d", day), at)
		// how stale is each volume's newest copy in the destination?
		newest := map[string]time.Time{}
		for _, s := range w.sim.Snapshots(dest) {
			src := s.Tags["autosnap_source"]
			r, _ := time.Parse(time.RFC3339, s.Tags["autosnap_run"])
			if s.State == "completed" && r.After(newest[src]) {
				newest[src] = r
			}
		}
		worst := time.Duration(0)
		for v := range vols {
			if n, ok := newest[region+"/"+v]; !ok {
				worst = max(worst, at.Sub(prev.AddDate(0, 0, -1)))
			} else {
				worst = max(worst, at.Sub(n))
			}
		}
		t.Logf("day %d: copies started %d, waiting %d, not made %d, warnings %d; volumes with a completed copy %d of 100; worst DR copy age %v",
			day, sum.CopiesStarted, sum.CopiesWaiting, sum.CopiesNotMade, len(sum.Errors), len(newest), worst)
		_ = w.sim.Clock.Sleep(ctx, 24*time.Hour-time.Until(time.Now())) // a day
		// copy_concurrency 20 starts 20 copies a run: the slots go round
		// the fleet, the volumes with the oldest (or no) copy first, so
		// every volume has a copy after five runs; a waiting copy whose
		// volume has none there is a warning, not a green report.
		assert.Equal(t, min(20*day, 100), len(newest), "day %d: volumes with a completed copy", day)
		if day == 0 {
			require.Len(t, sum.Errors, 1, "one warning for the destination, however many wait")
			assert.Contains(t, sum.Errors[0], "80 volumes wait for their first copy to us-west-2")
		}
	}
}
