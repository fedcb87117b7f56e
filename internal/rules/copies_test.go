package rules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCopySettings(t *testing.T) {
	k := KeysFor("autosnap")
	k.Here, k.Partition = "eu-west-1", []string{"eu-west-1", "eu-central-1", "us-east-1", "us-west-2"}
	managed := map[string]string{"autosnap": "1", "autosnap_retain": "7"}
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for key, v := range managed {
			out[key] = v
		}
		for key, v := range extra {
			out[key] = v
		}
		return out
	}
	tests := []struct {
		name    string
		vol     map[string]string
		inst    []map[string]string
		to      []string
		retain  int
		problem string
	}{
		{name: "no P_copy: no copies", vol: managed},
		{name: "one destination, retain defaults to the volume's", vol: with(map[string]string{"autosnap_copy": "us-east-1"}), to: []string{"us-east-1"}, retain: 7},
		{name: "a list, spaces and repeats", vol: with(map[string]string{"autosnap_copy": " us-west-2, us-east-1,us-west-2 ", "autosnap_copy_retain": "3"}),
			to: []string{"us-east-1", "us-west-2"}, retain: 3},
		{name: "the volume's own region is a problem", vol: with(map[string]string{"autosnap_copy": "us-east-1,eu-west-1"}),
			problem: `tag autosnap_copy="us-east-1,eu-west-1": "eu-west-1" is the volume's own region`},
		{name: "an unknown region is a problem", vol: with(map[string]string{"autosnap_copy": "us-east-9"}),
			problem: `"us-east-9" is not a region of this partition`},
		{name: "a typo is a problem", vol: with(map[string]string{"autosnap_copy": "useast1"}), problem: `"useast1" is not a region name`},
		{name: "empty names no region", vol: with(map[string]string{"autosnap_copy": " , "}), problem: "names no region"},
		{name: "bad copy retain", vol: with(map[string]string{"autosnap_copy": "us-east-1", "autosnap_copy_retain": "0"}),
			problem: `tag autosnap_copy_retain="0" is not a positive whole number`},
		{name: "copy retain without P_copy is ignored", vol: with(map[string]string{"autosnap_copy_retain": "x"})},
		{name: "from the instance", vol: map[string]string{}, inst: []map[string]string{with(map[string]string{"autosnap_copy": "us-east-1"})},
			to: []string{"us-east-1"}, retain: 7},
		{name: "multi-attach: the union of the managers' destinations, the largest copy retain", vol: map[string]string{}, inst: []map[string]string{
			with(map[string]string{"autosnap_copy": "us-east-1", "autosnap_copy_retain": "2"}),
			with(map[string]string{"autosnap_copy": "us-west-2", "autosnap_copy_retain": "5"})},
			to: []string{"us-east-1", "us-west-2"}, retain: 5},
		{name: "multi-attach: one manager's bad list does not cost the other's", vol: map[string]string{}, inst: []map[string]string{
			with(map[string]string{"autosnap_copy": "nowhere"}), with(map[string]string{"autosnap_copy": "us-west-2"})},
			to: []string{"us-west-2"}, retain: 7},
		{name: "the volume's own tag overrides the instance's", vol: map[string]string{"autosnap_copy": "us-west-2"},
			inst: []map[string]string{with(map[string]string{"autosnap_copy": "us-east-1"})}, to: []string{"us-west-2"}, retain: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var attached []Instance
			for i, tags := range tt.inst {
				attached = append(attached, Instance{ID: "i-" + string(rune('a'+i)), Tags: tags})
			}
			mv, ok := Manage(k, Volume{ID: "vol-1", Tags: tt.vol}, attached)
			assert.True(t, ok)
			if tt.problem != "" {
				assert.Contains(t, mv.Problem, tt.problem)
				return
			}
			assert.Empty(t, mv.Problem)
			assert.Equal(t, tt.to, mv.CopyTo)
			assert.Equal(t, tt.retain, mv.CopyRetain)
		})
	}
}

