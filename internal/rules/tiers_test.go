package rules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tierCase is one row of a tier table: restore points' run times, newest
// first, and the labels the tier gives each (nil: not kept by it).
type tierCase struct {
	name string
	runs []string
	n    int
	loc  *time.Location
	want [][]string
}

func runTimes(ss []string) []time.Time {
	out := make([]time.Time, len(ss))
	for i, s := range ss {
		out[i] = at(s)
	}
	return out
}

func checkTier(t *testing.T, tiers func(n int) Tiers, cases []tierCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := TierKeeps(runTimes(tc.runs), tiers(tc.n), tc.loc)
			require.Len(t, got, len(tc.runs))
			assert.Equal(t, tc.want, got)
		})
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func TestTierKeepsWeekly(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	// 2026-11-25 is a Wednesday of ISO week 48; 2026-11-22 the Sunday of 47.
	daily := []string{"2026-11-25T03:00:00Z", "2026-11-24T03:00:00Z", "2026-11-23T03:00:00Z", "2026-11-22T03:00:00Z",
		"2026-11-21T03:00:00Z", "2026-11-16T03:00:00Z", "2026-11-15T03:00:00Z"}
	checkTier(t, func(n int) Tiers { return Tiers{Weekly: n} }, []tierCase{
		{name: "the newest point of each of the W most recent weeks", runs: daily, n: 2,
			want: [][]string{{"weekly 2026-W48"}, nil, nil, {"weekly 2026-W47"}, nil, nil, nil}},
		{name: "W larger than the weeks there are keeps one per week", runs: daily, n: 10,
			want: [][]string{{"weekly 2026-W48"}, nil, nil, {"weekly 2026-W47"}, nil, nil, {"weekly 2026-W46"}}},
		{name: "weeks without a point do not count", runs: []string{"2026-11-25T03:00:00Z", "2026-10-28T03:00:00Z", "2026-10-27T03:00:00Z", "2026-09-30T03:00:00Z"}, n: 2,
			want: [][]string{{"weekly 2026-W48"}, {"weekly 2026-W44"}, nil, nil}},
		{name: "ISO weeks cross the new year: 2026-W53 runs to Sunday 2027-01-03", runs: []string{"2027-01-04T03:00:00Z", "2027-01-02T03:00:00Z", "2026-12-28T03:00:00Z", "2026-12-27T03:00:00Z"}, n: 3,
			want: [][]string{{"weekly 2027-W01"}, {"weekly 2026-W53"}, nil, {"weekly 2026-W52"}}},
		{name: "ISO week-numbering year: Monday 2025-12-29 is in 2026-W01", runs: []string{"2025-12-29T03:00:00Z", "2025-12-28T03:00:00Z"}, n: 2,
			want: [][]string{{"weekly 2026-W01"}, {"weekly 2025-W52"}}},
		{name: "in the schedule's zone: Monday 00:30 Berlin is Sunday 23:30 UTC, a week of its own", runs: []string{"2026-11-22T23:30:00Z", "2026-11-22T03:00:00Z"}, n: 2, loc: berlin,
			want: [][]string{{"weekly 2026-W48"}, {"weekly 2026-W47"}}},
		{name: "the same two in UTC are one week", runs: []string{"2026-11-22T23:30:00Z", "2026-11-22T03:00:00Z"}, n: 2,
			want: [][]string{{"weekly 2026-W47"}, nil}},
		{name: "zero keeps nothing", runs: daily, n: 0, want: make([][]string, len(daily))},
		{name: "no points", runs: nil, n: 4, want: [][]string{}},
	})
}

func TestTierKeepsMonthly(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	weekly := []string{"2026-11-25T03:00:00Z", "2026-11-18T03:00:00Z", "2026-11-04T03:00:00Z", "2026-10-28T03:00:00Z",
		"2026-10-07T03:00:00Z", "2026-09-30T03:00:00Z", "2026-08-26T03:00:00Z"}
	checkTier(t, func(n int) Tiers { return Tiers{Monthly: n} }, []tierCase{
		{name: "the newest point of each of the M most recent months", runs: weekly, n: 3,
			want: [][]string{{"monthly 2026-11"}, nil, nil, {"monthly 2026-10"}, nil, {"monthly 2026-09"}, nil}},
		{name: "months without a point do not count", runs: []string{"2026-11-25T03:00:00Z", "2026-06-15T03:00:00Z", "2026-06-01T03:00:00Z", "2025-12-31T03:00:00Z"}, n: 3,
			want: [][]string{{"monthly 2026-11"}, {"monthly 2026-06"}, nil, {"monthly 2025-12"}}},
		{name: "in the schedule's zone: 23:30 UTC on October 31 is November 1 in Berlin", runs: []string{"2026-10-31T23:30:00Z", "2026-10-30T23:30:00Z"}, n: 2, loc: berlin,
			want: [][]string{{"monthly 2026-11"}, {"monthly 2026-10"}}},
		{name: "the same two in UTC are one month", runs: []string{"2026-10-31T23:30:00Z", "2026-10-30T23:30:00Z"}, n: 2,
			want: [][]string{{"monthly 2026-10"}, nil}},
		{name: "zero keeps nothing", runs: weekly, n: 0, want: make([][]string, len(weekly))},
	})
}

