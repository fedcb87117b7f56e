package rules

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlanVolume(t *testing.T) {
	run := at("2026-11-25T03:00:00Z")
	runTag := RunTag(run)
	mv := func(every int64, retain int) ManagedVolume {
		return ManagedVolume{VolumeID: "vol-1", Every: every, Retain: retain}
	}
	four := []Snapshot{
		snap("snap-1", "2026-11-21T03:00:00Z", StateCompleted),
		snap("snap-2", "2026-11-22T03:00:00Z", StateCompleted),
		snap("snap-3", "2026-11-23T03:00:00Z", StateCompleted),
		snap("snap-4", "2026-11-24T03:00:00Z", StateCompleted),
	}
	with := func(extra ...Snapshot) []Snapshot { return append(extra, four...) }
	tests := []struct {
		name      string
		mv        ManagedVolume
		snaps     []Snapshot
		create    bool
		done      bool
		delete    []string
		displaced []string
		watch     string
		kept      int
	}{
		{name: "first snapshot", mv: mv(1, 3), create: true, kept: 1},
		{name: "keeps K counting the new one; the K-th old one waits for the new one", mv: mv(1, 3), snaps: four, create: true,
			delete: []string{"snap-1"}, displaced: []string{"snap-2"}, kept: 4},
		{name: "retain 1: the old one goes only once the new one is completed", mv: mv(1, 1), snaps: four, create: true,
			delete: []string{"snap-3", "snap-2", "snap-1"}, displaced: []string{"snap-4"}, kept: 2},
		{name: "not due still prunes to K", mv: mv(7, 2), snaps: four, delete: []string{"snap-2", "snap-1"}, kept: 2},
		{name: "under K deletes nothing", mv: mv(1, 10), snaps: four, create: true, kept: 5},
		{name: "error snapshots do not count and are deleted", mv: mv(1, 2), snaps: with(snap("snap-e", "2026-11-24T12:00:00Z", StateError)), create: true,
			delete: []string{"snap-2", "snap-1", "snap-e"}, displaced: []string{"snap-3"}, kept: 3},
		{name: "a pending snapshot: no second one started, it counts toward K, completed ones stay until it completes", mv: mv(1, 2),
			snaps: with(snap("snap-p", "2026-11-25T02:00:00Z", StatePending)), delete: []string{"snap-2", "snap-1"}, kept: 3},
		{name: "this run's snapshot already exists", mv: mv(1, 2), snaps: with(ran("snap-r", runTag, "2026-11-25T03:00:04Z", StateCompleted)),
			done: true, delete: []string{"snap-3", "snap-2", "snap-1"}, kept: 2},
		{name: "this run's snapshot exists but is pending: it is watched and displaces on completion", mv: mv(1, 2),
			snaps: with(ran("snap-r", runTag, "2026-11-25T03:00:04Z", StatePending)), done: true,
			delete: []string{"snap-2", "snap-1"}, displaced: []string{"snap-3"}, watch: "snap-r", kept: 3},
		{name: "problem volume: nothing created or deleted", mv: ManagedVolume{VolumeID: "vol-1", Problem: "tag autosnap is missing"}, snaps: four},
		// Restore points, not snapshots (SPEC 5).
		{name: "a duplicate of an old run costs no restore point", mv: mv(7, 4),
			snaps: with(ran("snap-4b", "2026-11-24T03:00:00Z", "2026-11-24T03:00:09Z", StateCompleted)), delete: []string{"snap-4b"}, kept: 4},
		{name: "of duplicates the completed one with the earliest start stays", mv: mv(7, 1), snaps: []Snapshot{
			ran("snap-b", "2026-11-24T03:00:00Z", "2026-11-24T03:00:01Z", StateCompleted),
			ran("snap-a", "2026-11-24T03:00:00Z", "2026-11-24T03:00:02Z", StateCompleted),
			ran("snap-c", "2026-11-24T03:00:00Z", "2026-11-24T03:00:00Z", StatePending)},
			delete: []string{"snap-a", "snap-c"}, kept: 1},
		{name: "duplicates wait while no member is completed", mv: mv(7, 1), snaps: []Snapshot{
			ran("snap-b", "2026-11-24T03:00:00Z", "2026-11-24T03:00:01Z", StatePending),
			ran("snap-a", "2026-11-24T03:00:00Z", "2026-11-24T03:00:02Z", StatePending)}, kept: 1},
		{name: "duplicates of this run go once the kept one is completed", mv: mv(1, 2), snaps: with(
			ran("snap-r2", runTag, "2026-11-25T03:00:05Z", StateCompleted), ran("snap-r1", runTag, "2026-11-25T03:00:04Z", StateCompleted)),
			done: true, delete: []string{"snap-r2", "snap-3", "snap-2", "snap-1"}, kept: 2},
		{name: "the due rule counts P_run: a snapshot EC2 started after midnight belongs to its run's day", mv: mv(1, 3),
			snaps: []Snapshot{ran("snap-late", "2026-11-24T23:59:00Z", "2026-11-25T00:00:10Z", StateCompleted)}, create: true, kept: 2},
		{name: "a run time after this run's is never the newest", mv: mv(1, 5),
			snaps:  []Snapshot{ran("snap-f", "2026-11-30T03:00:00Z", "2026-11-24T03:00:00Z", StateCompleted), snap("snap-1", "2026-11-24T03:00:00Z", StateCompleted)},
			create: true, kept: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := PlanVolume(tc.mv, tc.snaps, Schedule{Run: run, Interval: 86400})
			assert.Equal(t, tc.create, p.Create, "create")
			assert.Equal(t, tc.done, p.Done, "done")
			assert.Equal(t, tc.delete, p.Delete, "delete")
			assert.Equal(t, tc.displaced, p.Displaced, "displaced")
			assert.Equal(t, tc.watch, p.Watch, "watch")
			assert.Equal(t, tc.kept, p.Kept, "kept")
		})
	}
}

