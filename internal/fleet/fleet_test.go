package fleet

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var keys = KeysFor("autosnap")

func TestManage(t *testing.T) {
	inst := func(id string, tags map[string]string) Instance { return Instance{ID: id, Tags: tags} }
	one := func(tags map[string]string) []Instance { return []Instance{inst("i-1", tags)} }
	daily7 := map[string]string{"autosnap": "1", "autosnap_retain": "7", "Name": "web"}
	tests := []struct {
		name     string
		vol      map[string]string
		attached []Instance
		managed  bool
		every    int64
		retain   int
		problem  string
		instID   string
		instName string
	}{
		{name: "instance tags apply to its volume", attached: one(daily7), managed: true, every: 1, retain: 7, instID: "i-1", instName: "web"},
		{name: "volume overrides both", vol: map[string]string{"autosnap": "2", "autosnap_retain": "3"}, attached: one(daily7), managed: true, every: 2, retain: 3, instID: "i-1", instName: "web"},
		{name: "volume overrides only retain", vol: map[string]string{"autosnap_retain": "30"}, attached: one(daily7), managed: true, every: 1, retain: 30, instID: "i-1", instName: "web"},
		{name: "volume overrides only interval", vol: map[string]string{"autosnap": "7"}, attached: one(daily7), managed: true, every: 7, retain: 7, instID: "i-1", instName: "web"},
		{name: "unattached volume on its own tags", vol: map[string]string{"autosnap": "1", "autosnap_retain": "1"}, managed: true, every: 1, retain: 1},
		{name: "volume tagged on an untagged instance", vol: map[string]string{"autosnap": "1", "autosnap_retain": "2"}, attached: one(map[string]string{}), managed: true, every: 1, retain: 2, instID: "i-1"},
		{name: "ignore with an empty value on the volume", vol: map[string]string{"autosnap_ignore": ""}, attached: one(daily7), managed: false},
		{name: "ignore on the instance skips its volumes", vol: map[string]string{"autosnap": "1", "autosnap_retain": "2"}, attached: one(map[string]string{"autosnap": "1", "autosnap_ignore": "yes"}), managed: false},
		{name: "neither tag anywhere: not managed", attached: one(map[string]string{"Name": "x"}), managed: false},
		{name: "unattached and untagged", managed: false},
		{name: "other prefix only", vol: map[string]string{"hourly": "1", "hourly_retain": "2"}, managed: false},
		{name: "retain missing", attached: one(map[string]string{"autosnap": "1"}), managed: true, problem: "tag autosnap_retain is missing", instID: "i-1"},
		{name: "interval missing", vol: map[string]string{"autosnap_retain": "3"}, managed: true, problem: "tag autosnap is missing"},
		{name: "zero interval", attached: one(map[string]string{"autosnap": "0", "autosnap_retain": "3"}), managed: true, problem: `tag autosnap="0" is not a positive whole number`, instID: "i-1"},
		{name: "negative retain", attached: one(map[string]string{"autosnap": "1", "autosnap_retain": "-2"}), managed: true, problem: `tag autosnap_retain="-2" is not a positive whole number`, instID: "i-1"},
		{name: "not an integer", attached: one(map[string]string{"autosnap": "1.5", "autosnap_retain": "x"}), managed: true, problem: `tag autosnap="1.5" is not a positive whole number; tag autosnap_retain="x" is not a positive whole number`, instID: "i-1"},
		{name: "volume override breaks a good instance value", vol: map[string]string{"autosnap_retain": "many"}, attached: one(map[string]string{"autosnap": "1", "autosnap_retain": "3"}), managed: true, problem: `tag autosnap_retain="many" is not a positive whole number`, instID: "i-1"},
		{name: "spaces around a number are fine", attached: one(map[string]string{"autosnap": " 1 ", "autosnap_retain": "3"}), managed: true, every: 1, retain: 3, instID: "i-1"},
		// io2 Multi-Attach (SPEC 3).
		{name: "multi-attach: the unmanaged instance sorts first, the managed one still manages it",
			attached: []Instance{inst("i-b", daily7), inst("i-a", map[string]string{"Name": "unmanaged"})}, managed: true, every: 1, retain: 7, instID: "i-b", instName: "web"},
		{name: "multi-attach: the most protective value key by key",
			attached: []Instance{inst("i-b", map[string]string{"autosnap": "7", "autosnap_retain": "30"}), inst("i-a", map[string]string{"autosnap": "1", "autosnap_retain": "2", "Name": "a"})},
			managed:  true, every: 1, retain: 30, instID: "i-a", instName: "a"},
		{name: "multi-attach: a bad value on one instance is outvoted by a valid one",
			attached: []Instance{inst("i-a", map[string]string{"autosnap": "x", "autosnap_retain": "3"}), inst("i-b", map[string]string{"autosnap": "2", "autosnap_retain": "many"})},
			managed:  true, every: 2, retain: 3, instID: "i-a"},
		{name: "multi-attach: no valid value on any instance is a problem",
			attached: []Instance{inst("i-a", map[string]string{"autosnap": "x", "autosnap_retain": "3"}), inst("i-b", map[string]string{"autosnap": "0", "autosnap_retain": "3"})},
			managed:  true, problem: `tag autosnap="x" is not a positive whole number`, instID: "i-a"},
		{name: "multi-attach: the volume's own tag overrides every instance",
			vol: map[string]string{"autosnap_retain": "2"}, attached: []Instance{inst("i-a", daily7), inst("i-b", map[string]string{"autosnap": "1", "autosnap_retain": "9"})},
			managed: true, every: 1, retain: 2, instID: "i-a", instName: "web"},
		{name: "multi-attach: an ignoring instance does not stop the managing one",
			attached: []Instance{inst("i-a", map[string]string{"autosnap_ignore": ""}), inst("i-b", daily7)}, managed: true, every: 1, retain: 7, instID: "i-b", instName: "web"},
		{name: "multi-attach: the volume's ignore wins",
			vol: map[string]string{"autosnap_ignore": ""}, attached: []Instance{inst("i-a", daily7), inst("i-b", daily7)}, managed: false},
		{name: "multi-attach: no instance manages it", attached: []Instance{inst("i-a", nil), inst("i-b", map[string]string{"Name": "x"})}, managed: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vol := Volume{ID: "vol-1", Tags: tc.vol}
			mv, managed := Manage(keys, vol, tc.attached)
			require.Equal(t, tc.managed, managed)
			if !managed {
				return
			}
			assert.Equal(t, tc.every, mv.Every)
			assert.Equal(t, tc.retain, mv.Retain)
			assert.Equal(t, tc.problem, mv.Problem)
			assert.Equal(t, tc.instID, mv.InstanceID)
			assert.Equal(t, tc.instName, mv.InstanceName)
		})
	}
}