func TestTierKeepsYearly(t *testing.T) {
	sydney := mustZone(t, "Australia/Sydney")
	monthly := []string{"2026-11-01T03:00:00Z", "2026-01-01T03:00:00Z", "2025-12-01T03:00:00Z", "2025-06-01T03:00:00Z",
		"2024-12-01T03:00:00Z", "2022-03-01T03:00:00Z"}
	checkTier(t, func(n int) Tiers { return Tiers{Yearly: n} }, []tierCase{
		{name: "the newest point of each of the Y most recent years", runs: monthly, n: 2,
			want: [][]string{{"yearly 2026"}, nil, {"yearly 2025"}, nil, nil, nil}},
		{name: "years without a point do not count", runs: monthly, n: 4,
			want: [][]string{{"yearly 2026"}, nil, {"yearly 2025"}, nil, {"yearly 2024"}, {"yearly 2022"}}},
		{name: "in the schedule's zone: 14:00 UTC on December 31 is the new year in Sydney", runs: []string{"2026-12-31T14:00:00Z", "2026-12-30T14:00:00Z"}, n: 2, loc: sydney,
			want: [][]string{{"yearly 2027"}, {"yearly 2026"}}},
		{name: "the same two in UTC are one year", runs: []string{"2026-12-31T14:00:00Z", "2026-12-30T14:00:00Z"}, n: 2,
			want: [][]string{{"yearly 2026"}, nil}},
		{name: "zero keeps nothing", runs: monthly, n: 0, want: make([][]string, len(monthly))},
	})
}

func TestTierKeepsAllTiersTogether(t *testing.T) {
	got := TierKeeps(runTimes([]string{"2026-11-25T03:00:00Z", "2026-11-22T03:00:00Z", "2026-10-31T03:00:00Z", "2025-12-31T03:00:00Z"}),
		Tiers{Weekly: 2, Monthly: 2, Yearly: 2}, nil)
	assert.Equal(t, [][]string{
		{"weekly 2026-W48", "monthly 2026-11", "yearly 2026"},
		{"weekly 2026-W47"},
		{"monthly 2026-10"},
		{"yearly 2025"},
	}, got)
}

// TestPlanVolumeWithTiers: the tiers join K in the keep rule, and SPEC 5's
// completion rule holds for them: a pending restore point takes its
// period's slot only until it is completed.
func TestPlanVolumeWithTiers(t *testing.T) {
	run := at("2026-11-25T03:00:00Z") // Wednesday, 2026-W48
	mv := func(retain int, tiers Tiers) ManagedVolume {
		return ManagedVolume{VolumeID: "vol-1", Every: 1, Retain: retain, Tiers: tiers}
	}
	fridays := []Snapshot{
		snap("snap-1120", "2026-11-20T03:00:00Z", StateCompleted), // W47
		snap("snap-1113", "2026-11-13T03:00:00Z", StateCompleted), // W46
		snap("snap-1106", "2026-11-06T03:00:00Z", StateCompleted), // W45
		snap("snap-1030", "2026-10-30T03:00:00Z", StateCompleted), // W44, October
	}
	tests := []struct {
		name              string
		mv                ManagedVolume
		snaps             []Snapshot
		create, blocked   bool
		delete, displaced []string
		kept              int
		keptBy            []KeptBy
	}{
		{name: "without tiers K alone decides", mv: mv(1, Tiers{}), snaps: fridays, create: true,
			delete: []string{"snap-1113", "snap-1106", "snap-1030"}, displaced: []string{"snap-1120"}, kept: 2},
		{name: "a tier keeps what K does not", mv: mv(1, Tiers{Weekly: 3}), snaps: fridays, create: true,
			// This run's takes W48 until it completes; until then the
			// completed points keep W47-W45, so W45 goes only then.
			delete: []string{"snap-1030"}, displaced: []string{"snap-1106"}, kept: 4,
			keptBy: []KeptBy{{"snap-1120", "weekly 2026-W47"}, {"snap-1113", "weekly 2026-W46"}}},
		{name: "any tier keeps: monthly keeps October's newest", mv: mv(1, Tiers{Weekly: 2, Monthly: 2}), snaps: fridays, create: true,
			delete: []string{"snap-1106"}, displaced: []string{"snap-1113"}, kept: 4,
			keptBy: []KeptBy{{"snap-1120", "weekly 2026-W47"}, {"snap-1030", "monthly 2026-10"}}},
		{name: "not due: K and the tiers prune what neither keeps", mv: mv(2, Tiers{Monthly: 1}),
			snaps:  append([]Snapshot{ran("snap-now", RunTag(run), "2026-11-25T03:00:01Z", StateCompleted)}, fridays...),
			delete: []string{"snap-1113", "snap-1106", "snap-1030"}, kept: 2,
			keptBy: []KeptBy{{"snap-now", "newest 2, monthly 2026-11"}, {"snap-1120", "newest 2"}}},
		{name: "a pending point's week: the completed points keep one more week until it completes", mv: mv(1, Tiers{Weekly: 2}),
			snaps: append([]Snapshot{snap("snap-1123", "2026-11-23T03:00:00Z", StatePending)}, fridays...), blocked: true,
			delete: []string{"snap-1106", "snap-1030"}, kept: 3,
			keptBy: []KeptBy{{"snap-1123", "newest 1, weekly 2026-W48"}, {"snap-1120", "newest 1, weekly 2026-W47"}, {"snap-1113", "weekly 2026-W46"}}},
		{name: "a tier problem: nothing created or deleted", mv: ManagedVolume{VolumeID: "vol-1", Problem: "tag autosnap_keep_weekly=\"x\" is not a positive whole number"},
			snaps: fridays},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := PlanVolume(tc.mv, tc.snaps, Schedule{Run: run, Interval: 86400})
			assert.Equal(t, tc.create, p.Create, "create")
			assert.Equal(t, tc.blocked, p.Blocked, "blocked")
			assert.Equal(t, tc.delete, p.Delete, "delete")
			assert.Equal(t, tc.displaced, p.Displaced, "displaced")
			assert.Equal(t, tc.kept, p.Kept, "kept")
			assert.Equal(t, tc.keptBy, p.KeptBy, "kept by")
		})
	}
}