func TestPlanVolumeReportsFutureRunTimes(t *testing.T) {
	run := at("2026-11-25T03:00:00Z")
	p := PlanVolume(ManagedVolume{VolumeID: "vol-1", Every: 1, Retain: 5},
		[]Snapshot{ran("snap-f", "2026-11-30T03:00:00Z", "2026-11-24T03:00:00Z", StateCompleted)}, Schedule{Run: run, Interval: 86400})
	assert.Equal(t, 1, p.Future)
	assert.True(t, p.Create, "a later run time does not make the volume look done")
}

// TestRetentionNeverLeavesFewerCompletedRestorePoints walks a volume through
// many runs in which the new snapshot completes, stays pending or fails,
// and checks SPEC 5's floor after every step: at least min(K, completed
// before) completed restore points.
func TestRetentionNeverLeavesFewerCompletedRestorePoints(t *testing.T) {
	for _, k := range []int{1, 2, 3} {
		var snaps []Snapshot
		run := at("2026-01-01T03:00:00Z")
		for day := range 40 {
			run = run.Add(24 * time.Hour)
			before := completedPoints(snaps)
			p := PlanVolume(ManagedVolume{VolumeID: "vol-1", Every: 1, Retain: k}, snaps, Schedule{Run: run, Interval: 86400})
			snaps = without(snaps, p.Delete)
			if p.Create {
				state := []string{StateCompleted, StatePending, StateError}[day%3]
				snaps = append(snaps, ran(fmt.Sprintf("snap-%02d", day), RunTag(run), run.Format(time.RFC3339), state))
				if state == StateCompleted {
					snaps = without(snaps, p.Displaced)
				}
			}
			require.GreaterOrEqual(t, completedPoints(snaps), min(k, before), "K=%d day %d", k, day)
			for i := range snaps {
				if snaps[i].State == StatePending && day%3 != 1 {
					snaps[i].State = StateCompleted // yesterday's pending one completed overnight
				}
			}
		}
	}
}

func completedPoints(snaps []Snapshot) int {
	runs := map[time.Time]bool{}
	for _, s := range snaps {
		if s.State == StateCompleted {
			runs[s.RunTime()] = true
		}
	}
	return len(runs)
}

func without(snaps []Snapshot, gone []string) []Snapshot {
	var out []Snapshot
	for _, s := range snaps {
		if !slices.Contains(gone, s.ID) {
			out = append(out, s)
		}
	}
	return out
}

func TestPlanVolumeTiesAreStable(t *testing.T) {
	run := at("2026-11-25T03:00:00Z")
	same := []Snapshot{snap("snap-b", "2026-11-24T03:00:00Z", StateCompleted), snap("snap-a", "2026-11-24T03:00:00Z", StateCompleted), snap("snap-c", "2026-11-24T03:00:00Z", StateCompleted)}
	s := Schedule{Run: run, Interval: 86400}
	first := PlanVolume(ManagedVolume{VolumeID: "vol-1", Every: 1, Retain: 2}, same, s)
	reversed := []Snapshot{same[2], same[1], same[0]}
	second := PlanVolume(ManagedVolume{VolumeID: "vol-1", Every: 1, Retain: 2}, reversed, s)
	assert.Equal(t, []string{"snap-b", "snap-c"}, first.Delete, "one restore point: snap-a stays, the rest are duplicates")
	assert.Equal(t, first.Delete, second.Delete)
}

func TestWhenPlannedDeletionsGo(t *testing.T) {
	for _, tc := range []struct {
		name       string
		v          VolumePlan
		now, later []string
	}{
		{"not due: surplus and error snapshots go at once", VolumePlan{Delete: []string{"old", "err"}}, []string{"old", "err"}, nil},
		{"creating: everything waits for the new snapshot", VolumePlan{Create: true, Delete: []string{"err"}, Displaced: []string{"old"}}, nil, []string{"err", "old"}},
		{"an earlier attempt's pending snapshot: everything waits for it", VolumePlan{Done: true, Watch: "snap-new", Delete: []string{"dup"}, Displaced: []string{"old"}}, nil, []string{"dup", "old"}},
		{"this run's snapshot completed: at once", VolumePlan{Done: true, Delete: []string{"old"}}, []string{"old"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.now, tc.v.DeleteNow())
			assert.Equal(t, tc.later, tc.v.DeleteOnCompletion())
		})
	}
}