func TestManagedInstance(t *testing.T) {
	assert.True(t, ManagedInstance(keys, Instance{Tags: map[string]string{"autosnap": "1"}}))
	assert.True(t, ManagedInstance(keys, Instance{Tags: map[string]string{"autosnap_retain": "1"}}))
	assert.False(t, ManagedInstance(keys, Instance{Tags: map[string]string{"autosnap": "1", "autosnap_ignore": ""}}))
	assert.False(t, ManagedInstance(keys, Instance{Tags: map[string]string{"Name": "web"}}))
}

func TestOwnsComparesTheToolTagExactly(t *testing.T) {
	assert.True(t, KeysFor("autosnap").Owns(map[string]string{"snapshot_tool": "autosnap"}))
	assert.False(t, KeysFor("auto?nap").Owns(map[string]string{"snapshot_tool": "autosnap"}), "EC2 wildcards never make a snapshot ours")
	assert.False(t, KeysFor("auto*").Owns(map[string]string{"snapshot_tool": "autosnap"}))
	assert.False(t, KeysFor("autosnap").Owns(map[string]string{"snapshot_tool": "Autosnap"}))
	assert.False(t, KeysFor("autosnap").Owns(map[string]string{"Name": "autosnap"}))
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDue(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	sydney, err := time.LoadLocation("Australia/Sydney")
	require.NoError(t, err)
	ptr := func(s string) *time.Time { v := at(s); return &v }
	tests := []struct {
		name     string
		run      string
		newest   *time.Time
		interval int64
		every    int64
		loc      *time.Location
		due      bool
	}{
		{"no snapshot yet", "2026-11-25T03:00:00Z", nil, 86400, 1, nil, true},
		{"daily, yesterday's", "2026-11-25T03:00:00Z", ptr("2026-11-24T03:00:05Z"), 86400, 1, nil, true},
		{"daily, late last night counts as a calendar day", "2026-11-25T00:10:00Z", ptr("2026-11-24T23:50:00Z"), 86400, 1, nil, true},
		{"daily, already today", "2026-11-25T23:00:00Z", ptr("2026-11-25T00:01:00Z"), 86400, 1, nil, false},
		{"every 3 days, 2 days on", "2026-11-25T03:00:00Z", ptr("2026-11-23T03:00:00Z"), 86400, 3, nil, false},
		{"every 3 days, 3 days on", "2026-11-25T03:00:00Z", ptr("2026-11-22T23:59:59Z"), 86400, 3, nil, true},
		{"hourly interval, next hour", "2026-11-25T04:00:00Z", ptr("2026-11-25T03:00:07Z"), 3600, 1, nil, true},
		{"hourly interval, same hour", "2026-11-25T03:59:59Z", ptr("2026-11-25T03:00:00Z"), 3600, 1, nil, false},
		{"every 6 hours", "2026-11-25T06:00:00Z", ptr("2026-11-25T00:00:01Z"), 3600, 6, nil, true},
		{"newest in the future (clock skew) is not due", "2026-11-25T03:00:00Z", ptr("2026-11-26T03:00:00Z"), 86400, 1, nil, false},
		// cron(30 1 * * ? *) Europe/Berlin: Sunday 01:30 CET is 00:30Z, Monday 01:30 CEST is 23:30Z the same UTC day.
		{"daily 01:30 Berlin, Monday after the spring change", "2026-03-29T23:30:00Z", ptr("2026-03-29T00:30:00Z"), 86400, 1, berlin, true},
		{"daily 01:30 Berlin, Sunday of the autumn change", "2026-10-25T00:30:00Z", ptr("2026-10-23T23:30:00Z"), 86400, 1, berlin, true},
		{"daily 01:30 Berlin, Monday after the autumn change", "2026-10-26T00:30:00Z", ptr("2026-10-25T00:30:00Z"), 86400, 1, berlin, true},
		{"daily Berlin, twice on one local day is not due", "2026-03-29T23:30:00Z", ptr("2026-03-29T22:30:00Z"), 86400, 1, berlin, false},
		{"daily Sydney, 23:00Z is the next local morning", "2026-11-25T23:00:00Z", ptr("2026-11-25T01:00:00Z"), 86400, 1, sydney, true},
		{"hourly ignores the zone across the spring change", "2026-03-29T01:00:00Z", ptr("2026-03-29T00:00:00Z"), 3600, 1, berlin, true},
		{"hourly ignores the zone across the autumn change", "2026-10-25T01:00:00Z", ptr("2026-10-25T00:00:00Z"), 3600, 1, berlin, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Schedule{Run: at(tc.run), Interval: tc.interval, Location: tc.loc}
			assert.Equal(t, tc.due, s.Due(tc.newest, tc.every))
		})
	}
}