func TestManageTiers(t *testing.T) {
	inst := func(id string, tags map[string]string) Instance { return Instance{ID: id, Tags: tags} }
	with := func(extra map[string]string) map[string]string {
		tags := map[string]string{"autosnap": "1", "autosnap_retain": "7"}
		for k, v := range extra {
			tags[k] = v
		}
		return tags
	}
	tests := []struct {
		name     string
		vol      map[string]string
		attached []Instance
		tiers    Tiers
		problem  string
	}{
		{name: "no tier tags: no tiers", attached: []Instance{inst("i-1", with(nil))}},
		{name: "instance tiers apply to its volume",
			attached: []Instance{inst("i-1", with(map[string]string{"autosnap_keep_weekly": "4", "autosnap_keep_monthly": "12", "autosnap_keep_yearly": "3"}))},
			tiers:    Tiers{Weekly: 4, Monthly: 12, Yearly: 3}},
		{name: "the volume's own tag overrides the instance's", vol: map[string]string{"autosnap_keep_monthly": "2"},
			attached: []Instance{inst("i-1", with(map[string]string{"autosnap_keep_weekly": "4", "autosnap_keep_monthly": "12"}))},
			tiers:    Tiers{Weekly: 4, Monthly: 2}},
		{name: "multi-attach: the largest tier value among the managers",
			attached: []Instance{inst("i-a", with(map[string]string{"autosnap_keep_weekly": "2"})), inst("i-b", with(map[string]string{"autosnap_keep_weekly": "8", "autosnap_keep_yearly": "1"}))},
			tiers:    Tiers{Weekly: 8, Yearly: 1}},
		{name: "multi-attach: a bad tier value is outvoted by a valid one",
			attached: []Instance{inst("i-a", with(map[string]string{"autosnap_keep_monthly": "lots"})), inst("i-b", with(map[string]string{"autosnap_keep_monthly": "6"}))},
			tiers:    Tiers{Monthly: 6}},
		{name: "zero is not a positive whole number", attached: []Instance{inst("i-1", with(map[string]string{"autosnap_keep_weekly": "0"}))},
			problem: `tag autosnap_keep_weekly="0" is not a positive whole number`},
		{name: "a fraction on the volume", vol: map[string]string{"autosnap_keep_yearly": "1.5"}, attached: []Instance{inst("i-1", with(nil))},
			problem: `tag autosnap_keep_yearly="1.5" is not a positive whole number`},
		{name: "an empty value", attached: []Instance{inst("i-1", with(map[string]string{"autosnap_keep_monthly": ""}))},
			problem: `tag autosnap_keep_monthly="" is not a positive whole number`},
		{name: "the volume's bad value overrides a good instance value", vol: map[string]string{"autosnap_keep_weekly": "-1"},
			attached: []Instance{inst("i-1", with(map[string]string{"autosnap_keep_weekly": "4"}))},
			problem:  `tag autosnap_keep_weekly="-1" is not a positive whole number`},
		{name: "problems join the others'", attached: []Instance{inst("i-1", map[string]string{"autosnap": "x", "autosnap_retain": "7", "autosnap_keep_yearly": "y"})},
			problem: `tag autosnap="x" is not a positive whole number; tag autosnap_keep_yearly="y" is not a positive whole number`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mv, managed := Manage(keys, Volume{ID: "vol-1", Tags: tc.vol}, tc.attached)
			require.True(t, managed)
			assert.Equal(t, tc.problem, mv.Problem)
			if tc.problem == "" {
				assert.Equal(t, tc.tiers, mv.Tiers)
			}
		})
	}
}
