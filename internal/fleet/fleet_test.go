package fleet

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var keys = KeysFor("autosnap")

func TestManage(t *testing.T) {
	inst := func(tags map[string]string) *Instance { return &Instance{ID: "i-1", Tags: tags} }
	tests := []struct {
		name      string
		vol       map[string]string
		inst      *Instance
		managed   bool
		every     int64
		retain    int
		problem   string
		instName  string
		volumeRef string
	}{
		{name: "instance tags apply to its volume", inst: inst(map[string]string{"autosnap": "1", "autosnap_retain": "7", "Name": "web"}), managed: true, every: 1, retain: 7, instName: "web"},
		{name: "volume overrides both", vol: map[string]string{"autosnap": "2", "autosnap_retain": "3"}, inst: inst(map[string]string{"autosnap": "1", "autosnap_retain": "7"}), managed: true, every: 2, retain: 3},
		{name: "volume overrides only retain", vol: map[string]string{"autosnap_retain": "30"}, inst: inst(map[string]string{"autosnap": "1", "autosnap_retain": "7"}), managed: true, every: 1, retain: 30},
		{name: "volume overrides only interval", vol: map[string]string{"autosnap": "7"}, inst: inst(map[string]string{"autosnap": "1", "autosnap_retain": "7"}), managed: true, every: 7, retain: 7},
		{name: "unattached volume on its own tags", vol: map[string]string{"autosnap": "1", "autosnap_retain": "1"}, managed: true, every: 1, retain: 1},
		{name: "volume tagged on an untagged instance", vol: map[string]string{"autosnap": "1", "autosnap_retain": "2"}, inst: inst(map[string]string{}), managed: true, every: 1, retain: 2},
		{name: "ignore with an empty value on the volume", vol: map[string]string{"autosnap_ignore": ""}, inst: inst(map[string]string{"autosnap": "1", "autosnap_retain": "7"}), managed: false},
		{name: "ignore on the instance skips its volumes", vol: map[string]string{"autosnap": "1", "autosnap_retain": "2"}, inst: inst(map[string]string{"autosnap": "1", "autosnap_ignore": "yes"}), managed: false},
		{name: "neither tag anywhere: not managed", inst: inst(map[string]string{"Name": "x"}), managed: false},
		{name: "unattached and untagged", managed: false},
		{name: "other prefix only", vol: map[string]string{"hourly": "1", "hourly_retain": "2"}, managed: false},
		{name: "retain missing", inst: inst(map[string]string{"autosnap": "1"}), managed: true, problem: "tag autosnap_retain is missing"},
		{name: "interval missing", vol: map[string]string{"autosnap_retain": "3"}, managed: true, problem: "tag autosnap is missing"},
		{name: "zero interval", inst: inst(map[string]string{"autosnap": "0", "autosnap_retain": "3"}), managed: true, problem: `tag autosnap="0" is not a positive whole number`},
		{name: "negative retain", inst: inst(map[string]string{"autosnap": "1", "autosnap_retain": "-2"}), managed: true, problem: `tag autosnap_retain="-2" is not a positive whole number`},
		{name: "not an integer", inst: inst(map[string]string{"autosnap": "1.5", "autosnap_retain": "x"}), managed: true, problem: `tag autosnap="1.5" is not a positive whole number; tag autosnap_retain="x" is not a positive whole number`},
		{name: "volume override breaks a good instance value", vol: map[string]string{"autosnap_retain": "many"}, inst: inst(map[string]string{"autosnap": "1", "autosnap_retain": "3"}), managed: true, problem: `tag autosnap_retain="many" is not a positive whole number`},
		{name: "spaces around a number are fine", inst: inst(map[string]string{"autosnap": " 1 ", "autosnap_retain": "3"}), managed: true, every: 1, retain: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vol := Volume{ID: "vol-1", Tags: tc.vol}
			mv, managed := Manage(keys, vol, tc.inst)
			require.Equal(t, tc.managed, managed)
			if !managed {
				return
			}
			assert.Equal(t, tc.every, mv.Every)
			assert.Equal(t, tc.retain, mv.Retain)
			assert.Equal(t, tc.problem, mv.Problem)
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

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDue(t *testing.T) {
	ptr := func(s string) *time.Time { v := at(s); return &v }
	tests := []struct {
		name     string
		run      string
		newest   *time.Time
		interval int64
		every    int64
		due      bool
	}{
		{"no snapshot yet", "2026-11-25T03:00:00Z", nil, 86400, 1, true},
		{"daily, yesterday's", "2026-11-25T03:00:00Z", ptr("2026-11-24T03:00:05Z"), 86400, 1, true},
		{"daily, late last night counts as a calendar day", "2026-11-25T00:10:00Z", ptr("2026-11-24T23:50:00Z"), 86400, 1, true},
		{"daily, already today", "2026-11-25T23:00:00Z", ptr("2026-11-25T00:01:00Z"), 86400, 1, false},
		{"every 3 days, 2 days on", "2026-11-25T03:00:00Z", ptr("2026-11-23T03:00:00Z"), 86400, 3, false},
		{"every 3 days, 3 days on", "2026-11-25T03:00:00Z", ptr("2026-11-22T23:59:59Z"), 86400, 3, true},
		{"hourly interval, next hour", "2026-11-25T04:00:00Z", ptr("2026-11-25T03:00:07Z"), 3600, 1, true},
		{"hourly interval, same hour", "2026-11-25T03:59:59Z", ptr("2026-11-25T03:00:00Z"), 3600, 1, false},
		{"every 6 hours", "2026-11-25T06:00:00Z", ptr("2026-11-25T00:00:01Z"), 3600, 6, true},
		{"newest in the future (clock skew) is not due", "2026-11-25T03:00:00Z", ptr("2026-11-26T03:00:00Z"), 86400, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.due, Due(at(tc.run), tc.newest, tc.interval, tc.every))
		})
	}
}

func snap(id, start, state string) Snapshot {
	return Snapshot{ID: id, VolumeID: "vol-1", StartTime: at(start), State: state}
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
	tests := []struct {
		name   string
		mv     ManagedVolume
		snaps  []Snapshot
		create bool
		done   bool
		delete []string
		kept   int
	}{
		{"first snapshot", mv(1, 3), nil, true, false, nil, 1},
		{"keeps K counting the new one", mv(1, 3), four, true, false, []string{"snap-2", "snap-1"}, 3},
		{"retain 1 keeps only the new one", mv(1, 1), four, true, false, []string{"snap-4", "snap-3", "snap-2", "snap-1"}, 1},
		{"not due still prunes to K", mv(7, 2), four, false, false, []string{"snap-2", "snap-1"}, 2},
		{"under K deletes nothing", mv(1, 10), four, true, false, nil, 5},
		{"error snapshots do not count and are deleted", mv(1, 2), append([]Snapshot{snap("snap-e", "2026-11-24T12:00:00Z", StateError)}, four...),
			true, false, []string{"snap-3", "snap-2", "snap-1", "snap-e"}, 2},
		{"pending counts as newest: not due, counts toward K", mv(1, 2), append([]Snapshot{snap("snap-p", "2026-11-25T02:00:00Z", StatePending)}, four...),
			false, false, []string{"snap-3", "snap-2", "snap-1"}, 2},
		{"this run's snapshot already exists", mv(1, 2), append([]Snapshot{{ID: "snap-r", VolumeID: "vol-1", StartTime: at("2026-11-25T03:00:04Z"), State: StateCompleted, Run: runTag}}, four...),
			false, true, []string{"snap-3", "snap-2", "snap-1"}, 2},
		{"problem volume: nothing created or deleted", ManagedVolume{VolumeID: "vol-1", Problem: "tag autosnap is missing"}, four, false, false, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := PlanVolume(tc.mv, tc.snaps, run, runTag, 86400)
			assert.Equal(t, tc.create, p.Create, "create")
			assert.Equal(t, tc.done, p.Done, "done")
			assert.Equal(t, tc.delete, p.Delete, "delete")
			assert.Equal(t, tc.kept, p.Kept, "kept")
		})
	}
}