func snap(id, start, state string) Snapshot {
	return Snapshot{ID: id, VolumeID: "vol-1", StartTime: at(start), State: state}
}

// ran is a snapshot tagged with the run it belongs to.
func ran(id, run, start, state string) Snapshot {
	s := snap(id, start, state)
	s.Run = run
	return s
}

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

func TestSnapshotNameAndDescription(t *testing.T) {
	run := at("2026-11-25T03:00:00Z")
	tests := []struct {
		name     string
		mv       ManagedVolume
		wantName string
		wantDesc string
	}{
		{"names", ManagedVolume{VolumeID: "vol-1", VolumeName: "data", InstanceID: "i-1", InstanceName: "web"},
			"2026-11-25-data-web", "autosnap: data (vol-1) from 2026-11-25 of web (i-1)"},
		{"ids when no names", ManagedVolume{VolumeID: "vol-1", InstanceID: "i-1"},
			"2026-11-25-vol-1-i-1", "autosnap: vol-1 (vol-1) from 2026-11-25 of i-1 (i-1)"},
		{"unattached", ManagedVolume{VolumeID: "vol-1", VolumeName: "spare"},
			"2026-11-25-spare", "autosnap: spare (vol-1) from 2026-11-25 (unattached)"},
		{"control characters become spaces", ManagedVolume{VolumeID: "vol-1", VolumeName: "a\nb\tc", InstanceID: "i-1", InstanceName: "w\x00x"},
			"2026-11-25-a b c-w x", "autosnap: a b c (vol-1) from 2026-11-25 of w x (i-1)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.wantName, SnapshotName(tc.mv, Schedule{Run: run}))
			assert.Equal(t, tc.wantDesc, SnapshotDescription("autosnap", tc.mv, Schedule{Run: run}))
		})
	}
}

func TestUntrustedNamesAreCutToEC2Limits(t *testing.T) {
	run := at("2026-11-25T03:00:00Z")
	huge := strings.Repeat("日本", 300) + "\xff\xfe"
	mv := ManagedVolume{VolumeID: "vol-1", VolumeName: huge, InstanceID: "i-1", InstanceName: huge}
	name := SnapshotName(mv, Schedule{Run: run})
	desc := SnapshotDescription("autosnap", mv, Schedule{Run: run})
	assert.True(t, utf8.ValidString(name))
	assert.True(t, utf8.ValidString(desc))
	assert.Equal(t, MaxTagValueLen, utf8.RuneCountInString(name))
	assert.Equal(t, MaxDescriptionLen, utf8.RuneCountInString(desc))
	assert.True(t, strings.HasPrefix(name, "2026-11-25-日本"))
}

func TestRunTag(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	assert.Equal(t, "2026-11-25T03:00:00Z", RunTag(time.Date(2026, 11, 25, 4, 0, 0, 999, loc)))
}

func TestNamesUseTheScheduleCalendar(t *testing.T) {
	sydney, err := time.LoadLocation("Australia/Sydney")
	require.NoError(t, err)
	s := Schedule{Run: at("2026-11-25T23:00:00Z"), Location: sydney}
	mv := ManagedVolume{VolumeID: "vol-1", InstanceID: "i-1"}
	assert.Equal(t, "2026-11-26-vol-1-i-1", SnapshotName(mv, s))
	assert.Contains(t, SnapshotDescription("autosnap", mv, s), "from 2026-11-26")
}

// What a volume's plan deletes at once and what waits for this run's
// snapshot to complete (SPEC 5: nothing of a volume whose snapshot fails
// in this run is deleted in this run).
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