func TestNewestCompleted(t *testing.T) {
	run := at("2026-11-25T03:00:00Z")
	snaps := []Snapshot{
		snap("snap-1", "2026-11-23T03:00:00Z", StateCompleted),
		ran("snap-2b", "2026-11-24T03:00:00Z", "2026-11-24T03:00:09Z", StateCompleted),
		ran("snap-2a", "2026-11-24T03:00:00Z", "2026-11-24T03:00:01Z", StateCompleted),
		snap("snap-p", "2026-11-24T12:00:00Z", StatePending),
		snap("snap-e", "2026-11-24T13:00:00Z", StateError),
		snap("snap-f", "2026-11-26T03:00:00Z", StateCompleted), // a later run's
	}
	got := NewestCompleted(snaps, run)
	if assert.NotNil(t, got) {
		assert.Equal(t, "snap-2a", got.ID, "the keeper of the newest completed point: pending, error and future ones are not copied")
	}
	assert.Nil(t, NewestCompleted([]Snapshot{snap("snap-p", "2026-11-24T12:00:00Z", StatePending)}, run))
}

func TestPlanCopy(t *testing.T) {
	mv := ManagedVolume{VolumeID: "vol-1", Every: 1, Retain: 7, CopyRetain: 2}
	src := func(id, run string) *Snapshot { s := ran(id, run, run, StateCompleted); return &s }
	cp := func(id, run, state string) Snapshot { return ran(id, run, "2026-11-25T04:00:00Z", state) }
	tests := []struct {
		name      string
		newest    *Snapshot
		copies    []Snapshot
		source    string
		delete    []string
		displaced []string
		kept      int
	}{
		{name: "first copy", newest: src("snap-3", "2026-11-24T03:00:00Z"), source: "snap-3", kept: 1},
		{name: "no completed restore point: nothing to copy", kept: 0},
		{name: "the newest already has a copy: none started, extra copies pruned to P_copy_retain",
			newest: src("snap-3", "2026-11-24T03:00:00Z"),
			copies: []Snapshot{cp("c-1", "2026-11-22T03:00:00Z", StateCompleted), cp("c-2", "2026-11-23T03:00:00Z", StateCompleted), cp("c-3", "2026-11-24T03:00:00Z", StateCompleted)},
			delete: []string{"c-1"}, kept: 2},
		{name: "a pending copy of the newest is not copied again",
			newest: src("snap-3", "2026-11-24T03:00:00Z"), copies: []Snapshot{cp("c-3", "2026-11-24T03:00:00Z", StatePending)}, kept: 1},
		{name: "a new copy displaces the second completed one only once it is completed itself",
			newest: src("snap-4", "2026-11-25T03:00:00Z"),
			copies: []Snapshot{cp("c-1", "2026-11-22T03:00:00Z", StateCompleted), cp("c-2", "2026-11-23T03:00:00Z", StateCompleted), cp("c-3", "2026-11-24T03:00:00Z", StateCompleted)},
			source: "snap-4", delete: []string{"c-1"}, displaced: []string{"c-2"}, kept: 3},
		{name: "while an older copy is pending, the completed ones it would displace stay",
			newest: src("snap-3", "2026-11-24T03:00:00Z"),
			copies: []Snapshot{cp("c-1", "2026-11-22T03:00:00Z", StateCompleted), cp("c-2", "2026-11-23T03:00:00Z", StateCompleted), cp("c-3", "2026-11-24T03:00:00Z", StatePending)},
			delete: nil, kept: 3},
		{name: "duplicate copies of one run: the completed, earliest one stays",
			newest: src("snap-3", "2026-11-24T03:00:00Z"),
			copies: []Snapshot{cp("c-3b", "2026-11-24T03:00:00Z", StateCompleted), ran("c-3a", "2026-11-24T03:00:00Z", "2026-11-24T03:30:00Z", StateCompleted)},
			delete: []string{"c-3b"}, kept: 1},
		{name: "a pending copy of an older run: no new copy until it completes, and it is never deleted",
			newest: src("snap-4", "2026-11-25T03:00:00Z"),
			copies: []Snapshot{cp("c-2", "2026-11-23T03:00:00Z", StateCompleted), cp("c-3", "2026-11-24T03:00:00Z", StatePending),
				cp("c-1", "2026-11-22T03:00:00Z", StateCompleted)},
			delete: nil, kept: 3},
		{name: "a pending copy older than every kept completed one is not deleted either",
			newest: src("snap-4", "2026-11-25T03:00:00Z"),
			copies: []Snapshot{cp("c-4", "2026-11-25T03:00:00Z", StateCompleted), cp("c-3", "2026-11-24T03:00:00Z", StateCompleted),
				cp("c-1", "2026-11-22T03:00:00Z", StatePending)},
			kept: 3},
		{name: "error copies do not count and go",
			newest: src("snap-3", "2026-11-24T03:00:00Z"), copies: []Snapshot{cp("c-e", "2026-11-24T03:00:00Z", StateError)},
			source: "snap-3", delete: []string{"c-e"}, kept: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := PlanCopy(mv, "us-east-1", tt.newest, tt.copies, time.UTC)
			var source string
			if plan.Source != nil {
				source = plan.Source.ID
			}
			assert.Equal(t, tt.source, source, "copied")
			assert.Equal(t, tt.delete, plan.Delete, "deleted")
			assert.Equal(t, tt.displaced, plan.Displaced, "displaced")
			assert.Equal(t, tt.kept, plan.Kept, "kept")
		})
	}
}