func TestPlanVolumeTiesAreStable(t *testing.T) {
	run := at("2026-11-25T03:00:00Z")
	same := []Snapshot{snap("snap-b", "2026-11-24T03:00:00Z", StateCompleted), snap("snap-a", "2026-11-24T03:00:00Z", StateCompleted), snap("snap-c", "2026-11-24T03:00:00Z", StateCompleted)}
	first := PlanVolume(ManagedVolume{VolumeID: "vol-1", Every: 1, Retain: 2}, same, run, RunTag(run), 86400)
	reversed := []Snapshot{same[2], same[1], same[0]}
	second := PlanVolume(ManagedVolume{VolumeID: "vol-1", Every: 1, Retain: 2}, reversed, run, RunTag(run), 86400)
	assert.Equal(t, []string{"snap-b", "snap-a"}, first.Delete)
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
			assert.Equal(t, tc.wantName, SnapshotName(tc.mv, run))
			assert.Equal(t, tc.wantDesc, SnapshotDescription("autosnap", tc.mv, run))
		})
	}
}

func TestUntrustedNamesAreCutToEC2Limits(t *testing.T) {
	run := at("2026-11-25T03:00:00Z")
	huge := strings.Repeat("日本", 300) + "\xff\xfe"
	mv := ManagedVolume{VolumeID: "vol-1", VolumeName: huge, InstanceID: "i-1", InstanceName: huge}
	name := SnapshotName(mv, run)
	desc := SnapshotDescription("autosnap", mv, run)
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
