package rules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOverdue(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	done := func(run string) Snapshot { return Snapshot{ID: "snap-" + run, State: StateCompleted, Run: run} }
	with := func(s Snapshot, state string) Snapshot { s.State = state; return s }
	const run = "2026-11-25T03:00:00Z"
	tests := []struct {
		name     string
		run      string
		snaps    []Snapshot
		created  string
		interval int64
		every    int64
		loc      *time.Location
		want     Age
		overdue  bool
	}{
		{"daily, two days behind is not overdue", run, []Snapshot{done("2026-11-23T03:00:00Z")}, "2026-01-01T00:00:00Z", 86400, 1, nil, Age{Units: 2}, false},
		{"daily, three days behind is overdue", run, []Snapshot{done("2026-11-22T03:00:00Z")}, "2026-01-01T00:00:00Z", 86400, 1, nil, Age{Units: 3}, true},
		{"the newest completed counts, not the oldest", run, []Snapshot{done("2026-11-01T03:00:00Z"), done("2026-11-24T03:00:00Z")}, "2026-01-01T00:00:00Z", 86400, 1, nil, Age{Units: 1}, false},
		{"a completed snapshot of this run clears it", run, []Snapshot{done("2026-11-01T03:00:00Z"), done(run)}, "2026-01-01T00:00:00Z", 86400, 1, nil, Age{}, false},
		{"a pending snapshot of this run does not clear it", run, []Snapshot{done("2026-11-01T03:00:00Z"), with(done(run), StatePending)}, "2026-01-01T00:00:00Z", 86400, 1, nil, Age{Units: 24}, true},
		{"an error snapshot does not clear it", run, []Snapshot{done("2026-11-20T03:00:00Z"), with(done("2026-11-24T03:00:00Z"), StateError)}, "2026-01-01T00:00:00Z", 86400, 1, nil, Age{Units: 5}, true},
		{"a run time later than this run's is never the newest", run, []Snapshot{done("2026-11-20T03:00:00Z"), done("2026-11-26T03:00:00Z")}, "2026-01-01T00:00:00Z", 86400, 1, nil, Age{Units: 5}, true},
		{"counted by run time (P_run), not by EC2's start", run, []Snapshot{{ID: "snap-late", State: StateCompleted, Run: "2026-11-22T23:00:00Z", StartTime: at("2026-11-23T01:00:00Z")}}, "2026-01-01T00:00:00Z", 86400, 1, nil, Age{Units: 3}, true},
		{"aws-snapper's snapshot without P_run counts by its start", run, []Snapshot{{ID: "snap-old", State: StateCompleted, StartTime: at("2026-11-23T10:00:00Z")}}, "2026-01-01T00:00:00Z", 86400, 1, nil, Age{Units: 2}, false},
		{"weekly, twice the interval behind is not overdue", run, []Snapshot{done("2026-11-11T03:00:00Z")}, "2026-01-01T00:00:00Z", 86400, 7, nil, Age{Units: 14}, false},
		{"weekly, more than twice behind is overdue", run, []Snapshot{done("2026-11-10T03:00:00Z")}, "2026-01-01T00:00:00Z", 86400, 7, nil, Age{Units: 15}, true},
		{"every 6 hours, 13 hours behind", run, []Snapshot{done("2026-11-24T14:00:00Z")}, "2026-01-01T00:00:00Z", 3600, 6, nil, Age{Units: 13}, true},
		{"never snapshotted, created three days ago", run, nil, "2026-11-22T12:00:00Z", 86400, 1, nil, Age{Units: 3, Never: true}, true},
		{"never snapshotted, created two days ago", run, nil, "2026-11-23T12:00:00Z", 86400, 1, nil, Age{Units: 2, Never: true}, false},
		{"only a pending snapshot, created long ago", run, []Snapshot{with(done("2026-11-24T03:00:00Z"), StatePending)}, "2026-01-01T00:00:00Z", 86400, 1, nil, Age{Units: 328, Never: true}, true},
		{"creation unknown and never snapshotted: not judged", run, nil, "", 86400, 1, nil, Age{Never: true}, false},
		// Daily 01:30 Berlin: Friday 01:30 CET is 00:30Z, Monday 01:30 CEST is Sunday 23:30Z.
		// Three Berlin days, though only two UTC dates apart.
		{"counted in the schedule's calendar", "2026-03-29T23:30:00Z", []Snapshot{done("2026-03-27T00:30:00Z")}, "2026-01-01T00:00:00Z", 86400, 1, berlin, Age{Units: 3}, true},
		{"the same in UTC is two days", "2026-03-29T23:30:00Z", []Snapshot{done("2026-03-27T00:30:00Z")}, "2026-01-01T00:00:00Z", 86400, 1, nil, Age{Units: 2}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var created time.Time
			if tc.created != "" {
				created = at(tc.created)
			}
			s := Schedule{Run: at(tc.run), Interval: tc.interval, Location: tc.loc}
			age, overdue := s.Overdue(tc.snaps, created, tc.every)
			assert.Equal(t, tc.want, age)
			assert.Equal(t, tc.overdue, overdue)
		})
	}
}