func TestPlanCopyTiersApplyToCopies(t *testing.T) {
	mv := ManagedVolume{VolumeID: "vol-1", Every: 1, Retain: 7, CopyRetain: 1, Tiers: Tiers{Monthly: 2}}
	copies := []Snapshot{
		ran("c-sep", "2026-09-30T03:00:00Z", "2026-09-30T04:00:00Z", StateCompleted),
		ran("c-oct", "2026-10-31T03:00:00Z", "2026-10-31T04:00:00Z", StateCompleted),
		ran("c-nov1", "2026-11-23T03:00:00Z", "2026-11-23T04:00:00Z", StateCompleted),
		ran("c-nov2", "2026-11-24T03:00:00Z", "2026-11-24T04:00:00Z", StateCompleted),
	}
	plan := PlanCopy(mv, "us-east-1", nil, copies, time.UTC)
	assert.Equal(t, []string{"c-nov1", "c-sep"}, plan.Delete, "newest 1 plus the newest of the two most recent months")
	assert.Equal(t, 2, plan.Kept)
}

func TestHoldKeepsSourcesOfPendingCopies(t *testing.T) {
	v := VolumePlan{Delete: []string{"snap-1", "snap-2"}, Displaced: []string{"snap-3"}}
	v.Hold(map[string]bool{"snap-2": true, "snap-3": true})
	assert.Equal(t, []string{"snap-1"}, v.Delete)
	assert.Empty(t, v.Displaced)
}

func TestSetCopySources(t *testing.T) {
	run := at("2026-11-25T03:00:00Z")
	small := []Snapshot{ran("s-24", "2026-11-24T03:00:00Z", "2026-11-24T03:00:00Z", StateCompleted),
		ran("s-23", "2026-11-23T03:00:00Z", "2026-11-23T03:00:00Z", StateCompleted), ran("s-22", "2026-11-22T03:00:00Z", "2026-11-22T03:00:00Z", StateCompleted)}
	// The big member is snapshotted every other run, its newest pending.
	big := []Snapshot{ran("b-24", "2026-11-24T03:00:00Z", "2026-11-24T03:00:00Z", StatePending),
		ran("b-22", "2026-11-22T03:00:00Z", "2026-11-22T03:00:00Z", StateCompleted)}
	got := SetCopySources(map[string][]Snapshot{"small": small, "big": big}, run)
	require.NotNil(t, got)
	assert.Equal(t, "s-22", got["small"].ID, "the newest run both have completed")
	assert.Equal(t, "b-22", got["big"].ID)
	assert.Nil(t, SetCopySources(map[string][]Snapshot{"small": small[:1], "big": big}, run), "no common completed run")
}

func TestSetSettledRun(t *testing.T) {
	run := at("2026-11-25T03:00:00Z")
	fast := []Snapshot{ran("f-24", "2026-11-24T03:00:00Z", "2026-11-24T03:00:00Z", StateCompleted)}
	slow := []Snapshot{ran("s-24", "2026-11-24T03:00:00Z", "2026-11-24T03:00:00Z", StatePending),
		ran("s-21", "2026-11-21T03:00:00Z", "2026-11-21T03:00:00Z", StateCompleted)}
	failing := []Snapshot{ran("e-24", "2026-11-24T03:00:00Z", "2026-11-24T03:00:00Z", StateError),
		ran("e-21", "2026-11-21T03:00:00Z", "2026-11-21T03:00:00Z", StateCompleted)}
	assert.Equal(t, at("2026-11-21T03:00:00Z"), SetSettledRun(map[string][]Snapshot{"fast": fast, "slow": slow}, run), "a slow member holds the set back")
	assert.Equal(t, at("2026-11-24T03:00:00Z"), SetSettledRun(map[string][]Snapshot{"fast": fast, "failing": failing}, run), "an error is settled")
}
